"""four-eyes publishing: a scope's publish policy, and releases waiting for a second analyst

Revision ID: 0010
Revises: 0009
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'publish_policy',
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('four_eyes', sa.Boolean(), nullable=False),
        sa.Column('set_by', sa.String(length=64), nullable=False),
        sa.Column('set_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('scope'),
    )
    op.create_table(
        'release_request',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=False),
        sa.Column('files', sa.JSON(), nullable=False),
        sa.Column('withdraw', sa.JSON(), nullable=False),
        sa.Column('base_file_ids', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('decided_by', sa.String(length=64), nullable=True),
        sa.Column('decided_at', sa.DateTime(), nullable=True),
        sa.Column('decision_comment', sa.String(length=500), nullable=False),
        sa.Column('deployment_version', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('release_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_release_request_scope'), ['scope'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('release_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_release_request_scope'))
    op.drop_table('release_request')
    op.drop_table('publish_policy')
