"""The worker process: scheduled jobs on APScheduler.

Jobs: webhook delivery from the outbox (every few seconds), automatic retries of incidents (every
minute, with backoff per instance), auto-debit of due installments through
the payment channel (daily, when a channel is configured) and the ledger's end-of-day batch
(daily). Each job works in units of work of its own; rows are claimed in the database (auto-debit
relies on its references instead), so several workers on several machines can run side by side.
"""
from __future__ import annotations

import datetime as dt
import logging
import time
from decimal import Decimal
from typing import Callable

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from workflows.db import Database
from workflows.clock import AUTO_DEBIT_AT, CHINA, END_OF_DAY_AT, china_today  # noqa: F401 - china_today is this module's API too
from workflows.incidents import retry_due_incidents
from workflows.origination import Origination
from workflows.outbox import deliver_due

log = logging.getLogger(__name__)

SCHEDULER_TIMEZONE = CHINA.key


def end_of_day(db: Database, business_date: dt.date | str | None = None) -> dict:
    """Close a business date (yesterday in China unless given): accrual, penalty, aging, class.
    Moves of class that need maker-checker are held as proposals (the classification step after
    the batch turns them into review tasks). Raises ledger.errors.BusinessDateClosed, posting
    nothing, for a date at or before the last closed one."""
    from ledger.service import run_eod
    from workflows.classification_review import REVIEWED_CLASSIFICATION

    from workflows.models import EodBatchRun, utcnow

    day = business_date or (china_today() - dt.timedelta(days=1))
    with db.unit_of_work() as session:
        started_at, started = utcnow(), time.perf_counter()
        result = run_eod(session, day, policy=REVIEWED_CLASSIFICATION)
        duration = Decimal(str(round(time.perf_counter() - started, 3)))
        figures = {k: v for k, v in result.to_dict().items() if k != "business_date"}
        # In the batch's own transaction: a run is on record exactly when its date closed.
        session.add(EodBatchRun(business_date=result.business_date, started_at=started_at, finished_at=utcnow(),
                                duration_seconds=duration, figures=figures))
        return result.to_dict()


def nightly_end_of_day(db: Database, origination: Origination | None = None) -> dict | None:
    """The scheduled batch, then the after-EOD steps (workflows/daily_steps.py) for the date it
    closed. With several workers each one's job fires and all but the first find yesterday closed:
    that is the expected outcome, so it is a log line, not a failed job, and only the first runs
    the steps."""
    from ledger.errors import BusinessDateClosed
    from workflows.daily_steps import Day, run_after_end_of_day

    try:
        result = end_of_day(db)
    except BusinessDateClosed as err:
        log.warning("end-of-day batch skipped: %s", err.message)
        return None
    log.info("end-of-day batch: %s", result)
    day = dt.date.fromisoformat(result["business_date"])
    for outcome in run_after_end_of_day(Day(db, origination, day, dt.datetime.now(dt.timezone.utc))):
        log.info("after-EOD step %s for %s: %s", outcome.name, day, outcome.summary)
    return result


def auto_debit(db: Database, channel_url: str, business_date: dt.date | str | None = None) -> dict:
    """Debit what is due on a business date (today in China unless given) through the channel."""
    from workflows.collection import PaymentChannelClient, collect_due

    day = business_date or china_today()
    result = collect_due(db, day, PaymentChannelClient(channel_url)).to_dict()
    log.info("auto-debit %s: %s", day, result)
    return result


def fire_timers_now(db: Database, origination: Origination) -> int:
    """The worker's job: fire the BPMN timers due by now (workflows/timer_jobs.py)."""
    from workflows.timer_jobs import fire_due_timers

    fired = fire_due_timers(db, origination, at=dt.datetime.now(dt.timezone.utc))
    for timer in fired:
        log.info("timer %s fired: application %s is %s", timer.element_id, timer.application_id, timer.status)
    return len(fired)


def reconcile_yesterday(db: Database, channel_url: str) -> dict:
    from workflows.collection import PaymentChannelClient
    from workflows.reconciliation import reconcile_day

    result = reconcile_day(db, PaymentChannelClient(channel_url), china_today() - dt.timedelta(days=1), "system",
                           dt.datetime.now(dt.timezone.utc).replace(tzinfo=None))
    log.info("reconciliation %s: %s", result["business_date"], result)
    return result


def seal_audit_trail(db: Database) -> int:
    from workflows.audit_chain import seal_all

    return seal_all(db)


def heartbeat(db: Database, worker_id: str) -> None:
    """The worker's sign of life for /readyz and the operations console (workflows/operations.py)."""
    from workflows.operations import beat

    beat(db, worker_id)


def build_scheduler(db: Database, *, webhook_seconds: int = 5, timer_seconds: int = 10,
                    eod_hour: int = END_OF_DAY_AT.hour, eod_minute: int = END_OF_DAY_AT.minute,
                    payment_channel_url: str | None = None, auto_debit_hour: int = AUTO_DEBIT_AT.hour,
                    auto_debit_minute: int = AUTO_DEBIT_AT.minute,
                    origination: Origination | None = None, scheduler_factory: Callable = BlockingScheduler,
                    worker_id: str | None = None):
    scheduler = scheduler_factory(timezone=SCHEDULER_TIMEZONE)
    if worker_id:
        scheduler.add_job(heartbeat, IntervalTrigger(seconds=timer_seconds), args=[db, worker_id], id="heartbeat",
                          max_instances=1, coalesce=True)
    scheduler.add_job(deliver_due, IntervalTrigger(seconds=webhook_seconds), args=[db], id="webhooks",
                      max_instances=1, coalesce=True)
    # After the writers commit, the audit rows are chained per branch (workflows/audit_chain.py).
    scheduler.add_job(seal_audit_trail, IntervalTrigger(seconds=60), args=[db], id="audit_seal",
                      max_instances=1, coalesce=True)
    if origination is not None:
        scheduler.add_job(retry_due_incidents, IntervalTrigger(seconds=60), args=[db, origination],
                          id="incident_retries", max_instances=1, coalesce=True)
        scheduler.add_job(fire_timers_now, IntervalTrigger(seconds=timer_seconds), args=[db, origination],
                          id="bpmn_timers", max_instances=1, coalesce=True)
    if payment_channel_url:
        # Runs for today, just before the batch closes yesterday: an installment due today is
        # debited on its due date, and one that bounced yesterday is tried again before
        # yesterday's batch would age it. What stays unpaid is aged by the batch as usual.
        scheduler.add_job(auto_debit, CronTrigger(hour=auto_debit_hour, minute=auto_debit_minute),
                          args=[db, payment_channel_url], id="auto_debit", max_instances=1, coalesce=True,
                          misfire_grace_time=6 * 3600)
        # Each morning, yesterday's statement from the channel against our bookings (对账).
        scheduler.add_job(reconcile_yesterday, CronTrigger(hour=6, minute=0), args=[db, payment_channel_url],
                          id="reconciliation", max_instances=1, coalesce=True, misfire_grace_time=12 * 3600)
    # Just after midnight the previous business day is closed: accrual, aging, classification.
    scheduler.add_job(nightly_end_of_day, CronTrigger(hour=eod_hour, minute=eod_minute), args=[db, origination],
                      id="end_of_day", max_instances=1, coalesce=True, misfire_grace_time=6 * 3600)
    return scheduler
