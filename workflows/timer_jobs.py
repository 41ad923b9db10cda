"""Firing due BPMN timers: the worker every few seconds, `loanflow tick --at` for operators and tests.

Each timer is claimed (one UPDATE .. RETURNING, `FOR UPDATE SKIP LOCKED` on PostgreSQL) and
fired in its own unit of work, so any number of workers fire each due timer exactly once, and one
instance's failure cannot undo another's step. Timers fire in due order, each at the moment asked
for: a catch-up after downtime runs as the worker would have.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import select, update

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
                timer = session.scalars(_claim(cutoff, skipped)).first()
                if timer is None:
                    break
                current = timer.id
                instance = layer.fire_timer(session, timer, at)
                status = layer.use_case(instance.process_id).business_status(session, instance)
                fired.append(FiredTimer(instance.application_id, timer.element_id, timer.due_at, status,
                                        instance.id, instance.process_id))
        except WorkflowError as err:  # e.g. the instance changed under us: leave the row for next time
            log.warning("timer %s not fired: %s", current, err.message)
            skipped.add(current)
    return fired


def _claim(cutoff: dt.datetime, skipped: set[int]):
    """One statement that claims the oldest due unfired row and marks it fired, returning it:
    `UPDATE .. WHERE id = (SELECT .. LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ..`. The row is
    marked before the step runs, so the step's rewrite of the instance's unfired rows keeps it,
    and it reads the partial index `ix_due_timer_unfired` in claim order, stopping at the first
    row no other worker holds. The mark is undone with the step if the step fails."""
    oldest = (select(DueTimer.id).where(DueTimer.fired_at.is_(None), DueTimer.due_at <= cutoff)
              .order_by(DueTimer.due_at, DueTimer.id).limit(1).with_for_update(skip_locked=True))
    if skipped:
        oldest = oldest.where(DueTimer.id.not_in(skipped))
    return (update(DueTimer).where(DueTimer.id == oldest.scalar_subquery()).values(fired_at=cutoff)
            .returning(DueTimer).execution_options(synchronize_session=False))
