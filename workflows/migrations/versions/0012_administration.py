"""administration: users' outlet, enabled flag and sign-in lockout; outlets; the administrators'
audit trail; delegations; who a delegated task was completed for

Revision ID: 0012
Revises: 0011
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('outlet_code', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('enabled', sa.Boolean(), server_default=sa.text('true'), nullable=False))
        batch_op.add_column(sa.Column('failed_sign_ins', sa.Integer(), server_default=sa.text('0'), nullable=False))
        batch_op.add_column(sa.Column('locked_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_behalf_of', sa.String(length=64), nullable=True))
    op.create_table(
        'outlet',
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('enabled', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['branch_code'], ['branch.code'], ),
        sa.PrimaryKeyConstraint('code'),
    )
    with op.batch_alter_table('outlet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outlet_branch_code'), ['branch_code'], unique=False)
    op.create_table(
        'admin_audit',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('action', sa.String(length=64), nullable=False),
        sa.Column('target_kind', sa.String(length=16), nullable=False),
        sa.Column('target', sa.String(length=64), nullable=False),
        sa.Column('before', sa.JSON(), nullable=False),
        sa.Column('after', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('admin_audit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_admin_audit_branch_code'), ['branch_code'], unique=False)
        batch_op.create_index('ix_admin_audit_target', ['target_kind', 'target'], unique=False)
    op.create_table(
        'delegation',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('delegator', sa.String(length=64), nullable=False),
        sa.Column('delegate', sa.String(length=64), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('roles', sa.String(length=256), nullable=False),
        sa.Column('starts_at', sa.DateTime(), nullable=False),
        sa.Column('ends_at', sa.DateTime(), nullable=False),
        sa.Column('reason', sa.String(length=200), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('ended_at', sa.DateTime(), nullable=True),
        sa.Column('ended_by', sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('delegation', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delegation_delegator'), ['delegator'], unique=False)
        batch_op.create_index('ix_delegation_delegate', ['delegate', 'starts_at'], unique=False)


def downgrade() -> None:
    op.drop_table('delegation')
    op.drop_table('admin_audit')
    op.drop_table('outlet')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_column('on_behalf_of')
    with op.batch_alter_table('app_user', schema=None) as batch_op:
        batch_op.drop_column('locked_at')
        batch_op.drop_column('failed_sign_ins')
        batch_op.drop_column('enabled')
        batch_op.drop_column('outlet_code')
