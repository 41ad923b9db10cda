"""Live exposure for limit checks: what a branch has outstanding, by customer and by dimension.

Outstanding principal is the ledger's; the limit dimensions are the application's. The
disbursement handler copies the application's dimensions (`dimensions`) onto the loan as its
exposure tags, and from then on every posting that moves the loan's principal moves the ledger's
exposure rows in the same transaction (ledger.exposure). A limit check reads a handful of those
rows (`live_exposure`), so it costs the same at 1M loans as at 1,000.

`exposure_from_books` is the same figure summed from the books (the loans joined to their
applications): the definition the rows are held to (tests), and the cost they replace (bench).
Handlers receive this as `ctx.services["exposure"]`, so they need not know where either half lives.
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from ledger.exposure import exposure_of
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
    """{"customer", "book", "by_key"} as scoring.limits.check_limits reads it, from the ledger's
    exposure rows (one indexed query)."""
    figures = exposure_of(session, branch=branch, customer=keyring_for(session).lookup_hash(id_number),
                          combinations=needed)
    return {"book": figures.book, "customer": figures.customer,
            "by_key": {key_of(values): total for values, total in zip(needed, figures.totals)}}


def exposure_from_books(session: Session, *, branch: str, id_number: str, needed: list[dict[str, str]],
                        key_of) -> dict:
    """The same figures summed from the whole book (one aggregate over the branch's loans)."""
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
