"""BPMN timers on a clock we control, and when each waiting timer is due.

SpiffWorkflow's timer events read `datetime.now()` themselves, and read a time without a zone in
the SERVER's zone. A bank needs both under its control: the worker, `loanflow tick --at` and the
tests move one clock, and a time an analyst writes without a zone is China time. So the parser
builds these subclasses instead of SpiffWorkflow's, and they read `engine_now()` — the clock of
the unit of work that is advancing the instance (`clock_at`).

`due_timers(workflow)` lists the waiting timers and their due times, which the worker stores as
rows and fires. What a timer's text may be is checked in `workflows.engine.timer_problem`, at
deployment for a constant and when it is reached for a computed one.

A duration timer may also count the bank's working time (workflows/business_calendar.py): its text
is `working_days(N)` (the same time of day N working days later) or `working_hours(N)` (N hours of
08:30–17:30 on working days), e.g. `'working_days(2)'` or `f'working_hours({hours})'`. It is plain
text, like `'PT48H'`, so the script language needs no new function and the studio edits it as any
timer.
"""
from __future__ import annotations

import datetime as dt
import re
import weakref
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Callable, Iterator
from uuid import UUID

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (CycleTimerEventDefinition,
                                                              DurationTimerEventDefinition,
                                                              TimeDateEventDefinition, TimerEventDefinition)
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.util.task import TaskState

from workflows.business_calendar import MAX_WORKING_DAYS, MAX_WORKING_HOURS, calendar_in_use
from workflows.clock import CHINA

_clock: ContextVar[Callable[[], dt.datetime]] = ContextVar("engine_clock")


def _system_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment.astimezone(dt.timezone.utc)


def moment_override() -> dt.datetime | None:
    """The moment a `clock_at` block set (aware UTC), or None outside one."""
    override = _clock.get(None)
    return override() if override is not None else None


def engine_now() -> dt.datetime:
    """Now, as the unit of work advancing the engine sees it (aware, UTC)."""
    return _clock.get(_system_now)()


@contextmanager
def clock_at(now: Callable[[], dt.datetime]) -> Iterator[None]:
    """Run the engine on `now` (a function returning a datetime; a naive one is UTC, as the models
    store it)."""
    token = _clock.set(lambda: _utc(now()))
    try:
        yield
    finally:
        _clock.reset(token)


def moment(text: str) -> dt.datetime:
    """An ISO-8601 date or time as an aware UTC datetime; without a zone it is China time."""
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=CHINA)
    return value.astimezone(dt.timezone.utc)


def _fired(my_task, due: str) -> bool:
    """Whether a timer due at `due` (ISO text) has fired by the engine's now; once fired, it stays."""
    if moment(due) <= engine_now():
        my_task._set_internal_data(event_fired=True)
    return my_task._get_internal_data("event_fired", False)


class ClockedTimeDate(TimeDateEventDefinition):
    """A timer at a date and time: `'2027-03-01T09:00:00'` (China time unless a zone is given)."""

    def has_fired(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            value = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            my_task._set_internal_data(event_value=moment(value).isoformat())
        return _fired(my_task, my_task._get_internal_data("event_value"))


class ClockedDuration(DurationTimerEventDefinition):
    """A timer a duration after the task started waiting: `'P15D'`, `'PT4H'`, `'working_days(2)'`."""

    def has_fired(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            start = engine_now()
            working = working_time_due(expression, start)
            if working is not None:
                value = working.isoformat()
            else:
                parsed = TimerEventDefinition.parse_iso_duration(expression)
                value = (start + TimerEventDefinition.get_timedelta_from_start(parsed, start)).isoformat()
            my_task._set_internal_data(event_value=value)
        return _fired(my_task, value)


WORKING_TIME = re.compile(r"working_(days|hours)\(\s*(\d{1,6})\s*\)")


def working_time_problem(text: str) -> str | None:
    """Why a `working_days(N)`/`working_hours(N)` text is out of bounds; None if it is fine or is
    not such a text (then it is read as ISO-8601)."""
    found = WORKING_TIME.fullmatch(text.strip())
    if found is None:
        return None
    unit, amount = found.group(1), int(found.group(2))
    bound = MAX_WORKING_DAYS if unit == "days" else MAX_WORKING_HOURS
    return None if amount <= bound else f"working_{unit}() counts at most {bound:,} {unit}"


def working_time_due(text: str, start: dt.datetime) -> dt.datetime | None:
    """When a working-time timer started at `start` is due, on the calendar of the step (aware UTC);
    None if `text` is no working-time text."""
    found = WORKING_TIME.fullmatch(text.strip())
    if found is None:
        return None
    calendar = calendar_in_use()
    amount = int(found.group(2))
    if found.group(1) == "days":
        return calendar.add_working_days(start, amount)
    return calendar.add_working_hours(start, amount)


class ClockedCycle(CycleTimerEventDefinition):
    """A repeating timer: `'R3/PT1H'`, `'R/2027-01-01T09:00:00/P1M'`."""

    def cycle_complete(self, my_task):
        value = my_task._get_internal_data("event_value")
        if value is None:
            expression = str(my_task.workflow.script_engine.evaluate(my_task, self.expression))
            cycles, start, duration = _recurring(expression)
            value = {"cycles": cycles, "next": start.isoformat(), "duration": duration.total_seconds()}
        ready = False
        if value["cycles"] != 0:
            upcoming = dt.datetime.fromisoformat(value["next"])
            if upcoming <= engine_now():
                value["next"] = (upcoming + dt.timedelta(seconds=value["duration"])).isoformat()
                value["cycles"] -= 1
                ready = True
            my_task._set_internal_data(event_value=value)
        else:
            my_task.internal_data.pop("event_value", None)
            my_task.internal_data["event_fired"] = True
        return ready


def _recurring(expression: str) -> tuple[int, dt.datetime, dt.timedelta]:
    """SpiffWorkflow's recurring-interval parser, with its times read as ours (China, our clock)."""
    parts = expression.upper().replace("--", "/").strip("R").split("/")
    cycles = int(parts[0]) if parts[0] else -1
    if len(parts) == 3:
        start = moment(parts[1])
        duration = TimerEventDefinition.get_timedelta_from_start(
            TimerEventDefinition.parse_iso_duration(parts[2]), start)
        return cycles, start, duration
    if len(parts) == 2 and parts[1].startswith("P"):
        now = engine_now()
        duration = TimerEventDefinition.get_timedelta_from_start(TimerEventDefinition.parse_iso_duration(parts[1]), now)
        return cycles, now + duration, duration
    raise ValueError("a cycle is R[n]/duration or R[n]/start/duration")


CLOCKED = {TimeDateEventDefinition: ClockedTimeDate, DurationTimerEventDefinition: ClockedDuration,
           CycleTimerEventDefinition: ClockedCycle}


def clocked(definition):
    """Our clocked version of a timer definition SpiffWorkflow's parser made; others unchanged."""
    ours = CLOCKED.get(type(definition))
    if ours is None:
        return definition
    return ours(definition.name, definition.expression, description=definition.description)


@dataclass(frozen=True)
class DueTimer:
    """A timer an instance waits for: the task, the diagram element, and when it fires (UTC)."""
    task_id: UUID
    element_id: str
    due_at: dt.datetime


def waiting_definitions(spec) -> list[tuple[str, object]]:
    """(element id, event definition) of what a task of this spec waits for. An event-based
    gateway waits for its followers' events, which SpiffWorkflow moves onto the gateway: each is
    named by the element it came from (the timer `step_due`, the message catch `loan_current`)."""
    definition = getattr(spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition):
        return [(out.bpmn_id or out.name, member) for out, member in zip(spec.outputs, definition.event_definitions)]
    return [(spec.bpmn_id or spec.name, definition)] if definition is not None else []


def timer_element(task) -> str | None:
    """The element id of the timer a task waits for (its own, or an event-based gateway's follower)."""
    return next((element for element, d in waiting_definitions(task.task_spec)
                 if isinstance(d, TimerEventDefinition)), None)


def timer_due(task) -> dt.datetime | None:
    """When a waiting timer task fires next (aware UTC); None for any other task, or a cycle that is over."""
    if task.state != TaskState.WAITING or timer_element(task) is None:
        return None
    value = task._get_internal_data("event_value")
    if isinstance(value, dict):
        return dt.datetime.fromisoformat(value["next"]) if value.get("cycles") else None
    return moment(value) if value else None


def due_timers(workflow) -> list[DueTimer]:
    """Every waiting timer of a workflow (subprocesses included) with its due time."""
    found = []
    for task in workflow.get_tasks(state=TaskState.WAITING):
        element = timer_element(task)
        if element is None:
            continue
        due = timer_due(task)
        if due is not None:
            found.append(DueTimer(task.id, element, due))
    return sorted(found, key=lambda t: t.due_at)


def first_boundary_timer_due(task) -> dt.datetime | None:
    """The earliest timer waiting on a task's border (its boundary events), aware UTC; None if none.
    SpiffWorkflow makes a task with boundary events a child of a split, beside its events."""
    if task.parent is None or not isinstance(task.parent.task_spec, BoundaryEventSplit):
        return None
    dues = [due for sibling in task.parent.children if sibling is not task
            for due in [timer_due(sibling)] if due is not None]
    return min(dues, default=None)


# -- rows -------------------------------------------------------------------------------------------
_TIMED_SPECS: "weakref.WeakKeyDictionary[object, bool]" = weakref.WeakKeyDictionary()


def _has_timers(workflow) -> bool:
    """Whether any diagram of this instance has a timer; cached per parsed spec (immutable), so a
    step of a process without timers costs no statement at all."""
    key = workflow.spec  # weakly: an id() could be reused by another spec once this one is gone
    if key not in _TIMED_SPECS:
        specs = [workflow.spec, *workflow.subprocess_specs.values()]
        _TIMED_SPECS[key] = any(isinstance(d, TimerEventDefinition)
                                for spec in specs for ts in spec.task_specs.values()
                                for _, d in waiting_definitions(ts))
    return _TIMED_SPECS[key]


def sync_due_timers(session, instance_id: str, workflow) -> None:
    """Make the instance's unfired timer rows what the workflow now waits for."""
    if not _has_timers(workflow):
        return
    from sqlalchemy import delete

    from workflows.models import DueTimer

    session.execute(delete(DueTimer).where(DueTimer.instance_id == instance_id, DueTimer.fired_at.is_(None)))
    session.add_all(DueTimer(instance_id=instance_id, task_id=str(t.task_id), element_id=t.element_id,
                             due_at=t.due_at.astimezone(dt.timezone.utc).replace(tzinfo=None))
                    for t in due_timers(workflow))
