"""Exact inbox counts that do not grow with the backlog: human_task_count holds, per inbox key
(branch, role, status, assignee, process, product), how many human_task rows have it.

Every writer of human_task rows goes through the ORM (inbox.sync_inbox creates and cancels,
processes.claim / unclaim / reassign / complete change assignee and status, tests set due times),
so one flush listener keeps the counts: before a flush it reads each new, changed or deleted task
row's key before and after, and after the flush's own statements it adds the differences with an
upsert on the same connection -- the same transaction, so a rollback takes both back. Bulk Core
inserts (the bench) bypass the ORM and call `rebuild` afterwards.

The listener also keeps `due_sort` equal to `due_at` (or DUE_NEVER) for the inbox's index.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Callable, Iterable

from sqlalchemy import delete, event, inspect, select, text
from sqlalchemy.orm import Session

from workflows.models import DUE_NEVER, HQ, HumanTask, HumanTaskCount, User

KEY_FIELDS = ("branch_code", "role", "status", "assignee", "process_id", "product_code")
_PENDING = "loanflow_task_count_deltas"


@dataclass(frozen=True, order=True)
class CountKey:
    branch_code: str
    role: str
    status: str
    assignee: str  # '' when unclaimed
    process_id: str
    product_code: str


def _key(values: dict) -> CountKey:
    return CountKey(values["branch_code"], values["role"], values["status"] or "open", values["assignee"] or "",
                    values["process_id"] or "", values["product_code"] or "")


def _current(row: HumanTask) -> dict:
    return {name: getattr(row, name) for name in KEY_FIELDS}


def _before(row: HumanTask) -> dict:
    """The key's values as the database holds them now (before this flush)."""
    state = inspect(row)
    values = {}
    for name in KEY_FIELDS:
        history = state.attrs[name].history
        values[name] = history.deleted[0] if history.deleted else getattr(row, name)
    return values


@event.listens_for(Session, "before_flush")
def _collect(session: Session, _context, _instances) -> None:
    deltas: Counter = session.info.setdefault(_PENDING, Counter())
    for row in session.new:
        if isinstance(row, HumanTask):
            _sort_key(row)
            deltas[_key(_current(row))] += 1
    for row in session.dirty:
        if isinstance(row, HumanTask) and session.is_modified(row):
            _sort_key(row)
            before, after = _key(_before(row)), _key(_current(row))
            if before != after:
                deltas[before] -= 1
                deltas[after] += 1
    for row in session.deleted:
        if isinstance(row, HumanTask):
            deltas[_key(_before(row))] -= 1


def _sort_key(row: HumanTask) -> None:
    due_sort = row.due_at or DUE_NEVER
    if row.due_sort != due_sort:
        row.due_sort = due_sort


@event.listens_for(Session, "after_flush")
def _apply(session: Session, _context) -> None:
    deltas: Counter | None = session.info.pop(_PENDING, None)
    changes = sorted((key, n) for key, n in (deltas or {}).items() if n)
    if not changes:
        return
    connection = session.connection()
    # In key order, so two transactions touching the same counts lock them in the same order.
    for key, n in changes:
        connection.execute(_upsert(connection.dialect.name), dict(vars(key), n=n))


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _upsert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert
    statement = upsert(HumanTaskCount)
    return statement.on_conflict_do_update(index_elements=[getattr(HumanTaskCount, f) for f in KEY_FIELDS],
                                           set_={"n": HumanTaskCount.n + statement.excluded.n})


def rebuild(session: Session) -> None:
    """The counts from the rows themselves: after bulk inserts that bypass the ORM."""
    session.execute(delete(HumanTaskCount))
    session.execute(text("""
        INSERT INTO human_task_count (branch_code, role, status, assignee, process_id, product_code, n)
        SELECT branch_code, role, status, COALESCE(assignee, ''), COALESCE(process_id, ''),
               COALESCE(product_code, ''), COUNT(*)
        FROM human_task
        GROUP BY branch_code, role, status, COALESCE(assignee, ''), COALESCE(process_id, ''),
                 COALESCE(product_code, '')"""))


def from_rows(session: Session) -> dict[CountKey, int]:
    """What the counts must be: a full COUNT(*) of human_task (for tests and checks, not pages)."""
    rows = session.execute(text("""
        SELECT branch_code, role, status, COALESCE(assignee, ''), COALESCE(process_id, ''),
               COALESCE(product_code, ''), COUNT(*)
        FROM human_task
        GROUP BY branch_code, role, status, COALESCE(assignee, ''), COALESCE(process_id, ''),
                 COALESCE(product_code, '')""")).all()
    return {CountKey(*r[:6]): r[6] for r in rows}


def maintained(session: Session) -> dict[CountKey, int]:
    return {CountKey(*(getattr(c, f) for f in KEY_FIELDS)): c.n
            for c in session.scalars(select(HumanTaskCount).where(HumanTaskCount.n != 0))}


# -- reading: a viewer's counts -------------------------------------------------------------------
def visible_counts(session: Session, user: User, status: str, *, role: str | None = None,
                   process: str | None = None, product: str | None = None) -> list[HumanTaskCount]:
    """The count rows of the tasks `user` sees (inbox.visible_to) with this status."""
    roles = sorted(r for r in user.role_set if user.branch_code != HQ or r.startswith("hq_"))
    if role is not None:
        roles = [r for r in roles if r == role]
    if not roles:
        return []
    query = select(HumanTaskCount).where(HumanTaskCount.status == status, HumanTaskCount.role.in_(roles),
                                         HumanTaskCount.n > 0)
    if user.branch_code != HQ:
        query = query.where(HumanTaskCount.branch_code == user.branch_code)
    if process is not None:
        query = query.where(HumanTaskCount.process_id == process)
    if product is not None:
        query = query.where(HumanTaskCount.product_code == product)
    return list(session.scalars(query))


def total(rows: Iterable[HumanTaskCount], who: Callable[[HumanTaskCount], bool] = lambda _: True) -> int:
    return sum(r.n for r in rows if who(r))


def owned_by(user: User, delegations=()) -> Callable[[HumanTaskCount], bool]:
    """The count rows of tasks that are the user's: claimed by them, or by a colleague who
    delegates those tasks to them now (the same rule as delegation.delegated_tasks)."""
    def owned(row: HumanTaskCount) -> bool:
        return row.assignee == user.username or any(
            row.assignee == d.delegator and row.branch_code == d.branch_code and row.role in d.role_set
            for d in delegations)
    return owned


def unclaimed(row: HumanTaskCount) -> bool:
    return row.assignee == ""
