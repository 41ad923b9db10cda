"""How much interest an installment has accrued: one rule shared by Python and the batch's SQL.

A row accrues `accrual_amount` linearly over its days from `accrual_from_day` to `due_day` on top
of `accrual_base`; it has accrued through the loan's `accrued_through_day` (the watermark the
batch advances). Posted accruals always equal this figure, so the batch writes one row per loan
(the watermark and the receivable), never the installment rows.
"""
from __future__ import annotations

from decimal import Decimal

from ledger.money import high_precision, sql_fen_ratio, to_fen
from ledger.tables import LoanAccount, LoanInstallment


def accrued_interest(loan: LoanAccount, row: LoanInstallment, through_day: int | None = None) -> Decimal:
    day = loan.accrued_through_day if through_day is None else through_day
    span = row.due_day - row.accrual_from_day
    if span <= 0 or day <= row.accrual_from_day:
        return row.accrual_base
    elapsed = min(day, row.due_day) - row.accrual_from_day
    with high_precision():
        return row.accrual_base + to_fen(row.accrual_amount * elapsed / span)


def sql_accrued_fen(amount_fen: str, day: str, from_day: str, due_day: str) -> str:
    """SQL for the linear part (without the base) accrued through `day`, in integer fen."""
    elapsed = (f"(CASE WHEN {day} <= {from_day} THEN 0 WHEN {day} >= {due_day} THEN {due_day} - {from_day} "
               f"ELSE {day} - {from_day} END)")
    return sql_fen_ratio(f"{amount_fen} * {elapsed}", f"({due_day} - {from_day})")
