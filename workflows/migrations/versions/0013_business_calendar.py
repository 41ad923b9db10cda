"""business calendar: a year's holidays and swapped working weekends, maintained by HQ; a
product's holiday rule for due dates

Revision ID: 0013
Revises: 0012
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'business_calendar',
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('year'),
    )
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holiday_rule', sa.String(length=24), server_default='none', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('holiday_rule')
    op.drop_table('business_calendar')
