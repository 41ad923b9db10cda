"""Live exposure for limit checks: what a branch has outstanding, by customer and by dimension.

Outstanding principal is the ledger's (ledger_loan_account.principal_outstanding); the limit
dimensions are the application's. They meet on the loan number, which the disbursement handler
writes to both. Handlers receive this as `ctx.services["exposure"]`, so they need not know where
either half lives.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ledger.tables import LoanAccount
from workflows.models import Application

# scoring's dimension names -> the application's columns
DIMENSION_COLUMNS = {
    "region": Application.region,
    "institution": Application.branch_code,
    "product": Application.product_code,
    "industry": Application.industry,
    "loan_purpose": Application.purpose,
    "guarantee_method": Application.guarantee_method,
    "customer_type": Application.customer_type,
}


def _outstanding(session: Session, branch: str, *conditions) -> Decimal:
    query = (select(func.coalesce(func.sum(LoanAccount.principal_outstanding), 0))
             .select_from(Application)
             .join(LoanAccount, LoanAccount.loan_number == Application.loan_id)
             .where(Application.branch_code == branch, *conditions))
    return Decimal(session.scalar(query))


def live_exposure(session: Session, *, branch: str, id_number: str, needed: list[dict[str, str]],
                  key_of) -> dict:
    """{"customer", "book", "by_key"} as scoring.limits.check_limits reads it."""
    by_key = {}
    for values in needed:
        conditions = [DIMENSION_COLUMNS[name] == value for name, value in values.items()]
        by_key[key_of(values)] = _outstanding(session, branch, *conditions)
    return {"customer": _outstanding(session, branch, Application.id_number == id_number),
            "book": _outstanding(session, branch), "by_key": by_key}


def application_dimensions(session: Session, application_id: str) -> dict[str, str]:
    application = session.get(Application, application_id)
    return {name: getattr(application, column.key) for name, column in DIMENSION_COLUMNS.items()}


class Exposure:
    """What handlers see as ctx.services["exposure"]."""
    dimensions = staticmethod(application_dimensions)
    live = staticmethod(live_exposure)
