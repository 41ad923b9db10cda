"""Collections (催收) steps the collections diagram automates: check the loan, hand it to the
agency, and write it off once head office approved.

Posting keys derive from the instance, so a retried step never posts twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from handlers.context import HandlerContext
from handlers.errors import HandlerError
from ledger import service as ledger


@dataclass(frozen=True)
class LoanChecked:
    """The loan as the ladder sees it before a step; `loan_current` ends the ladder."""
    loan_current: bool
    days_past_due: int
    overdue_amount: Decimal
    outstanding: Decimal
    classification: str


@dataclass(frozen=True)
class AgencyAssigned:
    agency_assigned_on: str      # ISO date; the agency works from the case's history
    agency_case_reference: str


@dataclass(frozen=True)
class WrittenOff:
    write_off_entry_id: int
    written_off_amount: Decimal
    written_off_on: str


def check_loan(ctx: HandlerContext, data: dict) -> LoanChecked:
    standing = ledger.loan_standing(ctx.session, data["loan_id"], ctx.business_date)
    return LoanChecked(loan_current=standing.current, days_past_due=standing.days_past_due,
                       overdue_amount=standing.overdue_amount, outstanding=standing.outstanding,
                       classification=standing.classification)


def assign_agency(ctx: HandlerContext, data: dict) -> AgencyAssigned:
    # There is no agency system to call yet: the hand-over is recorded on the case (its history
    # and this reference), which is what the agency's contract asks the bank to keep.
    return AgencyAssigned(agency_assigned_on=ctx.business_date.isoformat(),
                          agency_case_reference=f"AG-{data['loan_id']}-{ctx.business_date:%Y%m%d}")


def write_off(ctx: HandlerContext, data: dict) -> WrittenOff:
    """核销: head office approved; the loan is classed loss (write-off requires it) and written off."""
    approver = data.get("completed_by")
    if not approver:
        raise HandlerError("a write-off needs the approver who decided it", field="completed_by")
    standing = ledger.loan_standing(ctx.session, data["loan_id"], ctx.business_date)
    when = ctx.business_date.isoformat()
    reason = f"write-off approved by {approver}: {data.get('comment') or ''}"[:400]
    if standing.classification != "loss":
        ledger.override_classification(ctx.session, data["loan_id"], "loss", reason=reason, approver=approver,
                                       posting_key=f"collections:{ctx.instance_id}:loss", business_date=when)
    entry = ledger.write_off(ctx.session, data["loan_id"], posting_key=f"collections:{ctx.instance_id}:write_off",
                             business_date=when, reason=reason)
    return WrittenOff(write_off_entry_id=entry.id, written_off_amount=standing.outstanding, written_off_on=when)
