"""Five-level classification (五级分类) the review process records: the risk officer's decision on
the batch's proposal, with the customer manager's reason (ledger.classification_review)."""
from __future__ import annotations

from dataclasses import dataclass

from handlers.context import HandlerContext
from handlers.errors import HandlerError
from ledger import service as ledger


@dataclass(frozen=True)
class ClassDecided:
    classification_decision: str   # approved or rejected
    classification: str            # the loan's class after the decision
    decided_by: str
    decided_on: str


def record_decision(ctx: HandlerContext, data: dict) -> ClassDecided:
    decided_by = data.get("completed_by")
    if not decided_by:
        raise HandlerError("a classification decision names the risk officer who made it", field="completed_by")
    current = ledger.load_proposal(ctx.session, int(data["proposal_id"]))
    if current.status in ("withdrawn", "superseded"):
        # The batch closed the proposal while this step waited (e.g. an incident being retried):
        # there is nothing left to decide, and the loan keeps its class.
        loan = ledger.load_loan(ctx.session, current.loan_id)
        return ClassDecided(classification_decision=current.status, classification=loan.classification,
                            decided_by=decided_by, decided_on=ctx.business_date.isoformat())
    proposal = ledger.decide_proposal(
        ctx.session, int(data["proposal_id"]), approve=data.get("decision") == "approve",
        reason=data.get("class_reason") or "", proposed_by=data.get("proposed_by") or "",
        decided_by=decided_by, comment=data.get("comment") or "", business_date=ctx.business_date)
    loan = ledger.load_loan(ctx.session, proposal.loan_id)
    return ClassDecided(classification_decision=proposal.status, classification=loan.classification,
                        decided_by=decided_by, decided_on=ctx.business_date.isoformat())
