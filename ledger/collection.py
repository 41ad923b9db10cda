"""What auto-debit should collect on a business date (到期自动扣款), per loan, in one statement.

The ledger holds no deposit balances (the core banking system does): this module only says what
is due; the payment channel debits it and `ledger.servicing.repay` books what was collected.

The amount due is exactly what `repay` treats as due on that value date, so collecting it and
repaying it settles the due installments without an early repayment: the penalty receivable,
plus the unpaid interest and principal of every active, unsettled installment due on or before
the date (overdue ones and today's). Interest of the current, not yet due period is not due.
Functions never commit.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, cast, func, or_, select
from sqlalchemy.orm import Session

from ledger.schedules import parse_date
from ledger.tables import LoanAccount, LoanInstallment


@dataclass(frozen=True)
class DueCollection:
    loan_id: int
    loan_number: str
    branch: str
    deposit_account: str
    business_date: date
    penalty: Decimal
    interest: Decimal
    principal: Decimal
    reference: str

    @property
    def amount(self) -> Decimal:
        return self.penalty + self.interest + self.principal

    def to_dict(self) -> dict[str, Any]:
        return {"loan_id": self.loan_id, "loan_number": self.loan_number, "branch": self.branch,
                "deposit_account": self.deposit_account, "business_date": self.business_date.isoformat(),
                "penalty": str(self.penalty), "interest": str(self.interest), "principal": str(self.principal),
                "amount": str(self.amount), "reference": self.reference}


def collection_reference(loan_number: str, business_date: date) -> str:
    """One reference per loan and business date: the payment channel's idempotency key and the
    repayment's posting key, so a repeated run can neither debit nor book twice."""
    return f"autodebit:{loan_number}:{business_date.isoformat()}"


def _fen(column):
    # SQLite keeps NUMERIC as binary floats: sum whole fen (exact on both backends), as the batch does.
    return cast(func.round(column * 100), BigInteger)


def _yuan(fen: Any) -> Decimal:
    # Whole fen to yuan: a shift of the decimal point, no rounding involved.
    return Decimal(int(fen or 0)).scaleb(-2)


def due_collections(session: Session, business_date: Any) -> list[DueCollection]:
    """Every active loan with something due and unpaid on or before `business_date`, in loan order.

    Loans whose interest is already accrued past the date are left out: `repay` refuses a value
    date before that watermark, and debiting money the ledger would then refuse to book is worse
    than not debiting it.
    """
    when = parse_date(business_date, "business_date")
    day = when.toordinal()
    unpaid = (
        select(
            LoanInstallment.loan_id,
            cast(func.sum(_fen(LoanInstallment.principal) - _fen(LoanInstallment.principal_paid)),
                 BigInteger).label("principal_fen"),
            cast(func.sum(_fen(LoanInstallment.interest) - _fen(LoanInstallment.interest_paid)),
                 BigInteger).label("interest_fen"),
        )
        .where(LoanInstallment.settled.is_(False), LoanInstallment.due_day <= day,
               LoanInstallment.active.is_(True))
        .group_by(LoanInstallment.loan_id)
        .subquery()
    )
    rows = session.execute(
        select(LoanAccount.id, LoanAccount.loan_number, LoanAccount.branch, LoanAccount.deposit_account,
               _fen(LoanAccount.penalty_receivable), unpaid.c.interest_fen, unpaid.c.principal_fen)
        .outerjoin(unpaid, unpaid.c.loan_id == LoanAccount.id)
        .where(LoanAccount.status == "active", LoanAccount.start_date <= when,
               LoanAccount.accrued_through_day <= day,
               # Penalty alone is due too (a custom allocation order can leave it behind).
               or_(unpaid.c.loan_id.is_not(None), LoanAccount.penalty_receivable > 0))
        .order_by(LoanAccount.id)
    ).all()
    found = []
    for loan_id, number, branch, account, penalty_fen, interest_fen, principal_fen in rows:
        due = DueCollection(loan_id, number, branch, account, when, _yuan(penalty_fen), _yuan(interest_fen),
                            _yuan(principal_fen), collection_reference(number, when))
        if due.amount > 0:
            found.append(due)
    return found
