"""`loanflow reconcile [--date YYYY-MM-DD]`: the payment channel's statement for a business date
against our auto-debit bookings (workflows/reconciliation.py); each difference opens a work order
in the operations console. Without --date: yesterday in China, as the worker does each morning.
Needs LOANFLOW_PAYMENT_CHANNEL_URL. Prints the run as JSON; exit 2 when the channel cannot be read."""
from __future__ import annotations

import datetime as dt
import json
import os
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("reconcile", help="reconcile a day's payment-channel statement with the books")
    parser.add_argument("--date", default=None, help="business date YYYY-MM-DD (default: yesterday in China)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from ledger.errors import InvalidInput
    from ledger.schedules import parse_date
    from web.config import Settings
    from web.services import build_services
    from workflows.collection import PaymentChannelClient
    from workflows.errors import WorkflowError
    from workflows.reconciliation import reconcile_day
    from workflows.worker import china_today

    url = os.environ.get("LOANFLOW_PAYMENT_CHANNEL_URL")
    if not url:
        print("loanflow reconcile: LOANFLOW_PAYMENT_CHANNEL_URL is not set", file=sys.stderr)
        return 2
    try:
        day = parse_date(args.date, "date") if args.date else china_today() - dt.timedelta(days=1)
    except InvalidInput as err:
        print(f"loanflow reconcile: {err.message}", file=sys.stderr)
        return 2
    services = build_services(Settings.from_env())
    try:
        result = reconcile_day(services.db, PaymentChannelClient(url), day, "system",
                               dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    except WorkflowError as err:
        print(f"loanflow reconcile: {err.message}", file=sys.stderr)
        return 2
    finally:
        services.db.dispose()
    print(json.dumps(result))
    return 0
