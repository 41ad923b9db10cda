"""`loanflow collect --date YYYY-MM-DD`: auto-debit of the installments due on a business date.

Each loan with something due (overdue or due that day) is debited through the payment channel at
LOANFLOW_PAYMENT_CHANNEL_URL and the collected amount is booked as a repayment. Running it again
for the same date debits and books nothing more. Prints the result as JSON.

Exit status: 0 when the run went through (insufficient funds is a normal outcome), 1 when the
channel went away or a debited amount could not be booked (see the JSON), 2 for bad input.
"""
from __future__ import annotations

import json
import os
import sys

CHANNEL_URL_VARIABLE = "LOANFLOW_PAYMENT_CHANNEL_URL"


def register(subparsers) -> None:
    parser = subparsers.add_parser("collect", help="auto-debit due installments through the payment channel")
    parser.add_argument("--date", default=None, help="business date YYYY-MM-DD (default: today in China, as the worker's job)")
    parser.set_defaults(run=run)


def run(args) -> int:
    channel_url = os.environ.get(CHANNEL_URL_VARIABLE)
    if not channel_url:
        print(f"collect needs the payment channel's URL in {CHANNEL_URL_VARIABLE}", file=sys.stderr)
        return 2

    from ledger.errors import LedgerError
    from web.config import Settings
    from web.services import build_services
    from workflows.worker import auto_debit

    services = build_services(Settings.from_env())
    try:
        result = auto_debit(services.db, channel_url, args.date)
    except LedgerError as err:
        print(json.dumps(err.as_dict()), file=sys.stderr)
        return 2
    finally:
        services.db.dispose()
    print(json.dumps(result))
    return 1 if result["channel_unavailable"] or result["not_posted"] else 0
