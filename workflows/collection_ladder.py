"""Starting and stopping collections after each end-of-day batch (催收 on the first day past due).

    run = collections_after_eod(db, layer, date(2027, 3, 1))

Set-based: two queries over the books find the loans that became past due without a collection
running, and the running collections whose loan is current again; only those get a step (a
new instance, or the `loan_current` message). Re-running for the same date finds nothing new:
a started collection is running, a stopped one is completed.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import or_, select

from ledger.tables import LoanAccount
from privacy import redact_text
from workflows.clock import CHINA
from workflows.batch_messages import deliver_from_batch
from workflows.db import Database
from workflows.errors import WorkflowError
from workflows.models import Application, CorrelationKey, ProcessInstance
from workflows.process_state import COMPLETED
from workflows.processes import SYSTEM, Message, ProcessLayer
from workflows.timers import clock_at

log = logging.getLogger(__name__)

COLLECTIONS = "collections"
LOAN_CURRENT = "loan_current"


@dataclass(frozen=True)
class LadderRun:
    business_date: dt.date
    started: tuple[str, ...]     # loan numbers a collection started for
    stopped: tuple[str, ...]     # loan numbers whose collection ended because they are current

    def summary(self) -> dict:
        return {"started": len(self.started), "stopped": len(self.stopped)}


def _running_collections():
    return (select(CorrelationKey.value.label("loan_number"), ProcessInstance.id.label("instance_id"))
            .join(ProcessInstance, ProcessInstance.id == CorrelationKey.instance_id)
            .where(CorrelationKey.name == "loan_id", ProcessInstance.process_id == COLLECTIONS,
                   ProcessInstance.status != COMPLETED))


def collections_after_eod(db: Database, layer: ProcessLayer, business_date: dt.date, *,
                          at: dt.datetime | None = None) -> LadderRun:
    """`at` (aware) is the batch's moment, which the steps it takes are recorded at; by default
    the worker's: 00:30 China time the day after the business date."""
    at = at or dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(0, 30), CHINA)
    with clock_at(lambda: at):
        return _run(db, layer, business_date)


def _run(db: Database, layer: ProcessLayer, business_date: dt.date) -> LadderRun:
    running = _running_collections().subquery()
    with db.read_sessions() as session:
        newly_overdue = session.execute(
            select(LoanAccount.loan_number, LoanAccount.branch, LoanAccount.days_past_due,
                   LoanAccount.product_code, LoanAccount.principal_outstanding)
            .where(LoanAccount.status == "active", LoanAccount.days_past_due >= 1,
                   LoanAccount.loan_number.not_in(select(running.c.loan_number)))
            .order_by(LoanAccount.id)).all()
        current_again = session.execute(
            select(running.c.loan_number)
            .join(LoanAccount, LoanAccount.loan_number == running.c.loan_number)
            .where(or_(LoanAccount.status != "active", LoanAccount.days_past_due == 0))).scalars().all()
    started = [loan for loan in newly_overdue if _start(db, layer, loan, business_date)]
    stopped = [loan for loan in current_again if _stop(db, layer, loan, business_date)]
    return LadderRun(business_date, tuple(row.loan_number for row in started), tuple(stopped))


def _start(db: Database, layer: ProcessLayer, loan, business_date: dt.date) -> bool:
    # One unit of work per loan: one loan's failure must not undo another's start.
    try:
        with db.unit_of_work() as session:
            application = session.scalar(select(Application).where(Application.loan_id == loan.loan_number))
            applicant = (application.payload.get("applicant") or {}) if application else {}
            data = {"loan_id": loan.loan_number, "product_code": loan.product_code,
                    "amount": loan.principal_outstanding, "days_past_due": loan.days_past_due,
                    "overdue_since": (business_date - dt.timedelta(days=loan.days_past_due)).isoformat(),
                    # the batch runs after midnight: its steps start that morning, never at night
                    "ladder_started_on": (business_date + dt.timedelta(days=1)).isoformat(),
                    "customer_name": application.customer_name if application else "",
                    "phone": applicant.get("phone"), "steps_done": 0}
            layer.begin(session, COLLECTIONS, loan.branch, data, SYSTEM,
                        correlation={"loan_id": loan.loan_number})
        return True
    except WorkflowError as err:
        log.error("collection for %s not started: %s", loan.loan_number, redact_text(err.message))
        return False


def _stop(db: Database, layer: ProcessLayer, loan_number: str, business_date: dt.date) -> bool:
    # Not delivered when the collection is at a work order, not waiting: its next check sees the
    # loan current.
    message = Message(LOAN_CURRENT, f"{LOAN_CURRENT}:{loan_number}:{business_date.isoformat()}",
                      {"loan_id": loan_number}, {})
    return deliver_from_batch(db, layer, message, f"collection for {loan_number}")
