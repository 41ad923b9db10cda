"""reconciliation: each run of a day's payment-channel statement against our bookings, and the
work orders its differences open for operations

Revision ID: 0024
Revises: 0023
Created: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reconciliation_run',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('ran_at', sa.DateTime(), nullable=False),
        sa.Column('ran_by', sa.String(length=64), nullable=False),
        sa.Column('statement_lines', sa.Integer(), nullable=False),
        sa.Column('booked', sa.Integer(), nullable=False),
        sa.Column('matched', sa.Integer(), nullable=False),
        sa.Column('differences', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_reconciliation_run_business_date', 'reconciliation_run', ['business_date'])
    op.create_table(
        'reconciliation_work_order',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('reference', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('loan_number', sa.String(length=64), nullable=True),
        sa.Column('channel_amount', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('booked_amount', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('account', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('opened_at', sa.DateTime(), nullable=False),
        sa.Column('resolved_by', sa.String(length=64), nullable=True),
        sa.Column('resolved_at', sa.DateTime(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('business_date', 'reference'),
    )
    op.create_index('ix_reconciliation_work_order_business_date', 'reconciliation_work_order', ['business_date'])
    op.create_index('ix_reconciliation_work_order_branch_code', 'reconciliation_work_order', ['branch_code'])
    op.create_index('ix_reconciliation_work_order_status', 'reconciliation_work_order', ['status'])


def downgrade() -> None:
    op.drop_table('reconciliation_work_order')
    op.drop_table('reconciliation_run')
