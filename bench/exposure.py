"""What one limit check's exposure costs with a small and a large book (issue 13, item 3).

    .venv/bin/python bench/exposure.py [--small 1000] [--large 100000] [--checks 200] [--database URL]

On a fresh database with the demo data, one application goes straight through to disbursement
(the template); then the branch's book is filled to --small loans, and later to --large, by copying
its application and loan rows in bulk with varied limit dimensions (region, industry, purpose,
guarantee, customer type) and amounts; the exposure rows are rebuilt from the copied loans
(ledger.exposure.rebuild, what the postings would have made). At each size it times the exposure
a limit check reads, for the combinations the default limits.json asks for (a combined
guarantee + customer-type limit among them):

  rows   `Exposure.live`: the ledger's exposure rows (what handlers call)
  book   `exposure_from_books`: the same figures summed from the whole book (the old way)

and checks both give the same figures. Prints p50/p95 per check and the ratios large / small: the
rows should cost the same at both sizes (ratio near 1), the book sum grows with the book.

SQLite runs in a temporary file; --database URL names a PostgreSQL server, where a fresh database
is created for the run and dropped afterwards.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.databases import bench_database  # noqa: E402

REGIONS = ("临沂市兰山区", "临沂市河东区", "济南市历下区", "青岛市黄岛区", "潍坊市寿光市")
INDUSTRIES = ("agriculture", "retail", "manufacturing", "services", "transport", "real_estate")
PURPOSES = ("operating", "consumption", "agricultural_production", "equipment")
GUARANTEES = ("credit", "guarantee", "mortgage")
CUSTOMER_TYPES = ("farmer", "individual_business", "salaried")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e3, ordered[max(0, int(len(ordered) * 0.95) - 1)] * 1e3


def copy_loans(services, template_application: str, start: int, count: int) -> None:
    """Rows `start` .. start + count - 1: an application and its loan each, copied from the template's raw
    rows (sealed columns stay sealed) with other dimensions, customer and amount."""
    import sqlalchemy as sa

    from ledger.exposure import encode_tags
    from workflows.exposure import DIMENSION_COLUMNS

    sqlite = services.db.engine.dialect.name == "sqlite"
    with services.db.engine.begin() as conn:
        application = dict(conn.execute(sa.text("SELECT * FROM application WHERE id = :id"),
                                        {"id": template_application}).mappings().one())
        loan = dict(conn.execute(sa.text("SELECT * FROM ledger_loan_account WHERE loan_number = :n"),
                                 {"n": application["loan_id"]}).mappings().one())
        loan.pop("id")
        applications, loans = [], []
        for n in range(start, start + count):
            number = f"BENCH{n:07d}"
            dims = {"region": REGIONS[n % 5], "industry": INDUSTRIES[n % 6], "purpose": PURPOSES[n % 4],
                    "guarantee_method": GUARANTEES[n % 3], "customer_type": CUSTOMER_TYPES[(n // 3) % 3]}
            applications.append(dict(application, id=str(uuid.uuid4()), loan_id=number,
                                     id_number_hash=f"bench-customer-{n // 2}", **dims))
            row = {**application, **dims}
            tags = {name: row[column.key] for name, column in DIMENSION_COLUMNS.items()}
            outstanding = Decimal(10_000 + (n * 7919) % 290_000)
            if sqlite:  # its driver takes no Decimal; the column's numeric affinity reads the text back
                outstanding = str(outstanding)
            loans.append(dict(loan, loan_number=number, customer_id=applications[-1]["id_number_hash"],
                              principal=outstanding, principal_outstanding=outstanding,
                              exposure_tags=encode_tags(tags)))
        for table, rows in (("application", applications), ("ledger_loan_account", loans)):
            columns = list(rows[0])
            statement = sa.text(f"INSERT INTO {table} ({', '.join(columns)}) "
                                f"VALUES ({', '.join(':' + c for c in columns)})")
            for first in range(0, len(rows), 5000):
                conn.execute(statement, rows[first:first + 5000])
    with services.db.unit_of_work() as session:
        from ledger.exposure import rebuild
        rebuild(session)
    if services.db.engine.dialect.name == "postgresql":
        with services.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
    else:
        with services.db.engine.begin() as conn:
            conn.execute(sa.text("ANALYZE"))


def time_checks(services, application_id: str, id_number: str, checks: int) -> dict[str, list[float]]:
    from scoring.limits import exposure_key, needed_exposures
    from workflows.exposure import Exposure, exposure_from_books

    limits = json.loads((ROOT / "bpmn" / "default" / "scoring" / "limits.json").read_text())
    exposure = Exposure()
    samples: dict[str, list[float]] = {"rows": [], "book": []}
    with services.db.unit_of_work() as session:
        dims = exposure.dimensions(session, application_id)
        # Unsecured and to a business, so the combined limit (guarantee + customer type) is asked too.
        application = {**dims, "guarantee_method": "credit", "customer_type": "individual_business",
                       "amount": Decimal("50000"), "id_number": id_number}
        needed = needed_exposures(application, limits)
        branch = dims["institution"]
        for round_ in range(checks + 3):  # three rounds warm the caches, untimed
            for name, read in (("rows", exposure.live), ("book", exposure_from_books)):
                started = time.perf_counter()
                figures = read(session, branch=branch, id_number=id_number, needed=needed, key_of=exposure_key)
                if round_ >= 3:
                    samples[name].append(time.perf_counter() - started)
                if name == "rows":
                    rows_figures = figures
                elif figures != rows_figures:
                    sys.exit(f"the rows and the book disagree: {rows_figures} != {figures}")
    print(f"  combinations asked: {len(needed)} ({sum(1 for v in needed if len(v) > 1)} combined), "
          f"book {rows_figures['book']:,}")
    return samples


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", type=int, default=1_000, help="loans in the small book (default 1000)")
    parser.add_argument("--large", type=int, default=100_000, help="loans in the large book (default 100000)")
    parser.add_argument("--checks", type=int, default=200, help="timed checks at each size (default 200)")
    parser.add_argument("--database", metavar="URL", help="a PostgreSQL server to run on (default: SQLite)")
    args = parser.parse_args()

    from sqlalchemy import select

    from tests.web.journeys import example, signature_for
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import open_services
    from workflows.models import Application

    from web.simulators import start_in_thread
    from web.simulators.bureau import create_app as bureau_app

    print(f"cpu_count {os.cpu_count()}, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    bureau = start_in_thread(bureau_app())  # the template application goes straight through, as in the demo
    with bench_database(args.database) as (url, _kind, description):
        print(description)
        settings = Settings(database_url=url, data_key="00" * 32, secret_key="bench-only-signing-key-0123456789abcdef",
                            bpmn_dir=PROJECT_ROOT / "bpmn", secure_cookies=False, bureau_url=bureau.url,
                            integrator_requests_per_minute=10 ** 9)
        services = open_services(settings)
        try:
            services.seed_demo()
            client = create_app(settings, services=services).test_client()
            token = client.post("/api/v1/auth/token", json={"username": "api-demo", "password": "demo"}).get_json()
            body = example("application-auto.json")
            response = client.post("/api/v1/applications", json=body,
                                   headers={"Authorization": f"Bearer {token['token']}",
                                            "Idempotency-Key": str(uuid.uuid4())})
            assert response.status_code == 201, response.get_json()
            signed = client.post(f"/api/v1/applications/{response.get_json()['id']}/signature",
                                 headers={"Authorization": f"Bearer {token['token']}"},
                                 json=signature_for(response.get_json()))
            assert signed.status_code == 200, signed.get_json()
            with services.db.unit_of_work() as session:
                template = session.scalar(select(Application.id).where(Application.loan_id.is_not(None)))
            assert template, "the template application was not disbursed"
            results = {}
            built = 1
            for size in (args.small, args.large):
                started = time.perf_counter()
                copy_loans(services, template, built, size - built)
                built = size
                print(f"book of {size:,} loans built in {time.perf_counter() - started:.1f} s")
                results[size] = {name: percentiles(samples) for name, samples in
                                 time_checks(services, template, body["applicant"]["id_number"], args.checks).items()}
                for name, (p50, p95) in results[size].items():
                    print(f"  {name:<5} p50 {p50:8.3f} ms  p95 {p95:8.3f} ms")
        finally:
            services.db.dispose()
            bureau.stop()
    small, large = results[args.small], results[args.large]
    for name, label in (("rows", "exposure rows (Exposure.live)"), ("book", "sum of the book (before)")):
        print(f"{label:<32} p50 {small[name][0]:8.3f} ms at {args.small:,}, {large[name][0]:8.3f} ms at "
              f"{args.large:,}: ratio large / small {large[name][0] / small[name][0]:6.2f}")
    print(f"at {args.large:,} loans the rows cost {large['rows'][0] / large['book'][0]:.3f} of the book sum")


if __name__ == "__main__":
    main()
