"""exposure kept incrementally: outstanding principal per branch and limit dimension value

ledger_exposure holds the figures; ledger_loan_account.exposure_tags each loan's dimensions.

Existing loans are tagged from their applications (the loan number links them, as the limit
check's join did) and ledger_exposure is filled from their principal_outstanding, so limit checks
see the same figures after the upgrade as summing the book gave before it. A loan without an
application stays untagged and, as before, counts in no limit. The tag text and the row keys are
written the way ledger.exposure writes them (kept here as they are today, as a revision must).

Revision ID: 0016
Revises: 0015
Created: 2026-12-04
"""
from __future__ import annotations

import itertools
import json
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

# The limit dimension names (scoring.limits) -> the application's columns, as of this revision.
_DIMENSION_COLUMNS = {
    "region": "region", "institution": "branch_code", "product": "product_code", "industry": "industry",
    "loan_purpose": "purpose", "guarantee_method": "guarantee_method", "customer_type": "customer_type",
}
_BATCH = 5000


def upgrade() -> None:
    with op.batch_alter_table('ledger_loan_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('exposure_tags', sa.Text(), nullable=True))
    op.create_table(
        'ledger_exposure',
        sa.Column('branch', sa.String(length=32), nullable=False),
        sa.Column('dimension', sa.String(length=80), nullable=False),
        sa.Column('value', sa.String(length=512), nullable=False),
        sa.Column('amount_fen', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('branch', 'dimension', 'value'),
    )
    _backfill(op.get_bind())


def _encode(tags: dict) -> str:
    return json.dumps({name: tags[name] for name in sorted(tags)}, separators=(",", ":"), ensure_ascii=False)


def _backfill(connection) -> None:
    loan = sa.table('ledger_loan_account', sa.column('id', sa.Integer), sa.column('loan_number', sa.String),
                    sa.column('branch', sa.String), sa.column('customer_id', sa.String),
                    sa.column('principal_outstanding', sa.Numeric(18, 2)), sa.column('exposure_tags', sa.Text))
    application = sa.table('application', sa.column('loan_id', sa.String),
                           *(sa.column(c, sa.String) for c in _DIMENSION_COLUMNS.values()))
    exposure = sa.table('ledger_exposure', sa.column('branch', sa.String), sa.column('dimension', sa.String),
                        sa.column('value', sa.String), sa.column('amount_fen', sa.BigInteger))
    rows = connection.execute(
        sa.select(loan.c.id, loan.c.branch, loan.c.customer_id, loan.c.principal_outstanding,
                  *(application.c[c] for c in _DIMENSION_COLUMNS.values()))
        .select_from(loan.join(application, application.c.loan_id == loan.c.loan_number))
        .order_by(loan.c.id)).all()
    totals: dict[tuple[str, str, str], int] = {}
    tagged, seen = [], set()
    for row in rows:
        if row.id in seen:  # two applications naming one loan: the first one's dimensions
            continue
        seen.add(row.id)
        tags = {name: row._mapping[column] for name, column in _DIMENSION_COLUMNS.items()}
        encoded = _encode(tags)
        tagged.append({"loan": row.id, "tags": encoded})
        fen = int((Decimal(row.principal_outstanding or 0) * 100).to_integral_value())
        keys = [(row.branch, "book", ""), (row.branch, "customer", row.customer_id), (row.branch, "cell", encoded)]
        valued = {name: value for name, value in tags.items() if value is not None}
        keys += [(row.branch, name, value) for name, value in valued.items()]
        keys += [(row.branch, f"{a}+{b}", _encode({a: valued[a], b: valued[b]}))
                 for a, b in itertools.combinations(sorted(valued), 2)]
        for key in keys:
            totals[key] = totals.get(key, 0) + fen
    update = loan.update().where(loan.c.id == sa.bindparam("loan")).values(exposure_tags=sa.bindparam("tags"))
    for start in range(0, len(tagged), _BATCH):
        connection.execute(update, tagged[start:start + _BATCH])
    values = [{"branch": b, "dimension": d, "value": v, "amount_fen": fen} for (b, d, v), fen in totals.items()]
    for start in range(0, len(values), _BATCH):
        connection.execute(exposure.insert(), values[start:start + _BATCH])


def downgrade() -> None:
    op.drop_table('ledger_exposure')
    with op.batch_alter_table('ledger_loan_account', schema=None) as batch_op:
        batch_op.drop_column('exposure_tags')
