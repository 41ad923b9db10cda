import datetime as dt
import logging
import threading

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import select

from ledger.errors import BusinessDateClosed
from workflows.db import Database
from workflows.worker import build_scheduler, china_today, end_of_day, nightly_end_of_day


def test_the_worker_schedules_webhooks_and_the_daily_end_of_day_batch(database):
    scheduler = build_scheduler(database, scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "audit_seal", "end_of_day"}
    assert "hour='0'" in str(jobs["end_of_day"].trigger) and "minute='30'" in str(jobs["end_of_day"].trigger)


def test_with_a_payment_channel_the_worker_also_auto_debits_daily_before_the_end_of_day_batch(database):
    scheduler = build_scheduler(database, payment_channel_url="http://127.0.0.1:9", scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "audit_seal", "auto_debit", "reconciliation", "end_of_day"}
    assert "hour='0'" in str(jobs["auto_debit"].trigger) and "minute='10'" in str(jobs["auto_debit"].trigger)
    assert jobs["auto_debit"].args[1] == "http://127.0.0.1:9"


def test_given_the_origination_service_the_worker_also_retries_incidents_and_fires_timers(database):
    from handlers.registry import build_registry
    from workflows.instances import InstanceRunner
    from workflows.origination import Origination

    origination = Origination(InstanceRunner(build_registry()))
    scheduler = build_scheduler(database, origination=origination, scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "audit_seal", "incident_retries", "bpmn_timers", "end_of_day"}
    assert "0:01:00" in str(jobs["incident_retries"].trigger)
    assert "0:00:10" in str(jobs["bpmn_timers"].trigger)


def closed_dates(database):
    from ledger.tables import EodRun

    with database.sessions() as session:
        return session.scalars(select(EodRun.business_date).order_by(EodRun.business_date)).all()


def test_the_end_of_day_job_refuses_a_date_at_or_before_the_last_closed_one(database):
    end_of_day(database, "2026-12-22")
    for day in ("2026-12-20", "2026-12-22"):
        with pytest.raises(BusinessDateClosed) as refused:
            end_of_day(database, day)
        assert str(refused.value) == (f"business date {day} is at or before the last closed date 2026-12-22; "
                                      "a correction is a new posting, not a re-run")
    assert closed_dates(database) == [dt.date(2026, 12, 22)]


def test_two_batches_for_one_date_at_once_close_it_once_and_the_other_is_refused(database_url):
    # Two workers' nightly jobs firing together: the database serializes them (PostgreSQL's
    # advisory lock, SQLite's BEGIN IMMEDIATE), so the second sees the first's date closed.
    outcomes: list[str] = []

    def run():
        db = Database(database_url)
        try:
            end_of_day(db, "2026-12-22")
            outcomes.append("closed")
        except BusinessDateClosed:
            outcomes.append("refused")
        finally:
            db.dispose()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["closed", "refused"]


def test_the_scheduled_batch_logs_a_closed_date_instead_of_failing(database, caplog):
    yesterday = china_today() - dt.timedelta(days=1)
    assert nightly_end_of_day(database)["business_date"] == yesterday.isoformat()
    with caplog.at_level(logging.WARNING, logger="workflows.worker"):
        assert nightly_end_of_day(database) is None
    assert f"business date {yesterday.isoformat()} is at or before the last closed date" in caplog.text
