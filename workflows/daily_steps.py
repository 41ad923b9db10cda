"""The steps that run after each business date's end-of-day batch (signals, reminders, ...).

The worker runs them right after its nightly batch closes a date, and `loanflow tick` after each
date it closes while catching up, so both run the same list in the same order. To add a step,
append one line to AFTER_END_OF_DAY:

    DailyStep("early_warning", lambda day: generate_signals(day.db, day.business_date)),

A step gets the `Day` (the database, the origination service, the date just closed, and the moment
it runs) and returns a short summary (a dict is printed as JSON). It runs on that moment's clock
(`clock_at`), so instances it starts or advances see the same time as the batch before it.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from typing import Callable

from ledger.errors import LedgerError
from workflows.db import Database
from workflows.early_warning import early_warning_step
from workflows.errors import WorkflowError
from workflows.origination import Origination
from workflows.timers import clock_at

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Day:
    db: Database
    origination: Origination | None
    business_date: dt.date   # the date the batch just closed
    at: dt.datetime          # aware: the moment the step runs (00:30 China time the day after)


@dataclass(frozen=True)
class DailyStep:
    name: str
    run: Callable[[Day], object]


def _collections(day: Day) -> dict | str:
    from workflows.collection_ladder import collections_after_eod

    if day.origination is None:
        return "skipped: no process layer"
    return collections_after_eod(day.db, day.origination.layer, day.business_date, at=day.at).summary()


def _classification(day: Day) -> dict | str:
    from workflows.classification_review import classification_after_eod

    if day.origination is None:
        return "skipped: no process layer"
    return classification_after_eod(day.db, day.origination.layer, day.business_date, at=day.at).summary()


def _reminders(day: Day) -> dict | str:
    from workflows.reminders import send_reminders

    if day.origination is None:
        return "skipped: no process layer"
    return send_reminders(day.db, day.origination.layer, day.business_date).summary()


def _credit_lines(day: Day) -> dict | str:
    """Lines whose expiry date has passed become `expired` (a drawdown checks the date itself; this
    writes it down for lists and the history)."""
    if day.origination is None:
        return "skipped: no process layer"
    with day.db.unit_of_work() as session:
        expired = day.origination.credit_lines.expire_due(session, day.business_date + dt.timedelta(days=1))
    return {"expired": expired}


# The ladder texts overdue loans (D+1 onwards); reminders text loans not yet overdue (N days
# before a due date, and on the due date after a failed debit), so each loan gets one text a night.
AFTER_END_OF_DAY: list[DailyStep] = [
    DailyStep("collections", _collections),
    DailyStep("classification", _classification),
    DailyStep("reminders", _reminders),
    DailyStep("early_warning", early_warning_step),
    DailyStep("credit_lines", _credit_lines),
]


@dataclass(frozen=True)
class StepOutcome:
    name: str
    summary: str
    failed: bool = False


def run_after_end_of_day(day: Day, steps: list[DailyStep] | None = None) -> list[StepOutcome]:
    """Run each step for the day, in order. A step's business failure is reported and the next
    step still runs, as the next night's batch would still run: one step cannot hold up the books."""
    outcomes = []
    for step in AFTER_END_OF_DAY if steps is None else steps:
        try:
            with clock_at(lambda: day.at):
                result = step.run(day)
        except (WorkflowError, LedgerError) as err:
            log.error("after-EOD step %s for %s failed: %s", step.name, day.business_date, err.message)
            outcomes.append(StepOutcome(step.name, f"failed: {err.message}", failed=True))
            continue
        outcomes.append(StepOutcome(step.name, _summary(result)))
    return outcomes


def _summary(result: object) -> str:
    if result is None:
        return "done"
    if isinstance(result, (dict, list)):
        return json.dumps(result, default=str, sort_keys=True)
    return str(result)
