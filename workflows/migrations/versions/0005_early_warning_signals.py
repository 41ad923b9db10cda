"""early-warning signals: one row per loan, kind and business date, found after each EOD

Revision ID: 0005
Revises: 0004
Created: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('warning_signal',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('loan_number', sa.String(length=64), nullable=False),
    sa.Column('branch_code', sa.String(length=32), nullable=False),
    sa.Column('customer_id', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('facts', sa.JSON(), nullable=False),
    sa.Column('work_order_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['work_order_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('loan_number', 'kind', 'business_date', name='uq_warning_signal')
    )
    with op.batch_alter_table('warning_signal', schema=None) as batch_op:
        batch_op.create_index('ix_warning_signal_day_customer', ['business_date', 'customer_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('warning_signal', schema=None) as batch_op:
        batch_op.drop_index('ix_warning_signal_day_customer')

    op.drop_table('warning_signal')
