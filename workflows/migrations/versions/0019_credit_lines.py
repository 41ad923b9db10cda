"""credit lines (授信) and their drawdowns (用信): the line, each drawdown and the ledger loan it
went to, and the line's history (granted, frozen, unfrozen, reduced, drawn, expired)

Revision ID: 0019
Revises: 0018
Created: 2026-12-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'credit_line',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('customer_id', sa.String(length=36), nullable=True),
        sa.Column('application_id', sa.String(length=36), nullable=False),
        sa.Column('product_code', sa.String(length=32), nullable=False),
        sa.Column('contract_number', sa.String(length=64), nullable=False),
        sa.Column('limit_amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('annual_rate', sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column('term_months', sa.Integer(), nullable=False),
        sa.Column('granted_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('revolving', sa.Boolean(), nullable=False),
        sa.Column('revolving_loan_number', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('renews_line_id', sa.String(length=36), nullable=True),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id'], ),
        sa.ForeignKeyConstraint(['branch_code'], ['branch.code'], ),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
        sa.ForeignKeyConstraint(['product_code'], ['product.code'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('application_id'),
    )
    with op.batch_alter_table('credit_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_line_branch_code'), ['branch_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_line_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_line_expires_on'), ['expires_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_line_status'), ['status'], unique=False)
    op.create_table(
        'credit_line_drawdown',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('line_id', sa.String(length=36), nullable=False),
        sa.Column('loan_number', sa.String(length=64), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('term_months', sa.Integer(), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('drawn_by', sa.String(length=64), nullable=False),
        sa.Column('drawn_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['line_id'], ['credit_line.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('credit_line_drawdown', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_line_drawdown_line_id'), ['line_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_credit_line_drawdown_loan_number'), ['loan_number'], unique=False)
    op.create_table(
        'credit_line_event',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('line_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('limit_after', sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['line_id'], ['credit_line.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('credit_line_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_credit_line_event_line_id'), ['line_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credit_line_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_line_event_line_id'))
    op.drop_table('credit_line_event')
    with op.batch_alter_table('credit_line_drawdown', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_line_drawdown_loan_number'))
        batch_op.drop_index(batch_op.f('ix_credit_line_drawdown_line_id'))
    op.drop_table('credit_line_drawdown')
    with op.batch_alter_table('credit_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_credit_line_status'))
        batch_op.drop_index(batch_op.f('ix_credit_line_expires_on'))
        batch_op.drop_index(batch_op.f('ix_credit_line_customer_id'))
        batch_op.drop_index(batch_op.f('ix_credit_line_branch_code'))
    op.drop_table('credit_line')
