"""Loan book reports: outstanding principal by branch, product and five-level class, NPL ratio."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.money import ZERO, from_database, high_precision
from ledger.tables import LoanAccount

# Non-performing loans (不良贷款) are the bottom three of the five classes.
NON_PERFORMING = ("substandard", "doubtful", "loss")


def npl_ratio(non_performing: Decimal, total: Decimal) -> Decimal:
    """NPL ratio as a fraction with four places (0.0123 = 1.23 %); 0 for an empty book."""
    if total == 0:
        return Decimal("0.0000")
    with high_precision():
        return (non_performing / total).quantize(Decimal("0.0001"))


def loan_book(session: Session, *, branch: str | None = None, product: str | None = None) -> dict[str, Any]:
    query = (
        select(LoanAccount.branch, LoanAccount.product_code, LoanAccount.classification,
               func.count(), func.sum(LoanAccount.principal_outstanding))
        .where(LoanAccount.status == "active")
        .group_by(LoanAccount.branch, LoanAccount.product_code, LoanAccount.classification)
        .order_by(LoanAccount.branch, LoanAccount.product_code, LoanAccount.classification)
    )
    if branch:
        query = query.where(LoanAccount.branch == branch)
    if product:
        query = query.where(LoanAccount.product_code == product)
    rows = []
    total = bad = ZERO
    for row_branch, row_product, classification, count, principal in session.execute(query):
        amount = from_database(principal)
        rows.append({"branch": row_branch, "product": row_product, "classification": classification,
                     "loans": count, "principal_outstanding": str(amount)})
        total += amount
        if classification in NON_PERFORMING:
            bad += amount
    return {"branch": branch, "product": product, "rows": rows, "principal_outstanding": str(total),
            "non_performing": str(bad), "npl_ratio": str(npl_ratio(bad, total))}
