"""The audit trail that cannot be quietly edited: every event row, chained per branch by a keyed hash.

The events stay where they are written — the case trail (`audit_event`: applications, tasks,
processes), administration (`admin_audit`), the customer register's history (`customer_change`),
credit lines' events (`credit_line_event`: granted, frozen, reduced, drawn, expired),
the ledger's postings (`ledger_journal_entry` with its lines), the risk lists' changes and every
deployment (diagrams, decision tables and product files, each by its SHA-256). Writers do not
change and never wait for one another: after they commit, the sealer (a worker job, and
`loanflow audit verify` before it checks) appends one `audit_seal` per new row to its branch's
chain, in batches:

    digest     = SHA-256 of the row's canonical content (its columns; an entry's lines; a deployment's files)
    chain_hash = HMAC(chain key, previous chain_hash | branch | seq | source | source id | digest)

The chain key is derived from LOANFLOW_DATA_KEY, so someone who can write the database but does
not hold the key cannot rebuild a consistent chain after editing it. `verify` walks each branch's
chain: a row changed by hand no longer matches its digest, a removed row is missing, and a removed
or reordered seal breaks the links. It reports the first break.

A row committed late (a transaction holding a lower id than rows already sealed) is still found:
the sealer looks back LATE_COMMIT_MARGIN ids for rows without a seal.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterable

from sqlalchemy import Table, and_, exists, func, insert, literal, select, text
from sqlalchemy.orm import Session

from ledger.tables import JournalEntry, JournalLine
from privacy import keyring_for
from scoring.tables import RiskListChange
from workflows.db import Database
from workflows.models import (HQ, AdminAudit, Application, AuditChainHead, AuditEvent, AuditSeal, CreditLine,
                              CreditLineEvent, Customer, CustomerChange, Deployment, DeploymentFile,
                              ProcessInstance)

BATCH = 2000
LATE_COMMIT_MARGIN = 10_000
GENESIS = "0" * 64
# Serialises sealers on PostgreSQL (several workers): one appends at a time, writers never wait.
ADVISORY_LOCK = 7_302_114


@dataclass(frozen=True)
class Source:
    """A table of events: how to find a row's branch, and what of it is sealed beside its columns."""
    name: str
    table: Table
    branch: Callable[[], tuple]          # () -> (branch column expression, outer joins)
    extra: Callable[[Session, list[int]], dict[int, list]] | None = None


def _no_joins(column):
    return lambda: (column, ())


def _case_branch():
    return (func.coalesce(Application.branch_code, ProcessInstance.branch_code, literal(HQ)),
            ((Application.__table__, Application.id == AuditEvent.application_id),
             (ProcessInstance.__table__, ProcessInstance.id == AuditEvent.instance_id)))


def _customer_branch():
    return (func.coalesce(Customer.branch_code, literal(HQ)),
            ((Customer.__table__, Customer.id == CustomerChange.customer_id),))


def _line_branch():
    return (func.coalesce(CreditLine.branch_code, literal(HQ)),
            ((CreditLine.__table__, CreditLine.id == CreditLineEvent.line_id),))


def _scope_branch():
    return (Deployment.scope, ())


def _journal_lines(session: Session, ids: list[int]) -> dict[int, list]:
    lines: dict[int, list] = {}
    for line in session.execute(select(JournalLine.__table__).where(JournalLine.entry_id.in_(ids))
                                .order_by(JournalLine.id)).mappings():
        lines.setdefault(line["entry_id"], []).append(_canonical(dict(line)))
    return lines


def _deployment_files(session: Session, ids: list[int]) -> dict[int, list]:
    files: dict[int, list] = {}
    query = (select(DeploymentFile.deployment_id, DeploymentFile.name, DeploymentFile.content, DeploymentFile.withdrawn)
             .where(DeploymentFile.deployment_id.in_(ids)).order_by(DeploymentFile.id))
    for deployment_id, name, content, withdrawn in session.execute(query):
        # the content's own hash, not the stored sha256 column: an edited file is caught either way
        sha256 = hashlib.sha256((content or "").encode("utf-8")).hexdigest()
        files.setdefault(deployment_id, []).append([name, sha256, bool(withdrawn)])
    return files


SOURCES = (
    Source("audit_event", AuditEvent.__table__, _case_branch),
    Source("admin_audit", AdminAudit.__table__, _no_joins(AdminAudit.branch_code)),
    Source("customer_change", CustomerChange.__table__, _customer_branch),
    Source("credit_line_event", CreditLineEvent.__table__, _line_branch),
    Source("ledger_journal_entry", JournalEntry.__table__, _no_joins(JournalEntry.branch), _journal_lines),
    Source("scoring_risk_list_change", RiskListChange.__table__, lambda: (literal(HQ), ())),
    Source("deployment", Deployment.__table__, _scope_branch, _deployment_files),
)
BY_NAME = {source.name: source for source in SOURCES}


def _canonical(row: dict) -> dict:
    def value(v):
        if isinstance(v, (dt.datetime, dt.date)):
            return v.isoformat()
        if isinstance(v, Decimal):
            return format(v.normalize(), "f")  # 12.50 and 12.5 are one amount on every backend
        return v
    return {k: value(v) for k, v in row.items()}


def digest_of(source: str, row: dict, extra) -> str:
    document = {"source": source, "row": _canonical(row), "extra": extra}
    return hashlib.sha256(json.dumps(document, sort_keys=True, ensure_ascii=False, default=str)
                          .encode("utf-8")).hexdigest()


def _link(keyring, previous: str, branch: str, seq: int, source: str, source_id: int, digest: str) -> str:
    return keyring.chain_mac(f"{previous}|{branch}|{seq}|{source}|{source_id}|{digest}")


def _rows(session: Session, source: Source, condition, limit: int | None = None) -> list[tuple[int, str, str]]:
    """(id, branch, digest) of the source's rows that meet `condition`, in id order."""
    branch, joins = source.branch()
    selected = source.table
    for table, on in joins:
        selected = selected.outerjoin(table, on)
    query = select(source.table, branch.label("_branch")).select_from(selected).where(condition).order_by(source.table.c.id)
    if limit:
        query = query.limit(limit)
    found = [dict(row) for row in session.execute(query).mappings()]
    extras = source.extra(session, [r["id"] for r in found]) if source.extra and found else {}
    return [(row["id"], row.pop("_branch"), digest_of(source.name, row, extras.get(row["id"], []))) for row in found]


# -- sealing -----------------------------------------------------------------------------------
def seal_pending(session: Session, now: dt.datetime, *, batch: int = BATCH) -> int:
    """Append a seal for up to `batch` unsealed rows of each source; how many were sealed."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
    keyring = keyring_for(session)
    heads = {head.branch_code: head for head in session.scalars(select(AuditChainHead).with_for_update())}
    seals: list[dict] = []
    for source in SOURCES:
        last = session.scalar(select(func.max(AuditSeal.source_id)).where(AuditSeal.source == source.name)) or 0
        unsealed = and_(source.table.c.id > last - LATE_COMMIT_MARGIN,
                        ~exists().where(AuditSeal.source == source.name, AuditSeal.source_id == source.table.c.id))
        for source_id, branch, digest in _rows(session, source, unsealed, batch):
            head = heads.get(branch)
            if head is None:
                head = heads[branch] = AuditChainHead(branch_code=branch, seq=0, chain_hash=GENESIS)
                session.add(head)
            head.seq += 1
            head.chain_hash = _link(keyring, head.chain_hash, branch, head.seq, source.name, source_id, digest)
            seals.append({"branch_code": branch, "seq": head.seq, "source": source.name, "source_id": source_id,
                          "digest": digest, "chain_hash": head.chain_hash, "sealed_at": now})
    if seals:  # one executemany, not an ORM object per row
        session.execute(insert(AuditSeal), seals)
    return len(seals)


def seal_all(db: Database, now: dt.datetime | None = None) -> int:
    """Seal everything not sealed yet, a batch per transaction (the worker's job)."""
    total = 0
    while True:
        with db.unit_of_work() as session:
            sealed = seal_pending(session, now or dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
        total += sealed
        if not sealed:
            return total


# -- verifying ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Break:
    branch: str
    seq: int
    source: str
    source_id: int | None
    reason: str

    def describe(self) -> str:
        row = f"{self.source} row {self.source_id}" if self.source_id is not None else self.source
        return f"branch {self.branch}, link {self.seq} ({row}): {self.reason}"


@dataclass(frozen=True)
class Verification:
    sealed_now: int
    links: int
    heads: dict[str, str]
    broken: Break | None

    @property
    def intact(self) -> bool:
        return self.broken is None


def verify(db: Database, now: dt.datetime | None = None, *, page: int = 5000) -> Verification:
    """Seal what is not sealed yet, then check every branch's chain link by link."""
    sealed_now = seal_all(db, now)
    links = 0
    session = db.read_sessions()
    try:
        keyring = keyring_for(session)
        heads = {h.branch_code: h for h in session.scalars(select(AuditChainHead).order_by(AuditChainHead.branch_code))}
        for branch, head in heads.items():
            previous, seq = GENESIS, 0
            while True:
                seals = list(session.scalars(select(AuditSeal).where(AuditSeal.branch_code == branch, AuditSeal.seq > seq)
                                             .order_by(AuditSeal.seq).limit(page)))
                if not seals:
                    break
                digests = _current_digests(session, seals)
                for seal in seals:
                    links += 1
                    problem = _problem(keyring, seal, seq, previous, digests)
                    if problem:
                        return Verification(sealed_now, links, {}, Break(branch, seal.seq, seal.source, seal.source_id,
                                                                          problem))
                    previous, seq = seal.chain_hash, seal.seq
            if (seq, previous) != (head.seq, head.chain_hash):
                return Verification(sealed_now, links, {}, Break(branch, seq + 1, "audit_seal", None,
                                                                  "the chain ends before its recorded head: "
                                                                  "the last links were removed"))
        return Verification(sealed_now, links, {b: h.chain_hash for b, h in heads.items()}, None)
    finally:
        session.rollback()
        session.close()


def _current_digests(session: Session, seals: Iterable[AuditSeal]) -> dict[tuple[str, int], tuple[str, str]]:
    """(source, id) -> (branch, digest) as the rows read now."""
    wanted: dict[str, list[int]] = {}
    for seal in seals:
        wanted.setdefault(seal.source, []).append(seal.source_id)
    found = {}
    for name, ids in wanted.items():
        source = BY_NAME.get(name)
        if source is None:
            continue
        for source_id, branch, digest in _rows(session, source, source.table.c.id.in_(ids)):
            found[(name, source_id)] = (branch, digest)
    return found


def _problem(keyring, seal: AuditSeal, seq: int, previous: str, digests: dict) -> str | None:
    if seal.seq != seq + 1:
        return f"link {seq + 1} is missing: a seal was removed"
    if _link(keyring, previous, seal.branch_code, seal.seq, seal.source, seal.source_id, seal.digest) != seal.chain_hash:
        return "the link does not follow from the one before: the seals were changed or reordered"
    current = digests.get((seal.source, seal.source_id))
    if current is None:
        return "the row was removed"
    if current[1] != seal.digest:
        return "the row was changed after it was sealed"
    return None
