"""Where a loan stands today, for collections and checks: days past due, what is overdue, what
is owed in all, its class. Read-only; figures as the last end-of-day batch and the repayments
since left them."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from ledger.loans import active_installments, load_loan
from ledger.money import ZERO
from ledger.schedules import parse_date


@dataclass(frozen=True)
class LoanStanding:
    loan_number: str
    status: str                 # active, closed, written_off, ...
    days_past_due: int
    overdue_amount: Decimal     # unpaid principal and interest of installments due before `as_of`, plus penalty
    outstanding: Decimal        # principal outstanding + interest and penalty receivable
    classification: str

    @property
    def current(self) -> bool:
        """Nothing past due any more (or the loan is no longer active: repaid, written off)."""
        return self.status != "active" or (self.days_past_due == 0 and self.overdue_amount == ZERO)


def loan_standing(session: Session, loan_ref: int | str, as_of: Any) -> LoanStanding:
    when: date = parse_date(as_of, "as_of")
    loan = load_loan(session, loan_ref)
    overdue = sum(((row.principal - row.principal_paid) + (row.interest - row.interest_paid)
                   for row in active_installments(session, loan.id)
                   if not row.settled and row.due_date < when), ZERO)
    outstanding = loan.principal_outstanding + loan.interest_receivable + loan.penalty_receivable
    active = loan.status == "active"
    return LoanStanding(loan_number=loan.loan_number, status=loan.status,
                        days_past_due=loan.days_past_due if active else 0,
                        overdue_amount=(overdue + loan.penalty_receivable) if active else ZERO,
                        outstanding=outstanding if active else ZERO, classification=loan.classification)
