"""End-of-day batch benchmark: `python bench/eod.py [--loans N] [--postgres-url URL]`.

Builds N active 12-month equal-principal loans spread over 50 branches and a year of start dates
(2 % of them with an unpaid installment, so penalty, aging and reclassification have work), runs
the batch for one business date, then bulk-inserts the same number of journal lines with the
driver's executemany in one transaction. Prints seconds, journal lines/s and the ratio
EOD time / bulk-insert time (how close the batch is to the cost of just writing its lines).

SQLite runs in a temporary file; with --database URL (a PostgreSQL server) the same run happens
in a fresh database created on that server and dropped afterwards; with --postgres-url in that
(empty) database, left as it is. The data is generated set-based (INSERT … SELECT), not through the ledger API.
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402

from ledger.books import ensure_chart  # noqa: E402
from ledger.eod import run_eod  # noqa: E402
from ledger.errors import BusinessDateClosed  # noqa: E402
from ledger.schedules import add_months  # noqa: E402
from workflows.db import make_engine  # noqa: E402
from workflows.schema import upgrade  # noqa: E402

BUSINESS_DATE = date(2025, 1, 10)
BRANCHES = 50
TERM = 12


def start_dates() -> list[date]:
    """Start dates over the year before the business date (one per day of 336 days)."""
    first = BUSINESS_DATE - timedelta(days=340)
    return [first + timedelta(days=k) for k in range(336)]


INSTALLMENT_INDEXES = ("ix_ledger_installment_loan", "ix_ledger_installment_accruing", "ix_ledger_installment_unsettled")


def build(engine: sa.Engine, loans: int) -> None:
    starts = start_dates()
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:
        @sa.event.listens_for(engine, "connect")
        def _big_cache(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA cache_size = -2000000")
        engine.dispose()
    with engine.begin() as conn:
        # Loading is quicker without the secondary indexes; they are rebuilt afterwards.
        for name in INSTALLMENT_INDEXES:
            conn.execute(sa.text(f"DROP INDEX {name}"))
        conn.execute(sa.text("CREATE TABLE bench_seq (n INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("CREATE TABLE bench_due (s INTEGER, k INTEGER, period_start DATE, due_date DATE, "
                             "from_day INTEGER, due_day INTEGER, PRIMARY KEY (s, k))"))
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("INSERT INTO bench_seq SELECT generate_series(1, :n)"), {"n": loans})
        else:
            conn.execute(sa.text(
                "WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n) "
                "INSERT INTO bench_seq SELECT n FROM seq"), {"n": loans})
        rows = []
        for s, start in enumerate(starts):
            for k in range(1, TERM + 1):
                ps, due = add_months(start, k - 1), add_months(start, k)
                rows.append({"s": s, "k": k, "ps": ps, "due": due, "f": ps.toordinal(), "d": due.toordinal()})
        conn.execute(sa.text("INSERT INTO bench_due VALUES (:s, :k, :ps, :due, :f, :d)"), rows)
    with engine.begin() as conn:
        from sqlalchemy.orm import Session

        with Session(bind=conn) as session:
            for b in range(BRANCHES):
                ensure_chart(session, f"B{b:03d}")
            session.flush()
    bd = BUSINESS_DATE.toordinal()
    n_starts = len(starts)
    with engine.begin() as conn:
        # principal 12,000 + 1,200 × (n mod 90): divisible by 12, so each installment is exact.
        conn.execute(sa.text(f"""
            INSERT INTO ledger_loan_account (id, loan_number, branch, customer_id, product_code, principal,
                annual_rate, penalty_rate, term_months, method, frequency, day_count, start_date, maturity_date,
                deposit_account, status, classification, days_past_due, principal_outstanding,
                interest_receivable, penalty_receivable, schedule_version, accrued_through_day)
            SELECT q.n, 'BENCH' || q.n, 'B' || SUBSTR(CAST(1000 + q.n % {BRANCHES} AS VARCHAR(8)), 2, 3),
                   'C' || q.n, 'AGRI', 12000 + 1200 * (q.n % 90), 0.0435, 0.06525, {TERM}, 'equal_principal',
                   'monthly', '30/360', d1.period_start, d12.due_date, 'D' || q.n, 'active', 'normal', 0,
                   0, 0, 0, 1, :bd - 1
            FROM bench_seq q
            JOIN bench_due d1 ON d1.s = q.n % {n_starts} AND d1.k = 1
            JOIN bench_due d12 ON d12.s = q.n % {n_starts} AND d12.k = {TERM}
        """), {"bd": bd})
        # Installments due before the business date are paid, except the latest one of every
        # 50th loan (overdue).
        conn.execute(sa.text(f"""
            INSERT INTO ledger_loan_installment (loan_id, version, active, number, period_start, due_date,
                due_day, principal, interest, principal_paid, interest_paid, remaining_balance,
                accrual_base, accrual_amount, accrual_from_day, accrual_open, settled)
            SELECT x.n, 1, TRUE, x.k, x.period_start, x.due_date, x.due_day, x.pp, x.interest,
                   CASE WHEN x.paid THEN x.pp ELSE 0 END, CASE WHEN x.paid THEN x.interest ELSE 0 END,
                   x.p - x.pp * x.k, 0, x.interest,
                   x.from_day, x.due_day >= :bd, x.paid
            FROM (
                SELECT q.n, d.k, d.period_start, d.due_date, d.due_day, d.from_day,
                       12000 + 1200 * (q.n % 90) AS p, 1000 + 100 * (q.n % 90) AS pp,
                       ROUND((12000 + 1200 * (q.n % 90) - (1000 + 100 * (q.n % 90)) * (d.k - 1)) * 0.0435 / 12, 2)
                           AS interest,
                       (d.due_day < :bd AND NOT (q.n % 50 = 0 AND d.due_day >= :bd - 31)) AS paid
                FROM bench_seq q JOIN bench_due d ON d.s = q.n % {n_starts}
            ) x
        """), {"bd": bd})
        conn.execute(sa.text("""
            UPDATE ledger_loan_account SET principal_outstanding = s.outstanding
            FROM (SELECT loan_id, SUM(principal - principal_paid) AS outstanding FROM ledger_loan_installment
                  GROUP BY loan_id) s
            WHERE s.loan_id = ledger_loan_account.id
        """))
        conn.execute(sa.text("DROP TABLE bench_seq"))
        conn.execute(sa.text("DROP TABLE bench_due"))
    with engine.begin() as conn:
        from ledger.tables import LoanInstallment

        for index in LoanInstallment.__table__.indexes:
            index.create(conn)
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))
        sa.event.remove(engine, "connect", _big_cache)
        engine.dispose()


def time_eod(engine: sa.Engine) -> tuple[float, int]:
    started = time.perf_counter()
    with engine.begin() as conn:
        result = run_eod(conn, BUSINESS_DATE)
    return time.perf_counter() - started, result


def time_bulk_insert(engine: sa.Engine, lines: int) -> float:
    with engine.begin() as conn:
        entry_id = conn.execute(sa.text(
            "INSERT INTO ledger_journal_entry (branch, posting_key, business_date, kind, description) "
            "VALUES ('B000', 'bench:bulk', :d, 'bench', 'bulk insert baseline') RETURNING id"),
            {"d": BUSINESS_DATE}).scalar_one()
        account = conn.execute(sa.text(
            "SELECT id FROM ledger_account WHERE branch = 'B000' AND code = 'interest_receivable'")).scalar_one()
    rows = [(entry_id, account, (i % 1000) + 1, f"{(i % 997) + 1}.{i % 100:02d}") for i in range(lines)]
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        marker = "?" if engine.dialect.name == "sqlite" else "%s"
        sql = (f"INSERT INTO ledger_journal_line (entry_id, account_id, loan_id, debit, credit) "
               f"VALUES ({marker}, {marker}, {marker}, {marker}, 0)")
        if engine.dialect.name == "sqlite":
            cursor.execute("BEGIN IMMEDIATE") if not raw.driver_connection.in_transaction else None
        cursor.executemany(sql, rows)
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def run(label: str, engine: sa.Engine, loans: int) -> None:
    t0 = time.perf_counter()
    upgrade(engine)
    build(engine, loans)
    print(f"[{label}] built {loans:,} loans in {time.perf_counter() - t0:.1f} s", flush=True)
    seconds, result = time_eod(engine)
    lines = result.journal_lines
    print(f"[{label}] EOD {BUSINESS_DATE}: {seconds:.2f} s, {lines:,} journal lines "
          f"({result.accrual_lines:,} accrual, {result.penalty_lines:,} penalty, "
          f"{result.reclassified:,} reclassified), {lines / seconds:,.0f} lines/s", flush=True)
    started = time.perf_counter()
    try:
        with engine.begin() as conn:
            run_eod(conn, BUSINESS_DATE)
        refusal = "NOT refused (a bug)"
    except BusinessDateClosed:
        refusal = "refused, nothing posted"
    print(f"[{label}] second EOD for the same date: {refusal} in {time.perf_counter() - started:.3f} s", flush=True)
    bulk = time_bulk_insert(engine, lines)
    print(f"[{label}] bulk insert of {lines:,} journal lines: {bulk:.2f} s, {lines / bulk:,.0f} lines/s", flush=True)
    print(f"[{label}] ratio EOD / bulk insert: {seconds / bulk:.2f}", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--database", metavar="URL",
                        help="a PostgreSQL server (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres): "
                             "run there as well, in a fresh database created and dropped by this run")
    parser.add_argument("--postgres-url", help="an empty PostgreSQL database to run in as well (kept)")
    parser.add_argument("--throwaway-postgres", action="store_true",
                        help="start a temporary local PostgreSQL server (as the test suite does) and run there too")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--sqlite-path", help="SQLite file to use (default: a temporary file)")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up like Ctrl-C
    if not args.skip_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            path = args.sqlite_path or os.path.join(tmp, "eod-bench.sqlite3")
            engine = make_engine(f"sqlite:///{path}")
            run("sqlite", engine, args.loans)
            engine.dispose()
    if args.database:
        from bench.databases import bench_database

        with bench_database(args.database) as (url, _kind, description):
            print(f"[postgresql] {description}", flush=True)
            engine = make_engine(url)
            try:
                run("postgresql", engine, args.loans)
            finally:
                engine.dispose()
    if args.postgres_url:
        engine = make_engine(args.postgres_url)
        run("postgresql", engine, args.loans)
        engine.dispose()
    if args.throwaway_postgres:
        from tests.support import postgres

        server = postgres.ThrowawayPostgres()
        try:
            url = postgres.create_database(server.start())
            engine = make_engine(url)
            run("postgresql", engine, args.loans)
            engine.dispose()
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
