"""Catching up to a moment as the worker would have: `loanflow tick --at 2027-03-01T09:00+08:00`.

From the last thing the books say ran — the end-of-day batch of the last closed business date,
at 00:30 China time the day after (the wall clock, for a database never closed) — to the moment
asked for, in time order:

- for each day it passes: auto-debit of that day's installments at 00:10 (when a payment channel
  is configured), then at 00:30 the EOD of the day before and the after-EOD steps
  (`workflows/daily_steps.py`);
- before each of those, every BPMN timer due by its moment, each fired at its own due moment (a
  reminder at 09:00 fires at 09:00, not at the tick's time), oldest first;
- then the timers due by the moment itself, and webhook delivery as of that moment.

The worker's times are `workflows.clock.AUTO_DEBIT_AT` and `END_OF_DAY_AT`. A moment on or before
the last closed business date is refused (`TickRefused`): the books are closed up to the end of
that date, and a catch-up goes forward only. Every job runs in units of work of its own, as the
worker's do, so what ran stays done if a later one fails.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import func, or_, select

from ledger.errors import BusinessDateClosed
from ledger.service import last_closed_date
from workflows.clock import AUTO_DEBIT_AT, CHINA, END_OF_DAY_AT
from workflows.daily_steps import DailyStep, Day, run_after_end_of_day
from workflows.db import Database
from workflows.errors import WorkflowError
from workflows.models import DueTimer, OutboxMessage
from workflows.origination import Origination
from workflows.outbox import MAX_ATTEMPTS, deliver_due
from workflows.timer_jobs import fire_due_timers
from workflows.timers import clock_at
from workflows.worker import auto_debit, end_of_day


class TickRefused(WorkflowError):
    kind = "invalid"
    code = "tick_before_closed_date"


@dataclass(frozen=True)
class Happened:
    """One thing the catch-up did, with the line `loanflow tick` prints for it."""
    at: dt.datetime      # aware UTC: the moment it ran
    kind: str            # timer, auto_debit, end_of_day, a daily step's name, webhooks
    line: str


@dataclass(frozen=True)
class CatchUp:
    at: dt.datetime
    happened: list[Happened]
    webhooks_delivered: int

    def count(self, kind: str) -> int:
        return sum(1 for h in self.happened if h.kind == kind)

    def summary(self) -> str:
        return (f"tick {china_text(self.at)}: {self.count('timer')} timer(s) fired, "
                f"{self.count('end_of_day')} business date(s) closed, {self.webhooks_delivered} webhook(s) delivered")


def catch_up(db: Database, origination: Origination, *, at: dt.datetime, payment_channel_url: str | None = None,
             steps: list[DailyStep] | None = None, wall_clock: Callable[[], dt.datetime] | None = None,
             http=None) -> CatchUp:
    """Do what the worker would have done up to `at` (aware); see the module's docstring. `steps`
    replaces the after-EOD steps (default: daily_steps.AFTER_END_OF_DAY); `wall_clock` is where a
    database never closed starts from; `http` is the session webhooks are posted with."""
    at = at.astimezone(dt.timezone.utc)
    last = _last_closed(db)
    if last is not None and at.astimezone(CHINA).date() <= last:
        raise TickRefused(f"{china_text(at)} is on or before the last closed business date {last.isoformat()}; "
                          f"a tick only moves forward (from {(last + dt.timedelta(days=1)).isoformat()} on)",
                          field="at")
    if last is not None:
        since = _china(last + dt.timedelta(days=1), END_OF_DAY_AT)   # when last's batch ran
    else:
        since = (wall_clock or (lambda: dt.datetime.now(dt.timezone.utc)))()
    happened: list[Happened] = []
    for moment, job in _daily_jobs(since, at, payment_channel_url):
        happened += _fire_timers_until(db, origination, moment)
        with clock_at(lambda moment=moment: moment):
            happened += job(db, origination, moment, steps)
    happened += _fire_timers_until(db, origination, at)
    delivered = _deliver_webhooks(db, at, http)
    if delivered:
        happened.append(Happened(at, "webhooks", f"delivered {delivered} webhook(s)"))
    return CatchUp(at, happened, delivered)


def china_text(moment: dt.datetime) -> str:
    return moment.astimezone(CHINA).isoformat(timespec="minutes")


def _china(day: dt.date, time: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, time, tzinfo=CHINA).astimezone(dt.timezone.utc)


def _last_closed(db: Database) -> dt.date | None:
    with db.read_sessions() as session:
        return last_closed_date(session.connection())


# -- the daily jobs --------------------------------------------------------------------------------
def _daily_jobs(since: dt.datetime, until: dt.datetime, payment_channel_url: str | None):
    """(moment, job) for each daily job scheduled after `since` and at or before `until`, in order."""
    day = since.astimezone(CHINA).date()
    while _china(day, min(AUTO_DEBIT_AT, END_OF_DAY_AT)) <= until:
        jobs = [(_china(day, END_OF_DAY_AT), _close_day(day - dt.timedelta(days=1)))]
        if payment_channel_url:
            jobs.append((_china(day, AUTO_DEBIT_AT), _collect_day(day, payment_channel_url)))
        for moment, job in sorted(jobs, key=lambda j: j[0]):
            if since < moment <= until:
                yield moment, job
        day += dt.timedelta(days=1)


def _collect_day(day: dt.date, channel_url: str):
    def job(db, origination, moment, steps):
        result = auto_debit(db, channel_url, day)
        return [Happened(moment, "auto_debit",
                         f"auto-debit {day.isoformat()}: {result['collected']} of {result['due']} loan(s) collected "
                         f"({result['collected_amount']}), {result['insufficient_funds']} insufficient funds"
                         + (", channel unavailable" if result["channel_unavailable"] else "")
                         + (f", {len(result['not_posted'])} debited but not booked" if result["not_posted"] else ""))]
    return job


def _close_day(day: dt.date):
    def job(db, origination, moment, steps):
        try:
            result = end_of_day(db, day)
        except BusinessDateClosed:
            # Another worker closed it meanwhile: its after-EOD steps are that worker's to run.
            return [Happened(moment, "skipped", f"eod {day.isoformat()}: already closed")]
        done = [Happened(moment, "end_of_day",
                         f"eod {day.isoformat()}: {result['accrual_lines']} accrual, {result['penalty_lines']} penalty, "
                         f"{result['reclassified']} reclassified"
                         + (f", {result['proposed']} for review" if result.get("proposed") else ""))]
        for outcome in run_after_end_of_day(Day(db, origination, day, moment), steps):
            done.append(Happened(moment, outcome.name, f"{outcome.name} {day.isoformat()}: {outcome.summary}"))
        return done
    return job


# -- timers and webhooks ---------------------------------------------------------------------------
def _fire_timers_until(db: Database, origination: Origination, until: dt.datetime) -> list[Happened]:
    """Fire the timers due by `until`, each at its own due moment, oldest first: a step may make a
    new timer that is due before `until` too, and it fires in its turn."""
    happened: list[Happened] = []
    cursor = None
    while True:
        due = _next_due(db, until, after=cursor)
        if due is None:
            return happened
        for timer in fire_due_timers(db, origination, at=due):
            happened.append(Happened(due, "timer", f"fired {timer.element_id} due "
                                     f"{china_text(timer.due_at.replace(tzinfo=dt.timezone.utc))} "
                                     f"{_fired_in(timer)} -> {timer.status}"))
        cursor = due   # strictly forward: a timer that would not fire is tried again later, not looped on


def _next_due(db: Database, until: dt.datetime, *, after: dt.datetime | None) -> dt.datetime | None:
    cutoff = until.replace(tzinfo=None)
    query = select(func.min(DueTimer.due_at)).where(DueTimer.fired_at.is_(None), DueTimer.due_at <= cutoff)
    if after is not None:
        query = query.where(DueTimer.due_at > after.replace(tzinfo=None))
    with db.read_sessions() as session:
        found = session.scalar(query)
    if isinstance(found, str):   # SQLite hands back an aggregate's datetime as text
        found = dt.datetime.fromisoformat(found)
    return found.replace(tzinfo=dt.timezone.utc) if found is not None else None


def _deliver_webhooks(db: Database, at: dt.datetime, http) -> int:
    now = at.replace(tzinfo=None)
    delivered = 0
    # deliver_due takes a batch at a time; one that fails is put off past `now`, so this ends.
    while _webhooks_due(db, now):
        delivered += deliver_due(db, http=http, now=now)
    return delivered


def _webhooks_due(db: Database, now: dt.datetime) -> bool:
    with db.read_sessions() as session:
        return session.scalar(select(OutboxMessage.id).where(
            OutboxMessage.delivered_at.is_(None), OutboxMessage.attempts < MAX_ATTEMPTS,
            or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)).limit(1)) is not None


def _fired_in(timer) -> str:
    """An application's timer names the application (what the operator looks up); any other
    process's names its process and instance."""
    if timer.application_id:
        return f"application {timer.application_id}"
    return f"{timer.process_id} {timer.instance_id}"
