"""The exposure rows as the books define them, worked out independently of ledger.exposure's writer:
every loan joined to its application, its principal added under each of its dimensions."""
from __future__ import annotations

import itertools
from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ledger.exposure import encode_tags
from ledger.tables import ExposureBalance, LoanAccount
from workflows.exposure import DIMENSION_COLUMNS
from workflows.models import Application


def expected_keys(customer: str, tags: dict) -> list[tuple[str, str]]:
    """Where a loan counts, written out from the row kinds ledger.exposure documents."""
    keys = [("book", ""), ("customer", customer), ("cell", encode_tags(tags))]
    valued = sorted((name, value) for name, value in tags.items() if value is not None)
    keys += valued
    keys += [(f"{a}+{b}", encode_tags({a: x, b: y})) for (a, x), (b, y) in itertools.combinations(valued, 2)]
    return keys


def rows_from_books(session: Session) -> dict[tuple[str, str, str], Decimal]:
    """{(branch, dimension, value): outstanding} summed loan by loan; zero rows left out."""
    totals: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for row in session.execute(
            select(Application.branch_code, Application.id_number_hash, LoanAccount.principal_outstanding,
                   *DIMENSION_COLUMNS.values())
            .join(LoanAccount, LoanAccount.loan_number == Application.loan_id)):
        branch, customer, outstanding, *values = row
        tags = dict(zip(DIMENSION_COLUMNS, values))
        keys = expected_keys(customer, tags)
        for dimension, value in keys:
            totals[(branch, dimension, value)] += outstanding
    return {key: amount for key, amount in totals.items() if amount}


def rows_in_table(session: Session) -> dict[tuple[str, str, str], Decimal]:
    return {(b, d, v): Decimal(fen) / 100
            for b, d, v, fen in session.execute(select(ExposureBalance.branch, ExposureBalance.dimension,
                                                       ExposureBalance.value, ExposureBalance.amount_fen))
            if fen}
