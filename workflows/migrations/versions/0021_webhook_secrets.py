"""webhook secrets: each integrator's signing secrets (sealed), the current one and a rotated one
still in force

Revision ID: 0021
Revises: 0020
Created: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'webhook_secret',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('integrator', sa.String(length=64), nullable=False),
        sa.Column('secret', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('valid_until', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_webhook_secret_integrator', 'webhook_secret', ['integrator'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_secret_integrator', table_name='webhook_secret')
    op.drop_table('webhook_secret')
