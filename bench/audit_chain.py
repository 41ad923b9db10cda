"""Audit chain benchmark: `python bench/audit_chain.py [--events N] [--database URL]`.

Writes N case events (audit_event rows spread over 20 branches' applications) in bulk, then seals
them into the branches' chains (workflows.audit_chain.seal_all, batches of 2,000) and verifies
every link (`verify`, as `loanflow audit verify` does). Prints rows/s for each and, as the same-run
baseline, the rows/s of the bulk insert itself: sealing's ratio to writing says what the chain
costs on top of the trail. The writers never wait on it (it runs after they commit).

SQLite in a temporary file by default; --database URL names a PostgreSQL server (a fresh database
is created there and dropped afterwards).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import tracemalloc
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench.databases import bench_database  # noqa: E402

BRANCHES = 20
DATA_KEY = "62656e6368206f6e6c793a20617564697420636861696e2062656e6368212121"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=50_000, help="audit events to write, seal and verify")
    parser.add_argument("--memory", action="store_true", help="also trace peak memory (slows Python down)")
    parser.add_argument("--database", default=None, help="a PostgreSQL server URL (default: SQLite in a temp file)")
    args = parser.parse_args()

    import sqlalchemy as sa

    from privacy import Keyring
    from workflows import audit_chain
    from workflows.db import Database
    from workflows.models import Application, AuditEvent, Branch
    from workflows.schema import upgrade
    from workflows.seed import seed_reference_data

    with bench_database(args.database) as (url, kind, description):
        db = Database(url, keyring=Keyring.from_setting(DATA_KEY))
        upgrade(db.engine)
        now = dt.datetime(2026, 12, 4, 8, 0)
        applications = []
        with db.unit_of_work() as session:
            seed_reference_data(session)  # the products an application names
            for b in range(BRANCHES):
                code = f"B{b:03d}"
                session.add(Branch(code=code, name=code, region="bench", tier1_capital_net=1, is_hq=False))
            session.flush()
        with db.engine.begin() as connection:
            for b in range(BRANCHES):
                app_id = str(uuid.uuid4())
                applications.append(app_id)
                connection.execute(sa.insert(Application.__table__).values(
                    id=app_id, branch_code=f"B{b:03d}", product_code="FARM_EASY", status="in_review", stage="review",
                    created_at=now, updated_at=now, **_application_defaults(Application)))
        rows = [{"application_id": applications[i % BRANCHES], "instance_id": None, "at": now, "actor": "bench",
                 "event": "task_completed", "detail": {"task": f"review {i}", "decision": "approve"}}
                for i in range(args.events)]
        started = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(sa.insert(AuditEvent.__table__), rows)
        insert_s = time.perf_counter() - started

        tracemalloc.start() if args.memory else None
        started = time.perf_counter()
        sealed = audit_chain.seal_all(db, now)
        seal_s = time.perf_counter() - started
        started = time.perf_counter()
        result = audit_chain.verify(db, now)
        verify_s = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1] if args.memory else 0
        tracemalloc.stop() if args.memory else None
        db.dispose()
    assert result.intact, result.broken
    print(f"database: {description}; cpu_count {os.cpu_count()}")
    print(f"events: {args.events} in {BRANCHES} branches; sealed {sealed}, verified {result.links} links")
    print(f"bulk insert (baseline): {args.events / insert_s:,.0f} rows/s ({insert_s:.2f} s)")
    print(f"seal:                   {sealed / seal_s:,.0f} rows/s ({seal_s:.2f} s)  ratio to insert {insert_s / seal_s:.2f}")
    print(f"verify:                 {result.links / verify_s:,.0f} links/s ({verify_s:.2f} s)  ratio to insert "
          f"{insert_s / verify_s:.2f}")
    if args.memory:
        print(f"peak traced memory while sealing and verifying: {peak / 1e6:.1f} MB")
    return 0


def _application_defaults(model) -> dict:
    """The application table's other NOT NULL columns, with placeholder values for the bench."""
    import sqlalchemy as sa

    values = {}
    for column in model.__table__.columns:
        if column.nullable or column.default is not None or column.server_default is not None or column.primary_key:
            continue
        if column.name in ("branch_code", "product_code", "status", "stage", "created_at", "updated_at"):
            continue
        python_type = column.type.python_type if not isinstance(column.type, sa.JSON) else dict
        values[column.name] = {str: "bench", int: 0, dict: {}, bool: False}.get(python_type, None)
        if values[column.name] is None:
            import decimal
            values[column.name] = decimal.Decimal("0") if python_type is decimal.Decimal else dt.datetime(2026, 1, 1)
    return values


if __name__ == "__main__":
    raise SystemExit(main())
