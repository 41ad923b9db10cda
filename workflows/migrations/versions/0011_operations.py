"""operations: the workers' heartbeats and a record of each end-of-day batch

Revision ID: 0011
Revises: 0010
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'worker_heartbeat',
        sa.Column('worker_id', sa.String(length=128), nullable=False),
        sa.Column('host', sa.String(length=128), nullable=False),
        sa.Column('pid', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('beat_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('worker_id'),
    )
    with op.batch_alter_table('worker_heartbeat', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_worker_heartbeat_beat_at'), ['beat_at'], unique=False)
    op.create_table(
        'eod_batch_run',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=False),
        sa.Column('duration_seconds', sa.Numeric(precision=12, scale=3), nullable=False),
        sa.Column('figures', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('eod_batch_run', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_eod_batch_run_business_date'), ['business_date'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('eod_batch_run', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_eod_batch_run_business_date'))
    op.drop_table('eod_batch_run')
    with op.batch_alter_table('worker_heartbeat', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_worker_heartbeat_beat_at'))
    op.drop_table('worker_heartbeat')
