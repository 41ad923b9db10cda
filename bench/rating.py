"""Batch-rating throughput: rate N generated customers (default 100,000) from a CSV file into a result CSV.

Prints customers/s for the whole batch (read CSV, rate, write CSV) on one core, next to two
baselines measured in the same run: just parsing the CSV, and rating already-parsed rows with no
I/O. Then the in-process latency of one application's whole scoring decision (rating, risk check,
limits, large-amount flag) as p50/p99 — the component's share of the API's decision latency.

    .venv/bin/python bench/rating.py [--customers N] [--decisions N]

The ratio printed is batch throughput / rate-only throughput (how much of the batch's time the
CSV reading and writing around the rating costs); `batch time / parse time` beside it.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.batch import generate_customers, rate_csv, write_example_csv  # noqa: E402
from scoring.limits import check_limits, exposure_key, is_large_amount, needed_exposures  # noqa: E402
from scoring.rating import rate_applicant  # noqa: E402
from scoring.risk import RiskLists, check_risk  # noqa: E402

GOAL = 5000


def rating_files() -> dict[str, str]:
    folder = ROOT / "bpmn" / "default" / "scoring"
    return {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir() if path.is_file()}


def run(count: int, decisions: int) -> None:
    files = rating_files()
    product = {"code": "AGRI-OPERATING", "base_rate": Decimal("0.0435"), "max_amount": Decimal("300000")}
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "customers.csv"
        with source.open("w", encoding="utf-8", newline="") as out:
            write_example_csv(out, count)

        started = time.perf_counter()
        with source.open(encoding="utf-8", newline="") as stream:
            rows = list(csv.DictReader(stream))
        parse_seconds = time.perf_counter() - started

        rate_applicant(rows[0], product, files)  # compile the files once, as a long-running worker would
        started = time.perf_counter()
        for row in rows:
            rate_applicant(row, product, files)
        rate_only_seconds = time.perf_counter() - started

        with source.open(encoding="utf-8", newline="") as stream, \
                (Path(folder) / "result.csv").open("w", encoding="utf-8", newline="") as result:
            summary = rate_csv(stream, result, product, files)

    per_second = summary.rows / summary.seconds
    print(f"customers:                    {summary.rows:,} ({summary.rated:,} rated, {summary.failed} bad rows)")
    print(f"baseline, parse the CSV only: {parse_seconds:7.3f} s  {count / parse_seconds:10,.0f} rows/s")
    print(f"rate parsed rows, no I/O:     {rate_only_seconds:7.3f} s  {count / rate_only_seconds:10,.0f} customers/s")
    print(f"batch: read, rate, write CSV: {summary.seconds:7.3f} s  {per_second:10,.0f} customers/s")
    print(f"batch time / parse time:      {summary.seconds / parse_seconds:7.1f} x")
    print(f"ratio batch / rate-only:      {per_second / (count / rate_only_seconds):7.2f}")
    print(f"goal {GOAL:,} customers/s on one core: {'met' if per_second >= GOAL else 'NOT met'}")
    decision_latency(files, product, decisions)


def decision_latency(files: dict[str, str], product: dict, count: int = 10_000) -> None:
    lists = RiskLists({"blacklist": {"330102199001011234": "fraud"}, "graylist": {}, "aml": {}})
    facts = {"bureau": {"inquiries_3m": 2, "lender_count": 1, "overdue_accounts": 0}}
    timings = []
    for customer in generate_customers(count, seed=99):
        application = {"amount": Decimal("50000"), "id_number": customer["id_number"], "region": "Weifang",
                       "institution": "BR001", "product": product["code"], "industry": "agriculture",
                       "loan_purpose": "production", "guarantee_method": "credit",
                       "customer_type": customer["customer_type"]}
        exposure = {"customer": Decimal(0), "book": Decimal("500000000"),
                    "by_key": {exposure_key(values): Decimal("1000000")
                               for values in needed_exposures(application, files["limits.json"])}}
        started = time.perf_counter()
        rate_applicant(customer, product, files)
        check_risk("application", customer, facts, lists, files["risk_rules.json"])
        check_limits(application, files["limits.json"], exposure)
        is_large_amount(application["amount"], Decimal("800000000"), files["limits.json"])
        timings.append(time.perf_counter() - started)
    timings.sort()
    p50, p99 = timings[len(timings) // 2], timings[int(len(timings) * 0.99)]
    print(f"one decision (rate + risk + limits + large amount), {count:,} applications: "
          f"p50 {p50 * 1e6:,.0f} µs, p99 {p99 * 1e6:,.0f} µs")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000, help="customers in the batch (default 100000)")
    parser.add_argument("--decisions", type=int, default=10_000,
                        help="applications timed for the one-decision latency (default 10000)")
    parser.add_argument("legacy_count", nargs="?", type=int, metavar="N", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    count = args.legacy_count or args.customers  # `bench/rating.py 1000` still works
    if count < 1 or args.decisions < 1:
        parser.error("--customers and --decisions must be at least 1")
    run(count, args.decisions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
