"""The inbox with a large backlog: open and closed tasks in one branch, on SQLite or PostgreSQL.

    .venv/bin/python bench/inbox.py [--open 2000] [--closed 10000] [--database sqlite|postgresql|URL]
                                    [--requests 100]

On a fresh database with the demo data (a SQLite file in a temporary folder; `postgresql`: a new
database on LOANFLOW_BENCH_POSTGRES_URL, default postgresql+psycopg://postgres@127.0.0.1:5432/postgres,
dropped afterwards; or any URL bench/databases.py takes): one real application waiting for the
customer manager, then --open open and --closed closed (completed/cancelled) tasks of BR001's
customer managers copied from its row, inserted in bulk (sqlite3 executemany / PostgreSQL COPY),
with varied amounts, customers, due times (some never due) and claims; the counts are rebuilt
from the rows and the tables analysed (PostgreSQL: VACUUM ANALYZE), as a live database's would be.

Times, in process through the Flask app (server time, no network), --requests each: the API's
first page, a deep page by cursor (`after=`, 90 % down the list) and the same page by OFFSET
(`page=`) for comparison, an amount filter, the closed tasks' first page, the reviewers' page
(unclaimed tab with every tab's count) and its customer filter; the previous implementation's
query (ORDER BY due_at IS NULL, due_at, created_at with OFFSET and a full count) run directly;
and as the baseline GET /api/v1/applications/{id}, a primary-key read through the same stack.
Prints p50/p95/p99 and each p50 as a ratio to the baseline's. Goal (issue 13): p95 <= 10 ms for
page 1 and a deep page at --open 100000 --closed 1000000 on both databases.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
CLAIMERS = ("cm-BR001", "cm7-BR001", "cm8-BR001", "cm9-BR001")
CHUNK = 20_000


def percentiles(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, int(round(len(ordered) * share)) - 1))] * 1e3
    return statistics.median(ordered) * 1e3, at(0.95), at(0.99)


def timed(call, rounds: int) -> list[float]:
    samples = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def getter(client, path: str, headers: dict | None):
    def get():
        response = client.get(path, headers=headers or {})
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}: {response.get_data(as_text=True)[:300]}")
        return response
    return get


def generated_rows(template: dict, count: int, *, closed: bool, now: dt.datetime, start: int):
    """`count` task rows like `template`: open (mostly unclaimed, some claimed) or closed."""
    for i in range(start, start + count):
        due = None if i % 10 < 3 else now + dt.timedelta(minutes=(i * 37) % 6000 - 1000)
        created = now - dt.timedelta(seconds=i)
        row = dict(template, id=str(uuid.uuid4()), amount=Decimal(10_000 + (i * 7919) % 990_000),
                   customer_name=f"客户{i % 100_000:05d}", due_at=due, due_sort=due or dt.datetime(9999, 12, 31),
                   created_at=created, assignee=None, application_id=None, status="open", completed_at=None, completed_by=None,
                   decision=None)
        if closed:
            who = CLAIMERS[i % len(CLAIMERS)]
            row.update(status="cancelled" if i % 10 == 0 else "completed", assignee=who,
                       completed_at=created + dt.timedelta(hours=2), completed_by=who,
                       decision=None if i % 10 == 0 else "approve")
        elif i % 10 == 9:
            row["assignee"] = CLAIMERS[(i // 10) % len(CLAIMERS)]
        yield row


def bulk_insert(engine, columns: list[str], rows) -> None:
    """Rows as the ORM would store them, without the ORM: `context` is already sealed text."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cursor, cursor.copy(f"COPY human_task ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[c] for c in columns])
            raw.commit()
        finally:
            raw.close()
        return
    # SQLite: the text SQLAlchemy's DateTime stores, so range comparisons with its parameters hold.
    def stored(value):
        if isinstance(value, dt.datetime):
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        if isinstance(value, Decimal):
            return str(value)
        return value
    statement = f"INSERT INTO human_task ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        batch = []
        for row in rows:
            batch.append([stored(row[c]) for c in columns])
            if len(batch) >= CHUNK:
                cursor.executemany(statement, batch)
                batch = []
        if batch:
            cursor.executemany(statement, batch)
        cursor.execute("COMMIT")
    finally:
        raw.close()


def explain(engine, addresses) -> None:
    """The plan of every statement on human_task that each address runs (once, untimed)."""
    from sqlalchemy import event

    seen: list = []

    def record(_conn, _cursor, statement, parameters, _context, _many):
        if "FROM human_task" in statement and statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))
    event.listen(engine, "before_cursor_execute", record)
    try:
        plans = []
        for name, call in addresses:
            seen.clear()
            call()
            plans.append((name, list(seen)))
    finally:
        event.remove(engine, "before_cursor_execute", record)
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        for name, statements in plans:
            print(f"plan of {name}:")
            for statement, parameters in statements:
                rows = conn.exec_driver_sql(prefix + statement, parameters).all()
                print("   ", " | ".join(str(r[-1]) for r in rows[:6]))


def database_argument(value: str) -> str | None:
    if value == "sqlite":
        return None
    if value == "postgresql":
        return os.environ.get("LOANFLOW_BENCH_POSTGRES_URL", DEFAULT_POSTGRES)
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--open", type=int, default=2_000, help="open tasks in BR001 (default 2000)")
    parser.add_argument("--closed", type=int, default=10_000, help="completed or cancelled tasks in BR001 (default 10000)")
    parser.add_argument("--database", default="sqlite", type=database_argument,
                        help="sqlite (default), postgresql (LOANFLOW_BENCH_POSTGRES_URL or "
                             f"{DEFAULT_POSTGRES}), or a database URL as bench/databases.py takes")
    parser.add_argument("--requests", type=int, default=100, help="timed requests per address (default 100)")
    parser.add_argument("--explain", action="store_true", help="print the database's plan of each inbox query")
    args = parser.parse_args()

    import sqlalchemy as sa

    from bench.databases import bench_database
    from tests.web.journeys import example
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import open_services
    from workflows import task_counts
    from workflows.models import HumanTask
    from workflows.task_pages import Cursor

    print(f"cpu_count {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    with bench_database(args.database) as (database_url, kind, description):
        print(f"database {kind}: {description}")
        settings = Settings(database_url=database_url, data_key="00" * 32,
                            secret_key="bench-only-signing-key-0123456789abcdef", bpmn_dir=PROJECT_ROOT / "bpmn",
                            secure_cookies=False, integrator_requests_per_minute=10 ** 9)  # the server, not the limit
        services = open_services(settings)
        try:
            services.seed_demo()
            app = create_app(settings, services=services)
            client = app.test_client()
            integrator = client.post("/api/v1/auth/token", json={"username": "api-demo", "password": "demo"}).get_json()
            api_headers = {"Authorization": f"Bearer {integrator['token']}"}
            response = client.post("/api/v1/applications", json=example("application-review.json"),
                                   headers={**api_headers, "Idempotency-Key": str(uuid.uuid4())})
            assert response.status_code == 201, response.get_json()
            application_id = response.get_json()["id"]

            started = time.perf_counter()
            engine = services.db.engine
            columns = [c.name for c in HumanTask.__table__.columns]
            with services.db.sessions() as session:
                model = session.scalar(sa.select(HumanTask).where(HumanTask.status == "open"))
                template = {c.name: getattr(model, c.key) for c in HumanTask.__table__.columns}
            with engine.connect() as conn:  # the sealed context as stored: copied, not sealed a million times
                template["context"] = conn.execute(sa.text("SELECT context FROM human_task WHERE id = :id"),
                                                   {"id": template["id"]}).scalar_one()
            now = dt.datetime.utcnow().replace(microsecond=0)
            bulk_insert(engine, columns, generated_rows(template, args.open, closed=False, now=now, start=1))
            bulk_insert(engine, columns, generated_rows(template, args.closed, closed=True, now=now,
                                                        start=args.open + 1))
            with services.db.unit_of_work() as session:
                task_counts.rebuild(session)
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                # What autovacuum does to a settled PostgreSQL table (statistics, visibility map).
                conn.execute(sa.text("VACUUM ANALYZE" if kind == "postgresql" else "ANALYZE"))
            print(f"inserted {args.open} open and {args.closed} closed tasks in BR001, counted and analysed (PostgreSQL: vacuumed), "
                  f"in {time.perf_counter() - started:.1f} s")

            cm = client.post("/api/v1/auth/token", json={"username": "cm-BR001", "password": "demo"}).get_json()
            bearer = {"Authorization": f"Bearer {cm['token']}"}
            login = client.get("/login").get_data(as_text=True)
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', login).group(1)
            assert client.post("/login", data={"username": "cm-BR001", "password": "demo",
                                               "csrf_token": csrf}).status_code == 302

            # The cursor of the row 90 % down the caller's open inbox, and the same page by number.
            with services.db.sessions() as session:
                visible = (HumanTask.branch_code == "BR001", HumanTask.role == "customer_manager",
                           HumanTask.status == "open",
                           sa.or_(HumanTask.assignee.is_(None), HumanTask.assignee == "cm-BR001"))
                mine = session.scalar(sa.select(sa.func.count()).where(*visible))
                deep_page = max(2, int(mine * 0.9) // 20)
                row = session.execute(sa.select(HumanTask.due_sort, HumanTask.created_at, HumanTask.id)
                                      .where(*visible).order_by(HumanTask.due_sort, HumanTask.created_at, HumanTask.id)
                                      .offset((deep_page - 1) * 20 - 1).limit(1)).one()
            cursor = Cursor(*row).encode()

            def old_query():
                # The inbox before this change: no index for the order, OFFSET pages, a full count.
                with services.db.read_sessions() as session:
                    query = sa.select(HumanTask).where(*visible)
                    session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
                    session.scalars(query.order_by(HumanTask.due_at.is_(None), HumanTask.due_at, HumanTask.created_at)
                                    .offset(0).limit(20)).all()

            addresses = [
                ("GET /applications/{id} (baseline)", getter(client, f"/api/v1/applications/{application_id}", api_headers)),
                ("GET /tasks page 1", getter(client, "/api/v1/tasks?per_page=20", bearer)),
                (f"GET /tasks deep, after= (page {deep_page})", getter(client, f"/api/v1/tasks?per_page=20&after={cursor}", bearer)),
                (f"GET /tasks deep, page={deep_page}", getter(client, f"/api/v1/tasks?per_page=20&page={deep_page}", bearer)),
                ("GET /tasks amount filter", getter(client, "/api/v1/tasks?min_amount=100000&max_amount=800000", bearer)),
                ("GET /tasks closed page 1", getter(client, "/api/v1/tasks?status=completed", bearer)),
                ("GET /inbox/list unclaimed tab", getter(client, "/inbox/list?tab=unclaimed", None)),
                ("GET /inbox/list customer filter", getter(client, "/inbox/list?tab=unclaimed&customer=客户01", None)),
                ("previous query: count + page 1", old_query),
            ]
            for _, call in addresses:  # warm the caches (specs, users, the database's pages) before timing
                timed(call, 3)
            if args.explain:
                explain(engine, addresses)
            results = [(name, percentiles(timed(call, args.requests))) for name, call in addresses]
        finally:
            services.db.dispose()
    baseline = results[0][1][0]
    for name, (p50, p95, p99) in results:
        print(f"{name:<38} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  p99 {p99:7.2f} ms  "
              f"ratio to baseline p50 {p50 / baseline:5.2f}")
    goal = {name: p95 for name, (_, p95, _) in results[1:3]}
    print("goal p95 <= 10 ms for page 1 and a deep page: "
          + ", ".join(f"{name.split(' (')[0]} {p95:.2f} ms {'met' if p95 <= 10 else 'NOT met'}"
                      for name, p95 in goal.items()))


if __name__ == "__main__":
    main()
