"""business calendar: a year's holidays and swapped working weekends, maintained by HQ

Revision ID: 0013
Revises: 0010
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0013'
down_revision = '0010'
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


def downgrade() -> None:
    op.drop_table('business_calendar')
