"""Batch-rating throughput: rate 100,000 generated customers from a CSV file into a result CSV.

Prints customers/s for the whole batch (read CSV, rate, write CSV) on one core, next to two
baselines measured in the same run: just parsing the CSV, and rating already-parsed rows with no
I/O. Run: .venv/bin/python bench/rating.py [N]
"""
from __future__ import annotations

import csv
import io
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from scoring.batch import rate_csv, write_example_csv  # noqa: E402
from scoring.rating import rate_applicant  # noqa: E402

GOAL = 5000


def rating_files() -> dict[str, str]:
    folder = ROOT / "bpmn" / "default" / "scoring"
    return {path.name: path.read_text(encoding="utf-8") for path in folder.iterdir() if path.is_file()}


def main(count: int) -> None:
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
    print(f"goal {GOAL:,} customers/s on one core: {'met' if per_second >= GOAL else 'NOT met'}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
