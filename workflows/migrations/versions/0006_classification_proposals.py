"""classification proposals: moves the end-of-day batch holds for maker-checker review

Revision ID: 0006
Revises: 0005
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_classification_proposal',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('loan_id', sa.Integer(), nullable=False),
    sa.Column('branch', sa.String(length=32), nullable=False),
    sa.Column('business_date', sa.Date(), nullable=False),
    sa.Column('from_class', sa.String(length=20), nullable=False),
    sa.Column('to_class', sa.String(length=20), nullable=False),
    sa.Column('days_past_due', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=400), nullable=True),
    sa.Column('proposed_by', sa.String(length=64), nullable=True),
    sa.Column('decided_by', sa.String(length=64), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=True),
    sa.Column('comment', sa.String(length=400), nullable=True),
    sa.Column('created_at', sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
    sa.ForeignKeyConstraint(['loan_id'], ['ledger_loan_account.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('ledger_classification_proposal', schema=None) as batch_op:
        batch_op.create_index('ix_classification_proposal_loan_status', ['loan_id', 'status'], unique=False)
        batch_op.create_index('ix_classification_proposal_status', ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_classification_proposal', schema=None) as batch_op:
        batch_op.drop_index('ix_classification_proposal_status')
        batch_op.drop_index('ix_classification_proposal_loan_status')
    op.drop_table('ledger_classification_proposal')
