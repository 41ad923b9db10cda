"""The worker process: scheduled jobs on APScheduler.

Jobs: webhook delivery from the outbox (every few seconds) and the ledger's end-of-day batch
(daily). Each job is one unit of work; rows are claimed in the database, so several workers on
several machines can run side by side.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from workflows.db import Database
from workflows.outbox import deliver_due

log = logging.getLogger(__name__)


def end_of_day(db: Database, business_date: dt.date | None = None) -> dict:
    from ledger.service import run_eod

    day = business_date or (dt.date.today() - dt.timedelta(days=1))
    with db.unit_of_work() as session:
        return run_eod(session, day.isoformat()).to_dict()


def build_scheduler(db: Database, *, webhook_seconds: int = 5, eod_hour: int = 0, eod_minute: int = 30,
                    scheduler_factory: Callable = BlockingScheduler):
    scheduler = scheduler_factory(timezone="Asia/Shanghai")
    scheduler.add_job(deliver_due, IntervalTrigger(seconds=webhook_seconds), args=[db], id="webhooks",
                      max_instances=1, coalesce=True)
    # Just after midnight the previous business day is closed: accrual, aging, classification.
    scheduler.add_job(end_of_day, CronTrigger(hour=eod_hour, minute=eod_minute), args=[db], id="end_of_day",
                      max_instances=1, coalesce=True, misfire_grace_time=6 * 3600)
    return scheduler
