"""Live exposure for limit checks: what a branch has outstanding, by customer and by dimension.

Outstanding principal is the ledger's (ledger_loan_account.principal_outstanding); the limit
dimensions are the application's. They meet on the loan number, which the disbursement handler
writes to both. Handlers receive this as `ctx.services["exposure"]`, so they need not know where
either half lives.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ledger.tables import LoanAccount
from privacy import keyring_for
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


def live_exposure(session: Session, *, branch: str, id_number: str, needed: list[dict[str, str]],
                  key_of) -> dict:
    """{"customer", "book", "by_key"} as scoring.limits.check_limits reads it, in one query."""
    outstanding = LoanAccount.principal_outstanding

    def total_where(*conditions):
        return func.coalesce(func.sum(case((and_(*conditions), outstanding), else_=0)), 0)

    columns = [func.coalesce(func.sum(outstanding), 0), total_where(Application.id_number_hash == keyring_for(session).lookup_hash(id_number))]
    columns += [total_where(*(DIMENSION_COLUMNS[name] == value for name, value in values.items()))
                for values in needed]
    row = session.execute(select(*columns).select_from(Application)
                          .join(LoanAccount, LoanAccount.loan_number == Application.loan_id)
                          .where(Application.branch_code == branch)).one()
    return {"book": Decimal(row[0]), "customer": Decimal(row[1]),
            "by_key": {key_of(values): Decimal(total) for values, total in zip(needed, row[2:])}}


def application_dimensions(session: Session, application_id: str) -> dict[str, str]:
    application = session.get(Application, application_id)
    return {name: getattr(application, column.key) for name, column in DIMENSION_COLUMNS.items()}


class Exposure:
    """What handlers see as ctx.services["exposure"]."""
    dimensions = staticmethod(application_dimensions)
    live = staticmethod(live_exposure)
