"""`loanflow tick --at 2027-03-01T09:00+08:00`: catch up to a moment, as the worker would have.

In time order: for each day it passes, the BPMN timers due before each daily job, auto-debit at
00:10 (when LOANFLOW_PAYMENT_CHANNEL_URL is set), the EOD of the day before and the after-EOD
steps at 00:30; then the timers due by the moment, then webhook delivery. One line per thing
done, then a summary line. The work is `workflows.catch_up`; this is its command line.

A time without a zone is China time. Exit status 0 when it ran; 2 for a time that is not an ISO
time, or one on or before the last closed business date (nothing is done then).
"""
from __future__ import annotations

import os
import sys

from web.commands.collect import CHANNEL_URL_VARIABLE


def register(subparsers) -> None:
    parser = subparsers.add_parser("tick", help="catch up to a moment: timers, daily jobs, webhooks (also moves time in tests)")
    parser.add_argument("--at", required=True, help="ISO time, e.g. 2027-03-01T09:00+08:00 (no zone: China time)")
    parser.add_argument("--demo", action="store_true",
                        help="on the demo's database: its keys, and an SMS simulator where no gateway is set")
    parser.set_defaults(run=run)


def run(args) -> int:
    from web.config import Settings
    from web.services import build_services
    from workflows.catch_up import TickRefused, catch_up
    from workflows.timers import moment

    try:
        at = moment(args.at)
    except ValueError:
        print(f"loanflow tick: --at {args.at!r} is not an ISO time such as 2027-03-01T09:00+08:00", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    if args.demo:
        # As `worker --demo`: the demo's public keys (refused outside the demo) and a simulator
        # that takes the collection and reminder texts the days passed would have sent.
        import logging

        from web.simulators import with_demo_sms

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # the simulator's request log is not the tick's
        settings = with_demo_sms(settings.for_demo())
    services = build_services(settings)
    try:
        result = catch_up(services.db, services.origination, at=at,
                          payment_channel_url=os.environ.get(CHANNEL_URL_VARIABLE) or None)
    except TickRefused as err:
        print(f"loanflow tick: {err.message}", file=sys.stderr)
        return 2
    finally:
        services.db.dispose()
    for happened in result.happened:
        print(happened.line)
    print(result.summary())
    return 0
