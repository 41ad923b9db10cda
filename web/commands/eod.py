"""`loanflow eod [--date YYYY-MM-DD]`: the ledger's end-of-day batch for one business date.

Accrual, penalty interest, aging and five-level classification in one transaction. Without
--date it closes yesterday (in China), as the worker's nightly job does. Prints the result as
JSON; exit status 2, the error as JSON on stderr and nothing posted for a bad date or one at or
before the last closed date (a correction is a new posting, not a re-run).
"""
from __future__ import annotations

import json
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("eod", help="run the end-of-day ledger batch for a business date")
    parser.add_argument("--date", default=None, help="business date YYYY-MM-DD (default: yesterday in China)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ledger.errors import LedgerError
    from web.config import Settings
    from web.services import build_services
    from workflows.worker import end_of_day

    services = build_services(Settings.from_env())
    try:
        result = end_of_day(services.db, args.date)
    except LedgerError as err:
        print(json.dumps(err.as_dict()), file=sys.stderr)
        return 2
    finally:
        services.db.dispose()
    print(json.dumps(result))
    return 0
