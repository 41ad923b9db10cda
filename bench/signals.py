"""Early-warning signal generation benchmark: `python bench/signals.py [--loans N] [--database URL]`.

Builds N active loans over 50 branches as an end-of-day batch of BUSINESS_DATE left them, 5 % of
them past due: 40 % of those went overdue that day (days past due 1, moved from 正常 to 关注 by the
batch's reclassification posting), the rest spread over 2..120 days (so some cross 30, 60 and 90,
and those at 91 are downgraded to 次级), 10 % of customers hold two loans, and 1,000 borrowers are
put on the blacklist that day. Then it times what the nightly step does before any work order
starts: the set-based signal queries, storing the signals and the levels per customer
(warning_level.dmn from bpmn/default/), in one transaction. Prints time, signals/s, the Python
memory peak, and the ratio against a baseline measured in the same run on the same rows (a plain
COUNT of the past-due loans), then runs the date again and prints how many signals it added (0).

Work orders are not timed here: each is a process instance (tests/workflows/test_early_warning.py
covers them). The loans are bulk-inserted with core INSERT … SELECT statements, not the ledger API.
SQLite runs in a temporary file; --database URL names a PostgreSQL server, where a fresh database
is created and dropped afterwards (default: 127.0.0.1:5432 as postgres, when reachable).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import tracemalloc
from datetime import date, datetime, time as clock_time, timedelta, timezone
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from ledger.books import ensure_chart  # noqa: E402
from scoring.dmn import load_dmn  # noqa: E402
from workflows.db import make_engine  # noqa: E402
from scoring.limits import parse_limits_config  # noqa: E402
from workflows.early_warning import assign_levels, store_signals  # noqa: E402
from workflows.schema import upgrade  # noqa: E402

BUSINESS_DATE = date(2025, 1, 10)
BRANCHES = 50
LISTED = 1000
DEFAULT_POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LEVEL_TABLE = Path(__file__).resolve().parents[1] / "bpmn" / "default" / "warning_level.dmn"
LIMITS = Path(__file__).resolve().parents[1] / "bpmn" / "default" / "scoring" / "limits.json"


def build(engine: sa.Engine, loans: int) -> None:
    with engine.begin() as conn:
        with Session(bind=conn) as session:
            for b in range(BRANCHES):
                ensure_chart(session, f"B{b:03d}")
            session.flush()
        conn.execute(sa.text("CREATE TABLE bench_seq (n INTEGER PRIMARY KEY)"))
        if engine.dialect.name == "postgresql":
            conn.execute(sa.text("INSERT INTO bench_seq SELECT generate_series(1, :n)"), {"n": loans})
        else:
            conn.execute(sa.text("WITH RECURSIVE seq(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < :n) "
                                 "INSERT INTO bench_seq SELECT n FROM seq"), {"n": loans})
        # Every 20th loan is past due: of those, n/20 % 5 in (0, 1) went overdue today (dpd 1), the
        # others are 2..120 days past due. Customers: 10 % of them hold two loans.
        customers = loans - loans // 10
        dpd = ("CASE WHEN q.n % 20 <> 0 THEN 0 WHEN (q.n / 20) % 5 < 2 THEN 1 "
               "ELSE 2 + (q.n / 20) % 119 END")
        klass = (f"CASE WHEN ({dpd}) = 0 THEN 'normal' WHEN ({dpd}) <= 90 THEN 'special_mention' "
                 "ELSE 'substandard' END")
        conn.execute(sa.text(f"""
            INSERT INTO ledger_loan_account (id, loan_number, branch, customer_id, product_code, principal,
                annual_rate, penalty_rate, term_months, method, frequency, day_count, start_date, maturity_date,
                deposit_account, status, classification, days_past_due, principal_outstanding,
                interest_receivable, penalty_receivable, schedule_version, accrued_through_day)
            SELECT q.n, 'BENCH' || q.n, 'B' || SUBSTR(CAST(1000 + q.n % {BRANCHES} AS VARCHAR(8)), 2, 3),
                   'C' || (q.n % {customers}), 'AGRI', 12000, 0.0435, 0.06525, 12, 'equal_principal', 'monthly',
                   '30/360', :start, :maturity, 'D' || q.n, 'active', {klass}, {dpd}, 11000, 0, 0, 1, :bd
            FROM bench_seq q
        """), {"start": BUSINESS_DATE - timedelta(days=200), "maturity": BUSINESS_DATE + timedelta(days=165),
               "bd": BUSINESS_DATE.toordinal()})
        conn.execute(sa.text("INSERT INTO ledger_eod_run (business_date, accrual_lines, penalty_lines, reclassified) "
                             "VALUES (:before, 0, 0, 0), (:bd, 0, 0, 0)"),
                     {"before": BUSINESS_DATE - timedelta(days=1), "bd": BUSINESS_DATE})
        # The batch's reclassification posting: one entry per branch, a line pair per moved loan.
        conn.execute(sa.text("""
            INSERT INTO ledger_journal_entry (branch, posting_key, business_date, kind, description)
            SELECT DISTINCT branch, 'eod:' || :bdtext || ':reclassification:' || branch, :bd, 'reclassification',
                   'end-of-day five-level reclassification'
            FROM ledger_loan_account WHERE days_past_due IN (1, 91)
        """), {"bd": BUSINESS_DATE, "bdtext": BUSINESS_DATE.isoformat()})
        for side, klass_of in (("debit", "CASE WHEN l.days_past_due = 1 THEN 'special_mention' ELSE 'substandard' END"),
                               ("credit", "CASE WHEN l.days_past_due = 1 THEN 'normal' ELSE 'special_mention' END")):
            debit, credit = ("l.principal_outstanding", "0") if side == "debit" else ("0", "l.principal_outstanding")
            conn.execute(sa.text(f"""
                INSERT INTO ledger_journal_line (entry_id, account_id, loan_id, debit, credit)
                SELECT e.id, a.id, l.id, {debit}, {credit}
                FROM ledger_loan_account l
                JOIN ledger_journal_entry e ON e.posting_key = 'eod:' || :bdtext || ':reclassification:' || l.branch
                JOIN ledger_account a ON a.branch = l.branch AND a.code = 'loans_' || {klass_of}
                WHERE l.days_past_due IN (1, 91)
            """), {"bdtext": BUSINESS_DATE.isoformat()})
        # A loan in a thousand was disbursed that day: limit_usage measures its borrower's
        # outstanding against the branch's customer limits (none of these comes near them).
        conn.execute(sa.text("""
            INSERT INTO ledger_journal_entry (branch, posting_key, business_date, kind, description, loan_id)
            SELECT branch, 'disburse:' || loan_number, :bd, 'disbursement', 'bench disbursement', id
            FROM ledger_loan_account WHERE id % 1000 = 0
        """), {"bd": BUSINESS_DATE})
        # Borrowers put on the blacklist that day (the hash column is what loans refer to).
        listed_at = datetime.combine(BUSINESS_DATE, clock_time(6, 0), timezone.utc)
        conn.execute(sa.text(f"""
            INSERT INTO scoring_risk_list_entry (list_name, id_number, id_number_hash, reason, added_by, added_at)
            SELECT 'blacklist', 'sealed-elsewhere', 'C' || (q.n * 997 % {customers}), 'court enforcement',
                   'bench', :at
            FROM bench_seq q WHERE q.n <= {min(LISTED, loans)}
        """), {"at": listed_at})
        conn.execute(sa.text("DROP TABLE bench_seq"))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def time_baseline(engine: sa.Engine) -> tuple[float, int]:
    started = time.perf_counter()
    with engine.connect() as conn:
        count = conn.execute(sa.text("SELECT COUNT(*) FROM ledger_loan_account "
                                     "WHERE status = 'active' AND days_past_due >= 1")).scalar_one()
    return time.perf_counter() - started, count


def generate(engine: sa.Engine) -> tuple[float, dict, dict, int]:
    table = load_dmn(LEVEL_TABLE.read_text(encoding="utf-8"))
    limits = parse_limits_config(LIMITS.read_text(encoding="utf-8"))
    tracemalloc.start()
    started = time.perf_counter()
    with Session(bind=engine) as session, session.begin():
        found = store_signals(session, BUSINESS_DATE, lambda _branch: limits)
        levels = assign_levels(session, lambda _branch: table, BUSINESS_DATE)
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, found, levels, peak


def run(label: str, engine: sa.Engine, loans: int) -> None:
    t0 = time.perf_counter()
    upgrade(engine)
    build(engine, loans)
    print(f"[{label}] built {loans:,} loans in {time.perf_counter() - t0:.1f} s", flush=True)
    baseline, overdue = time_baseline(engine)
    print(f"[{label}] baseline COUNT of the {overdue:,} past-due loans: {baseline:.3f} s", flush=True)
    seconds, found, levels, peak = generate(engine)
    signals = sum(found.values())
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in found.items())
    by_level = ", ".join(f"level {level}: {n:,}" for level, n in sorted(levels.items()))
    print(f"[{label}] signals after the EOD of {BUSINESS_DATE}: {seconds:.2f} s for {loans:,} loans, "
          f"{signals:,} signals ({kinds}), {signals / seconds:,.0f} signals/s, {loans / seconds:,.0f} loans/s",
          flush=True)
    print(f"[{label}] levels: {by_level}; Python memory peak {peak / 2**20:.1f} MiB", flush=True)
    print(f"[{label}] ratio signals / baseline COUNT: {seconds / baseline:.1f}", flush=True)
    again, found_again, _, _ = generate(engine)
    with engine.connect() as conn:
        stored = conn.execute(sa.text("SELECT COUNT(*) FROM warning_signal")).scalar_one()
    print(f"[{label}] re-run of {BUSINESS_DATE}: {sum(found_again.values()):,} new signals in {again:.2f} s "
          f"({stored:,} stored in all)", flush=True)


def postgres_reachable(url: str) -> bool:
    try:
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool, connect_args={"connect_timeout": 3})
        with engine.connect():
            return True
    except sa.exc.SQLAlchemyError:
        return False


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--database", metavar="URL", default=None,
                        help=f"a PostgreSQL server to run on as well (default: {DEFAULT_POSTGRES} when reachable)")
    parser.add_argument("--skip-sqlite", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # `kill` cleans up like Ctrl-C
    from bench.databases import bench_database

    if not args.skip_sqlite:
        with bench_database(None) as (url, _kind, description):
            print(f"[sqlite] {description}", flush=True)
            engine = make_engine(url)
            try:
                run("sqlite", engine, args.loans)
            finally:
                engine.dispose()
    server = args.database or DEFAULT_POSTGRES
    if args.skip_postgres:
        return 0
    if not postgres_reachable(server):
        print(f"[postgresql] {server} is not reachable: skipped", flush=True)
        return 0
    with bench_database(server) as (url, _kind, description):
        print(f"[postgresql] {description}", flush=True)
        engine = make_engine(url)
        try:
            run("postgresql", engine, args.loans)
        finally:
            engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
