"""Disbursement (支用放款): open the loan account with its schedule and pay the principal out.

Posting keys derive from the application, so a retried step never opens or pays a loan twice.
"""
from __future__ import annotations

from dataclasses import dataclass

from handlers.context import HandlerContext
from ledger.loans import disburse as pay_out
from ledger.loans import open_loan
from privacy import keyring_for


@dataclass(frozen=True)
class Disbursed:
    loan_id: str                # the loan number, which the API and the servicing processes use
    disbursement_entry_id: int
    disbursed_on: str


def _holiday_roll(ctx: HandlerContext):
    """How a due date on a holiday moves, as the product says: to the next working day of the
    bank's calendar (`ctx.services["business_calendar"]` loads it), or not at all."""
    if ctx.product.get("holiday_rule") != "next_working_day":
        return None
    return ctx.services["business_calendar"](ctx.session).roll_forward


def disburse(ctx: HandlerContext, data: dict) -> Disbursed:
    contract = data["contract"]
    terms = contract["terms"]
    loan = open_loan(
        ctx.session,
        loan_number=contract["number"],
        branch=ctx.branch["code"],
        customer_id=keyring_for(ctx.session).lookup_hash(terms["borrower"]["id_number"]),  # a reference, not the number
        product_code=terms["product"],
        principal=terms["principal"],
        annual_rate=terms["annual_rate"],
        term_months=terms["term_months"],
        method=terms["repayment_method"],
        start_date=ctx.business_date,
        deposit_account=terms["deposit_account"],
        roll_due_date=_holiday_roll(ctx),
        # The application's limit dimensions travel with the loan, so every later posting keeps
        # the branch's exposure rows (what limit checks read) in step with its principal.
        exposure_tags=ctx.services["exposure"].dimensions(ctx.session, ctx.application_id),
    )
    entry = pay_out(ctx.session, loan.id, posting_key=f"disbursement:{ctx.application_id}",
                    business_date=ctx.business_date)
    return Disbursed(loan_id=loan.loan_number, disbursement_entry_id=entry.id,
                     disbursed_on=ctx.business_date.isoformat())
