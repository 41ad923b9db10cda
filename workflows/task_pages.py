"""Pages of the inbox that cost the same on page 1 and page 5,000: keyset pagination over the
index ix_human_task_inbox_order (branch, role, status, due_sort, created_at, id).

A page is read per (branch, role) the viewer sees -- each an index range scan that stops after
the page's rows -- and the groups' rows are merged here; a viewer has one or a few such groups
(head office: its roles times the branches that have such tasks). The cursor (`after=`) is the
last row's sort key, opaque to callers. The task data (`context`, sealed JSON) is read only for
the rows of the page, never for the rows an OFFSET skips.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import and_, select, tuple_
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value

from workflows.errors import InvalidInput
from workflows.models import HumanTask

ORDER = (HumanTask.due_sort, HumanTask.created_at, HumanTask.id)


@dataclass(frozen=True, order=True)
class Cursor:
    """Where a page ends: the sort key of its last row."""
    due_sort: dt.datetime
    created_at: dt.datetime
    id: str

    @classmethod
    def of(cls, row: HumanTask) -> "Cursor":
        return cls(row.due_sort, row.created_at, row.id)

    def encode(self) -> str:
        raw = json.dumps([self.due_sort.isoformat(), self.created_at.isoformat(), self.id], separators=(",", ":"))
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> "Cursor":
        try:
            if len(text) > MAX_CURSOR:  # ours are about 120 characters; anything long is not one
                raise ValueError("too long")
            due, created, task_id = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
            if not isinstance(task_id, str):
                raise ValueError(task_id)
            return cls(dt.datetime.fromisoformat(due), dt.datetime.fromisoformat(created), task_id)
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
            raise InvalidInput("after must be a `next` value from an earlier page of this list", field="after")


MAX_CURSOR = 512


def _after(cursor: Cursor, dialect: str):
    """The rows after the cursor, as a row comparison: both databases start the index range scan at
    the cursor's position (an expanded `a > x OR (a = x AND ...)` makes SQLite walk every earlier
    row with the same due_sort -- all the tasks due never, deep in the list: 16-22 ms at 100k)."""
    after = tuple_(*ORDER) > tuple_(cursor.due_sort, cursor.created_at, cursor.id)
    if dialect == "postgresql":
        # PostgreSQL judges a row comparison by its first column alone; deep in the list, among the
        # tasks due never, it guessed "2 rows" and sorted a bitmap scan. The redundant bound gives
        # it a fair estimate; the scan still starts at the row comparison (checked: 5 buffers).
        return and_(HumanTask.due_sort >= cursor.due_sort, after)
    return after  # on SQLite the same bound would become the range and the row comparison a filter


def _sort_key(row: HumanTask) -> tuple:
    return row.due_sort, row.created_at, row.id


def keyset_page(session: Session, query, groups: list[tuple[str, str]], *, after: Cursor | None,
                limit: int) -> tuple[list[HumanTask], Cursor | None]:
    """`query`: select(HumanTask) with the status and the filters but not the viewer's scope;
    `groups`: the (branch, role) pairs the viewer sees. The page's rows in inbox order, and the
    cursor of the next page (None on the last)."""
    dialect = session.get_bind().dialect.name
    rows: list[HumanTask] = []
    for branch, role in groups:
        part = query.where(HumanTask.branch_code == branch, HumanTask.role == role)
        if after is not None:
            part = part.where(_after(after, dialect))
        rows += session.scalars(part.options(defer(HumanTask.context)).order_by(*ORDER).limit(limit + 1)).all()
    rows.sort(key=_sort_key)
    more = len(rows) > limit
    rows = rows[:limit]
    with_context(session, rows)
    return rows, (Cursor.of(rows[-1]) if more and rows else None)


def offset_page(session: Session, query, *, offset: int, limit: int) -> list[HumanTask]:
    """The documented page/per_page: the same order, skipping `offset` rows (cost grows with it)."""
    rows = session.scalars(query.options(defer(HumanTask.context)).order_by(*ORDER).offset(offset).limit(limit)).all()
    with_context(session, rows)
    return rows


def with_context(session: Session, rows: list[HumanTask]) -> None:
    """Read and unseal the task data of these rows only, in one query."""
    missing = [r for r in rows if "context" not in r.__dict__]
    if not missing:
        return
    contexts = dict(session.execute(select(HumanTask.id, HumanTask.context)
                                    .where(HumanTask.id.in_([r.id for r in missing]))).all())
    for row in missing:
        set_committed_value(row, "context", contexts.get(row.id, {}))
