"""studio drafts: an analyst's unpublished edits, per scope and file name; withdrawn files

A deployment may withdraw a file: from that version on its scope no longer provides it, and a
branch falls back to head office's (the studio's "remove override", and a rollback past the
version that added a file).

Revision ID: 0009
Revises: 0008
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'studio_draft',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('base_file_id', sa.Integer(), nullable=True),
        sa.Column('withdraw', sa.Boolean(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('author', 'scope', 'name'),
    )
    with op.batch_alter_table('deployment_file', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn', sa.Boolean(), server_default=sa.text('false'), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('deployment_file', schema=None) as batch_op:
        batch_op.drop_column('withdrawn')
    op.drop_table('studio_draft')
