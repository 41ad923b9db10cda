"""`loanflow rate-batch INPUT.csv --branch CODE --product CODE --out RESULT.csv`, and
`loanflow rate-batch --example N [--out FILE]` to write N generated customers as a valid input file.

Rates with the branch's deployed rating files (its overrides, else HQ's) read from the database.
Bad rows are listed on stderr with their line numbers; the exit status is 0 when every row was
rated, 1 when some rows were bad, 2 when nothing could be rated.
"""
from __future__ import annotations

import sys
import time

DEFAULT_PRODUCT = "FARM_EASY"
SHOWN_ERRORS = 20


def register(subparsers) -> None:
    parser = subparsers.add_parser("rate-batch", help="score, grade, and pre-approve lines and prices from a CSV")
    parser.add_argument("input", nargs="?", help="CSV of customers (see scoring/applicant.py for columns)")
    parser.add_argument("--branch", help="branch code whose rating files apply (HQ for the defaults)")
    parser.add_argument("--product", default=DEFAULT_PRODUCT, help=f"product code (default {DEFAULT_PRODUCT})")
    parser.add_argument("--out", help="result CSV (default: stdout); with --example, the input file to write")
    parser.add_argument("--example", type=int, metavar="N", help="write N generated customers and stop")
    parser.add_argument("--seed", type=int, default=20261122, help="seed for --example")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(run=run)


def _open_out(path: str | None):
    return open(path, "w", encoding="utf-8", newline="") if path else sys.stdout


def _progress_bar(total: int, quiet: bool):
    started = time.perf_counter()

    def show(done: int) -> None:
        if quiet:
            return
        share = done / total if total else 1.0
        filled = int(share * 30)
        rate = done / max(time.perf_counter() - started, 1e-9)
        sys.stderr.write(f"\r[{'#' * filled}{'.' * (30 - filled)}] {done:,}/{total:,} {rate:,.0f}/s")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def run(args) -> int:
    from scoring.batch import rate_csv, write_example_csv

    if args.example is not None:
        if args.example < 0:
            print("--example needs a count of 0 or more", file=sys.stderr)
            return 2
        with _open_out(args.out) as out:
            written = write_example_csv(out, args.example, seed=args.seed)
        if args.out:
            print(f"wrote {written:,} example customers to {args.out}", file=sys.stderr)
        return 0
    if not args.input or not args.branch:
        print("rate-batch needs INPUT.csv and --branch CODE (or --example N)", file=sys.stderr)
        return 2

    from scoring.errors import ScoringError
    from workflows.risk_administration import rating_inputs
    from web.config import Settings
    from workflows.errors import WorkflowError
    from web.services import build_services

    services = build_services(Settings.from_env())
    try:
        with services.db.sessions() as session:
            product, files = rating_inputs(session, args.branch, args.product)
    except WorkflowError as error:
        print(f"cannot rate: {error.message}", file=sys.stderr)
        return 2
    finally:
        services.db.dispose()
    try:
        with open(args.input, encoding="utf-8-sig", newline="") as source:
            total = max(sum(1 for _ in source) - 1, 0)
            source.seek(0)
            with _open_out(args.out) as out:
                summary = rate_csv(source, out, product, files,
                                   progress=_progress_bar(total, args.quiet or not args.out))
    except OSError as error:
        print(f"cannot rate: {error}", file=sys.stderr)
        return 2
    except ScoringError as error:
        print(f"cannot rate: {error}", file=sys.stderr)
        return 2
    for problem in summary.errors[:SHOWN_ERRORS]:
        print(f"bad row: {problem}", file=sys.stderr)
    if summary.failed > SHOWN_ERRORS:
        print(f"... and {summary.failed - SHOWN_ERRORS:,} more bad rows (see the error column)", file=sys.stderr)
    print(f"rated {summary.rated:,} of {summary.rows:,} rows ({summary.failed:,} bad) in {summary.seconds:.1f} s, "
          f"{summary.per_second:,.0f} customers/s", file=sys.stderr)
    return 0 if summary.failed == 0 else 1
