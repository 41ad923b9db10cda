from apscheduler.schedulers.background import BackgroundScheduler

from workflows.worker import build_scheduler


def test_the_worker_schedules_webhooks_and_the_daily_end_of_day_batch(database):
    scheduler = build_scheduler(database, scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "end_of_day"}
    assert "hour='0'" in str(jobs["end_of_day"].trigger) and "minute='30'" in str(jobs["end_of_day"].trigger)


def test_with_a_payment_channel_the_worker_also_auto_debits_daily_before_the_end_of_day_batch(database):
    scheduler = build_scheduler(database, payment_channel_url="http://127.0.0.1:9", scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "auto_debit", "end_of_day"}
    assert "hour='0'" in str(jobs["auto_debit"].trigger) and "minute='10'" in str(jobs["auto_debit"].trigger)
    assert jobs["auto_debit"].args[1] == "http://127.0.0.1:9"


def test_given_the_origination_service_the_worker_also_retries_incidents_every_minute(database):
    from handlers.registry import build_registry
    from workflows.instances import InstanceRunner
    from workflows.origination import Origination

    origination = Origination(InstanceRunner(build_registry()))
    scheduler = build_scheduler(database, origination=origination, scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "incident_retries", "end_of_day"}
    assert "0:01:00" in str(jobs["incident_retries"].trigger)
