"""Risk lists (blacklist, graylist, AML list): list, add, remove, audit, and snapshots for checks.

Functions take the caller's session and never commit: the caller's unit of work owns the
transaction, so an API request's change and its audit row commit together or not at all.

ID numbers are stored sealed with their keyed hash beside them (privacy); every look-up is an
exact match on the hash, with the keyring of the session's engine. Entries are addressed by
their surrogate `id`, so no ID number needs to travel in a URL; views show it masked.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from privacy import keyring_for, mask_id_number
from scoring.errors import RiskListEntryExists, RiskListEntryNotFound, RiskListError, UnknownRiskList
from scoring.risk import RiskLists
from scoring.tables import RiskListChange, RiskListEntry

LIST_NAMES = ("blacklist", "graylist", "aml")


@dataclass(frozen=True)
class Entry:
    id: int
    list_name: str
    id_number: str
    reason: str
    added_by: str
    added_at: datetime

    def as_dict(self) -> dict:
        return {"id": self.id, "list": self.list_name, "id_number": mask_id_number(self.id_number),
                "reason": self.reason, "added_by": self.added_by, "added_at": self.added_at.isoformat()}


@dataclass(frozen=True)
class Change:
    list_name: str
    id_number: str
    action: str
    reason: str
    actor: str
    at: datetime

    def as_dict(self) -> dict:
        return {"list": self.list_name, "id_number": mask_id_number(self.id_number), "action": self.action,
                "reason": self.reason, "actor": self.actor, "at": self.at.isoformat()}


def _hash(session: Session, id_number: str) -> str:
    return keyring_for(session).lookup_hash(id_number)


def _check_name(name: str) -> None:
    if name not in LIST_NAMES:
        raise UnknownRiskList(f"no risk list {name!r} (lists: {', '.join(LIST_NAMES)})", field="name")


def _required(value: str | None, field: str, limit: int) -> str:
    value = (value or "").strip()
    if not value:
        raise RiskListError("is required", field=field, code="invalid_risk_list_entry")
    if len(value) > limit:
        raise RiskListError(f"is longer than {limit} characters", field=field, code="invalid_risk_list_entry")
    return value


def _entry(row: RiskListEntry) -> Entry:
    return Entry(row.id, row.list_name, row.id_number, row.reason, row.added_by, row.added_at)


def list_entries(session: Session, name: str, *, id_number: str | None = None,
                 limit: int = 100, offset: int = 0) -> tuple[list[Entry], int]:
    """One page of a list's entries, newest first, and the total count; with `id_number`, the
    entry of exactly that person (by keyed hash)."""
    _check_name(name)
    query = select(RiskListEntry).where(RiskListEntry.list_name == name)
    count_query = select(func.count()).select_from(RiskListEntry).where(RiskListEntry.list_name == name)
    if id_number:
        digest = _hash(session, id_number)
        query = query.where(RiskListEntry.id_number_hash == digest)
        count_query = count_query.where(RiskListEntry.id_number_hash == digest)
    rows = session.scalars(query.order_by(RiskListEntry.added_at.desc(), RiskListEntry.id.desc())
                           .limit(limit).offset(offset)).all()
    return [_entry(row) for row in rows], session.scalar(count_query)


def add_entry(session: Session, name: str, id_number: str, *, reason: str, actor: str,
              at: datetime | None = None) -> Entry:
    _check_name(name)
    id_number = _required(id_number, "id_number", 32)
    reason = _required(reason, "reason", 500)
    actor = _required(actor, "added_by", 64)
    at = at or datetime.now(timezone.utc)
    digest = _hash(session, id_number)
    row = RiskListEntry(list_name=name, id_number=id_number, id_number_hash=digest, reason=reason,
                        added_by=actor, added_at=at)
    try:
        # A savepoint, so a concurrent duplicate add fails alone instead of poisoning the caller's
        # transaction; the unique constraint, not the pre-check, is what guarantees one entry.
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        raise RiskListEntryExists(f"{mask_id_number(id_number)} is already on the {name}",
                                  field="id_number") from None
    session.add(RiskListChange(list_name=name, id_number=id_number, id_number_hash=digest, action="add",
                               reason=reason, actor=actor, at=at))
    session.flush()
    return _entry(row)


def remove_entry(session: Session, name: str, entry_id: int, *, reason: str, actor: str,
                 at: datetime | None = None) -> Entry:
    """Remove the entry with this surrogate id from the list; returns what was removed."""
    _check_name(name)
    reason = _required(reason, "reason", 500)
    actor = _required(actor, "removed_by", 64)
    row = session.scalar(select(RiskListEntry).where(RiskListEntry.list_name == name,
                                                     RiskListEntry.id == entry_id).with_for_update())
    if row is None:
        raise RiskListEntryNotFound(f"there is no entry {entry_id} on the {name}", field="entry_id")
    session.delete(row)  # locked above, so nobody removed it in between
    session.add(RiskListChange(list_name=name, id_number=row.id_number, id_number_hash=row.id_number_hash,
                               action="remove", reason=reason, actor=actor, at=at or datetime.now(timezone.utc)))
    session.flush()
    return _entry(row)


def history(session: Session, name: str, id_number: str | None = None) -> list[Change]:
    """The audit trail of a list (or of one person on it), oldest first."""
    _check_name(name)
    query = select(RiskListChange).where(RiskListChange.list_name == name)
    if id_number:
        query = query.where(RiskListChange.id_number_hash == _hash(session, id_number))
    rows = session.scalars(query.order_by(RiskListChange.at, RiskListChange.id)).all()
    return [Change(r.list_name, r.id_number, r.action, r.reason, r.actor, r.at) for r in rows]


def lists_for(session: Session, id_numbers: Iterable[str]) -> RiskLists:
    """A snapshot of every list's entries for these people (applicant, guarantors) for check_risk."""
    wanted = sorted({number for number in id_numbers if number})
    found: dict[str, dict[str, str]] = {name: {} for name in LIST_NAMES}
    if wanted:
        keyring = keyring_for(session)
        by_hash = {keyring.lookup_hash(number): number for number in wanted}
        rows = session.execute(select(RiskListEntry.list_name, RiskListEntry.id_number_hash, RiskListEntry.reason)
                               .where(RiskListEntry.id_number_hash.in_(list(by_hash)))).all()
        for list_name, digest, reason in rows:
            found.setdefault(list_name, {})[by_hash[digest]] = reason
    return RiskLists(found)
