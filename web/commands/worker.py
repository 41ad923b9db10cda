"""`loanflow worker`: webhook delivery and the daily end-of-day batch (APScheduler)."""
from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run scheduled jobs: webhooks, end-of-day batch")
    parser.add_argument("--once", action="store_true", help="deliver due webhooks once and exit")
    parser.set_defaults(run=run)


def run(args) -> int:
    import logging

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
        scheduler = build_scheduler(db)
        print("loanflow worker: webhooks every 5 s, end-of-day batch daily at 00:30 Asia/Shanghai")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        return 0
    finally:
        db.dispose()
