"""integrator clients: a client id and a hashed secret per integrator's system, limited to branches
and channels; the channel (and partner) an application came in through

Revision ID: 0017
Revises: 0016
Created: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'integrator_client',
        sa.Column('client_id', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('secret_hash', sa.String(length=256), nullable=False),
        sa.Column('branches', sa.String(length=256), nullable=False),
        sa.Column('channels', sa.String(length=64), nullable=False),
        sa.Column('partner_id', sa.String(length=64), nullable=True),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.Column('generation', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('rotated_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint('client_id'),
    )
    with op.batch_alter_table('application', schema=None) as batch_op:
        # Every application before this came in at the counter or through the one demo channel.
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='counter', nullable=False))
        batch_op.add_column(sa.Column('partner_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_column('partner_id')
        batch_op.drop_column('channel')
    op.drop_table('integrator_client')
