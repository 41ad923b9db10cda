"""Firing due BPMN timers: the worker every few seconds, `loanflow tick --at` for operators and tests.

Each timer is claimed and fired in its own unit of work (`FOR UPDATE SKIP LOCKED` on PostgreSQL),
so any number of workers fire each due timer exactly once, and one instance's failure cannot undo
another's step. Timers fire in due order, each at the moment asked for: a catch-up after downtime
runs as the worker would have.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select

from workflows.db import Database
from workflows.errors import WorkflowError
from workflows.models import DueTimer
from workflows.origination import Origination
from workflows.processes import ProcessLayer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FiredTimer:
    application_id: str | None   # None for a process not about an application
    element_id: str
    due_at: dt.datetime          # naive UTC, as stored
    status: str                  # the business status after the step (an application's, else the instance's)
    instance_id: str = ""
    process_id: str = ""


def fire_due_timers(db: Database, processes: ProcessLayer | Origination, *, at: dt.datetime,
                    limit: int = 1000) -> list[FiredTimer]:
    """Fire every timer due at or before `at` (aware), oldest first; at most `limit` per call."""
    layer = processes.layer if isinstance(processes, Origination) else processes
    cutoff = at.astimezone(dt.timezone.utc).replace(tzinfo=None)
    fired: list[FiredTimer] = []
    skipped: set[int] = set()
    while len(fired) < limit:
        current = None
        try:
            with db.unit_of_work() as session:
                query = (select(DueTimer).where(DueTimer.fired_at.is_(None), DueTimer.due_at <= cutoff)
                         .order_by(DueTimer.due_at, DueTimer.id).limit(1).with_for_update(skip_locked=True))
                if skipped:
                    query = query.where(DueTimer.id.not_in(skipped))
                timer = session.scalars(query).first()
                if timer is None:
                    break
                current = timer.id
                timer.fired_at = cutoff
                session.flush()  # before the step rewrites the instance's unfired rows
                instance = layer.fire_timer(session, timer, at)
                status = layer.use_case(instance.process_id).business_status(session, instance)
                fired.append(FiredTimer(instance.application_id, timer.element_id, timer.due_at, status,
                                        instance.id, instance.process_id))
        except WorkflowError as err:  # e.g. the instance changed under us: leave the row for next time
            log.warning("timer %s not fired: %s", current, err.message)
            skipped.add(current)
    return fired
