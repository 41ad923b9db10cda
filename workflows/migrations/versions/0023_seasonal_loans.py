"""seasonal loans: a loan's harvest months and grace period, so its principal dates survive a
regenerated schedule

Revision ID: 0023
Revises: 0022
Created: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_loan_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('harvest_months', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('grace_months', sa.Integer(), server_default='0', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('ledger_loan_account', schema=None) as batch_op:
        batch_op.drop_column('grace_months')
        batch_op.drop_column('harvest_months')
