"""audit chain: each event row sealed into its branch's keyed hash chain (audit_seal) and each
chain's head (audit_chain_head)

Revision ID: 0022
Revises: 0021
Created: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None

BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table(
        'audit_seal',
        sa.Column('id', BIG, autoincrement=True, nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('seq', BIG, nullable=False),
        sa.Column('source', sa.String(length=32), nullable=False),
        sa.Column('source_id', BIG, nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('chain_hash', sa.String(length=64), nullable=False),
        sa.Column('sealed_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('branch_code', 'seq'),
        sa.UniqueConstraint('source', 'source_id'),
    )
    op.create_table(
        'audit_chain_head',
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('seq', BIG, nullable=False),
        sa.Column('chain_hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('branch_code'),
    )


def downgrade() -> None:
    op.drop_table('audit_chain_head')
    op.drop_table('audit_seal')
