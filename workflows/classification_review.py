"""Classification review (五级分类认定) after each end-of-day batch: a review instance for each class
the batch proposed, and the open reviews of proposals it withdrew closed.

    run = classification_after_eod(db, layer, date(2027, 3, 1))   # the date the batch just closed

The batch (ledger.classification_review, with REVIEWED_CLASSIFICATION) holds a downgrade to 次级 or
worse and every upgrade as a proposal; here two queries find the pending proposals without a
review and the closed ones whose review is still open. Only those get a step: a new
classification_review instance (customer manager's reason, then the risk officer's decision), or
the `classification_withdrawn` message. Re-running a date finds nothing new.
"""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from sqlalchemy import cast, select, String

from ledger.classification_review import PENDING, SUPERSEDED, WITHDRAWN
from ledger.eod import ClassificationPolicy
from ledger.tables import ClassificationProposal, LoanAccount
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

CLASSIFICATION_REVIEW = "classification_review"
WITHDRAWN_MESSAGE = "classification_withdrawn"
# The bank's batch: the regulator's thresholds, with maker-checker on the moves that need it.
REVIEWED_CLASSIFICATION = ClassificationPolicy(review=True)


@dataclass(frozen=True)
class ReviewRun:
    business_date: dt.date
    started: tuple[int, ...]     # proposal ids a review started for
    withdrawn: tuple[int, ...]   # proposal ids whose open review was closed

    def summary(self) -> dict:
        return {"started": len(self.started), "withdrawn": len(self.withdrawn)}


def _reviews():
    return (select(CorrelationKey.value.label("proposal_id"), ProcessInstance.id.label("instance_id"),
                   ProcessInstance.status.label("status"))
            .join(ProcessInstance, ProcessInstance.id == CorrelationKey.instance_id)
            .where(CorrelationKey.name == "proposal_id", ProcessInstance.process_id == CLASSIFICATION_REVIEW))


def classification_after_eod(db: Database, layer: ProcessLayer, business_date: dt.date, *,
                             at: dt.datetime | None = None) -> ReviewRun:
    """`at` (aware) is the batch's moment; by default the worker's, 00:30 China time the day after."""
    at = at or dt.datetime.combine(business_date + dt.timedelta(days=1), dt.time(0, 30), CHINA)
    with clock_at(lambda: at):
        return _run(db, layer, business_date)


def _run(db: Database, layer: ProcessLayer, business_date: dt.date) -> ReviewRun:
    reviews = _reviews().subquery()
    proposal_key = cast(ClassificationProposal.id, String)
    with db.read_sessions() as session:
        unreviewed = session.execute(
            select(ClassificationProposal, LoanAccount.loan_number, LoanAccount.principal_outstanding)
            .join(LoanAccount, LoanAccount.id == ClassificationProposal.loan_id)
            .where(ClassificationProposal.status == PENDING, proposal_key.not_in(select(reviews.c.proposal_id)))
            .order_by(ClassificationProposal.id)).all()
        closed_but_open = session.execute(
            select(ClassificationProposal.id, LoanAccount.loan_number)
            .join(LoanAccount, LoanAccount.id == ClassificationProposal.loan_id)
            .join(reviews, reviews.c.proposal_id == proposal_key)
            .where(ClassificationProposal.status.in_((WITHDRAWN, SUPERSEDED)), reviews.c.status != COMPLETED)
            .order_by(ClassificationProposal.id)).all()
    started = [row.ClassificationProposal.id for row in unreviewed if _start(db, layer, row)]
    withdrawn = [row.id for row in closed_but_open if _withdraw(db, layer, row.id, row.loan_number)]
    return ReviewRun(business_date, tuple(started), tuple(withdrawn))


def _start(db: Database, layer: ProcessLayer, row) -> bool:
    proposal = row.ClassificationProposal
    # One unit of work per proposal: one loan's failure must not undo another's review.
    try:
        with db.unit_of_work() as session:
            application = session.scalar(select(Application).where(Application.loan_id == row.loan_number))
            data = {"proposal_id": str(proposal.id), "loan_id": row.loan_number,
                    "from_class": proposal.from_class, "to_class": proposal.to_class,
                    "days_past_due": proposal.days_past_due, "outstanding": row.principal_outstanding,
                    "amount": row.principal_outstanding, "proposed_on": proposal.business_date.isoformat(),
                    "customer_name": application.customer_name if application else ""}
            layer.begin(session, CLASSIFICATION_REVIEW, proposal.branch, data, SYSTEM,
                        correlation={"loan_id": row.loan_number, "proposal_id": str(proposal.id)})
        return True
    except WorkflowError as err:
        log.error("classification review of proposal %s not started: %s", proposal.id, redact_text(err.message))
        return False


def _withdraw(db: Database, layer: ProcessLayer, proposal_id: int, loan_number: str) -> bool:
    # Not delivered when the review is between its tasks (an incident at the ledger step): its
    # retry finds the proposal closed and stops there.
    message = Message(WITHDRAWN_MESSAGE, f"{WITHDRAWN_MESSAGE}:{proposal_id}",
                      {"proposal_id": str(proposal_id)}, {})
    return deliver_from_batch(db, layer, message, f"classification review of {loan_number}")
