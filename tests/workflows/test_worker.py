from apscheduler.schedulers.background import BackgroundScheduler

from workflows.worker import build_scheduler


def test_the_worker_schedules_webhooks_and_the_daily_end_of_day_batch(database):
    scheduler = build_scheduler(database, scheduler_factory=BackgroundScheduler)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == {"webhooks", "end_of_day"}
    assert "hour='0'" in str(jobs["end_of_day"].trigger) and "minute='30'" in str(jobs["end_of_day"].trigger)
