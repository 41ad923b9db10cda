"""The inbox's page queries are served by ix_human_task_inbox_order in their order: no sort step on
either database, whatever the backlog (the planner is told to avoid sorts and full scans, so a plan
with a sort means no index can give the order)."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import defer

from workflows.inbox import inbox_query
from workflows.models import HumanTask, User
from workflows.task_pages import ORDER, Cursor, _after

CM = User(username="cm-BR001", branch_code="BR001", roles="customer_manager")
CURSOR = Cursor(dt.datetime(2026, 12, 5, 1, 0), dt.datetime(2026, 12, 4, 8, 30), "5f0c6a53-0000-4000-8000-000000000000")


def plan(database, statement) -> str:
    compiled = statement.compile(database.engine)
    with database.engine.connect() as conn:
        if database.is_sqlite:
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), tuple(
                compiled.construct_params()[name] for name in compiled.positiontup)).all()
            return "\n".join(str(r[-1]) for r in rows)
        conn.exec_driver_sql("SET enable_seqscan = off")
        conn.exec_driver_sql("SET enable_sort = off")
        rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), compiled.construct_params()).all()
        return "\n".join(r[0] for r in rows)


@pytest.mark.parametrize("page", ["first", "after a cursor", "mine, closed"])
def test_a_page_of_one_branch_and_role_reads_the_index_in_order(database, page):
    filters = {"status": "completed", "mine": True} if page == "mine, closed" else {}
    query = inbox_query(CM, scoped=False, **filters).where(HumanTask.branch_code == "BR001",
                                                          HumanTask.role == "customer_manager")
    if page == "after a cursor":
        query = query.where(_after(CURSOR, database.engine.dialect.name))
    found = plan(database, query.options(defer(HumanTask.context)).order_by(*ORDER).limit(21))
    assert "ix_human_task_inbox_order" in found, found
    assert "TEMP B-TREE" not in found and "Sort" not in found, found
    if page == "after a cursor":
        # The scan starts at the cursor, not at the first row with its due time (tasks due never
        # share one due_sort: walking them all was 16-22 ms at 100k on SQLite).
        assert ("(due_sort,created_at,id)>(?,?,?)" if database.is_sqlite else "ROW(due_sort, created_at") in found, found
