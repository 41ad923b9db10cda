"""`loanflow tick --at 2027-03-01T09:00+08:00`: catch up to a moment, as the worker would have.

Fires every BPMN timer due at or before that moment, oldest first, each at that moment, printing
one line per timer. This is how an operator catches up after downtime and how tests and demos move
time. A time without a zone is China time. Exit status 0 when it ran, 2 for a bad time.
Not yet part of a tick (issue 8): the daily jobs (auto-debit, EOD) of the dates it passes.
"""
from __future__ import annotations

import datetime as dt
import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("tick", help="fire the BPMN timers due by a moment (catch up, move time in tests)")
    parser.add_argument("--at", required=True, help="ISO time, e.g. 2027-03-01T09:00+08:00 (no zone: China time)")
    parser.set_defaults(run=run)


def run(args) -> int:
    from web.config import Settings
    from web.services import build_services
    from workflows.timer_jobs import fire_due_timers
    from workflows.timers import moment

    try:
        at = moment(args.at)
    except ValueError:
        print(f"loanflow tick: --at {args.at!r} is not an ISO time such as 2027-03-01T09:00+08:00", file=sys.stderr)
        return 2
    services = build_services(Settings.from_env())
    try:
        fired = fire_due_timers(services.db, services.origination, at=at)
    finally:
        services.db.dispose()
    for timer in fired:
        due = timer.due_at.replace(tzinfo=dt.timezone.utc).astimezone(dt.timezone(dt.timedelta(hours=8)))
        print(f"fired {timer.element_id} due {due.isoformat(timespec='minutes')} "
              f"application {timer.application_id} -> {timer.status}")
    print(f"tick {at.astimezone(dt.timezone(dt.timedelta(hours=8))).isoformat(timespec='minutes')}: "
          f"{len(fired)} timer(s) fired")
    return 0
