"""`loanflow worker`: webhook delivery, daily auto-debit (when LOANFLOW_PAYMENT_CHANNEL_URL is set) and
the daily end-of-day batch (APScheduler). Like `serve`, it needs LOANFLOW_SECRET_KEY unless --demo."""
from __future__ import annotations


def register(subparsers) -> None:
    parser = subparsers.add_parser("worker", help="run scheduled jobs: webhooks, auto-debit, end-of-day batch")
    parser.add_argument("--once", action="store_true", help="deliver due webhooks once and exit")
    parser.add_argument("--demo", action="store_true",
                        help="start payment-channel, credit-bureau and SMS simulators where no URL is set")
    parser.set_defaults(run=run)


def run(args) -> int:
    import logging
    import os
    import socket
    import sys

    from web.config import Settings

    from web.services import open_services
    from workflows.db import SchemaOutdated
    from workflows.models import utcnow
    from workflows.operations import beat
    from workflows.outbox import deliver_due
    from workflows.worker import build_scheduler

    from web.request_log import log_json_lines

    log_json_lines()
    settings = Settings.from_env()
    if args.demo:
        settings = settings.for_demo()
    # The worker signs nothing today, but it runs beside the web processes on their settings:
    # refusing here too means no deployment half-runs on the public demo key.
    settings.check_secret_keys()
    settings.check_data_key()
    channel_url = os.environ.get("LOANFLOW_PAYMENT_CHANNEL_URL")
    if args.demo:
        # The demo's external systems are simulators: a core where every deposit account holds
        # funds, a credit bureau for the steps that incidents retry, and an SMS gateway for the
        # collection and reminder texts.
        from web.simulators import start_in_thread, with_demo_bureau, with_demo_sms
        from web.simulators.payment_channel import create_app as channel_app

        if not channel_url:
            channel_url = start_in_thread(channel_app()).url
            print(f"Payment-channel simulator on {channel_url}")
        settings = with_demo_sms(with_demo_bureau(settings))
    try:
        services = open_services(settings, upgrade_behind=args.demo)
    except SchemaOutdated as err:
        print(f"loanflow: {err}", file=sys.stderr)
        return 2
    worker_id = os.environ.get("LOANFLOW_WORKER_ID") or f"{socket.gethostname()}:{os.getpid()}"
    try:
        beat(services.db, worker_id, host=socket.gethostname(), pid=os.getpid(), started_at=utcnow())
        if args.once:
            print(f"delivered {deliver_due(services.db)} webhook(s)")
            return 0
        scheduler = build_scheduler(services.db, payment_channel_url=channel_url, origination=services.origination,
                                    worker_id=worker_id)
        auto_debit = "auto-debit daily at 00:10, " if channel_url else "no auto-debit (LOANFLOW_PAYMENT_CHANNEL_URL unset), "
        print("loanflow worker: webhooks every 5 s, BPMN timers and the heartbeat every 10 s, incident retries every minute, "
              f"{auto_debit}end-of-day batch daily at 00:30 Asia/Shanghai")
        try:
            scheduler.start()
        except (KeyboardInterrupt, SystemExit):
            pass
        return 0
    finally:
        services.db.dispose()
