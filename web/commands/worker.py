"""`loanflow worker`: webhook delivery, daily auto-debit (when LOANFLOW_PAYMENT_CHANNEL_URL is set) and
the daily end-of-day batch (APScheduler)."""
from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run scheduled jobs: webhooks, auto-debit, end-of-day batch")
    parser.add_argument("--once", action="store_true", help="deliver due webhooks once and exit")
    parser.add_argument("--demo", action="store_true",
                        help="start the payment-channel simulator when LOANFLOW_PAYMENT_CHANNEL_URL is unset")
    parser.set_defaults(run=run)


def run(args) -> int:
    import logging
    import os

    from web.config import Settings
    from workflows.db import Database
    from workflows.outbox import deliver_due
    from workflows.worker import build_scheduler

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    db = Database(Settings.from_env().database_url)
    try:
        if args.once:
            print(f"delivered {deliver_due(db)} webhook(s)")
            return 0
        channel_url = os.environ.get("LOANFLOW_PAYMENT_CHANNEL_URL")
        if args.demo and not channel_url:
            # The demo's customers bank with a simulated core: every deposit account holds funds.
            from web.simulators import start_in_thread
            from web.simulators.payment_channel import create_app as channel_app

            channel_url = start_in_thread(channel_app()).url
            print(f"Payment-channel simulator on {channel_url}")
        scheduler = build_scheduler(db, payment_channel_url=channel_url)
        auto_debit = "auto-debit daily at 00:10, " if channel_url else "no auto-debit (LOANFLOW_PAYMENT_CHANNEL_URL unset), "
        print(f"loanflow worker: webhooks every 5 s, {auto_debit}end-of-day batch daily at 00:30 Asia/Shanghai")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        return 0
    finally:
        db.dispose()
