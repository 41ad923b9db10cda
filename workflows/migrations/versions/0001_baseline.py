"""baseline

The tables of loanflow as they were before it had migrations (what `create_all` made), written
out here so that later changes to the models never change this revision: a database made by an
older loanflow has exactly these tables and is recorded as this revision by `loanflow db upgrade`.
Unnamed constraints stay unnamed, as create_all left them, so both kinds of database agree.

Revision ID: 0001
Revises:
Created: 2026-12-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('branch', sa.String(length=32), nullable=False),
        sa.Column('code', sa.String(length=48), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('normal_side', sa.String(length=6), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('branch', 'code')
    )
    op.create_table('ledger_eod_run',
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('accrual_lines', sa.Integer(), nullable=False),
        sa.Column('penalty_lines', sa.Integer(), nullable=False),
        sa.Column('reclassified', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint('business_date')
    )
    op.create_table('ledger_eod_work',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('branch', sa.String(length=32), nullable=False),
        sa.Column('installment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('amount_fen', sa.BigInteger(), nullable=True),
        sa.Column('old_class', sa.String(length=20), nullable=True),
        sa.Column('new_class', sa.String(length=20), nullable=True),
        sa.Column('days_past_due', sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_table('ledger_loan_account',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_number', sa.String(length=64), nullable=False),
        sa.Column('branch', sa.String(length=32), nullable=False),
        sa.Column('customer_id', sa.String(length=64), nullable=False),
        sa.Column('product_code', sa.String(length=32), nullable=False),
        sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('annual_rate', sa.Numeric(precision=12, scale=8), nullable=False),
        sa.Column('penalty_rate', sa.Numeric(precision=12, scale=8), nullable=False),
        sa.Column('term_months', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=24), nullable=False),
        sa.Column('frequency', sa.String(length=12), nullable=False),
        sa.Column('day_count', sa.String(length=16), nullable=False),
        sa.Column('start_date', sa.Date(), nullable=False),
        sa.Column('maturity_date', sa.Date(), nullable=False),
        sa.Column('deposit_account', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('classification', sa.String(length=20), nullable=False),
        sa.Column('classification_override', sa.String(length=20), nullable=True),
        sa.Column('override_reason', sa.String(length=400), nullable=True),
        sa.Column('override_by', sa.String(length=64), nullable=True),
        sa.Column('days_past_due', sa.Integer(), nullable=False),
        sa.Column('principal_outstanding', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('interest_receivable', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('penalty_receivable', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('schedule_version', sa.Integer(), nullable=False),
        sa.Column('accrued_through_day', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('loan_number'),
        postgresql_with={'fillfactor': '70'}
    )
    op.create_index('ix_ledger_loan_account_customer_id', 'ledger_loan_account', ['customer_id'])
    op.create_index('ix_ledger_loan_status_branch', 'ledger_loan_account', ['status', 'branch'])
    op.create_table('ledger_journal_entry',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('branch', sa.String(length=32), nullable=False),
        sa.Column('posting_key', sa.String(length=200), nullable=False),
        sa.Column('business_date', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('description', sa.String(length=400), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=True),
        sa.Column('reverses_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['ledger_loan_account.id']),
        sa.ForeignKeyConstraint(['reverses_entry_id'], ['ledger_journal_entry.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('posting_key'),
        sa.UniqueConstraint('reverses_entry_id')
    )
    op.create_index('ix_ledger_journal_entry_branch', 'ledger_journal_entry', ['branch'])
    op.create_index('ix_ledger_journal_entry_loan_id', 'ledger_journal_entry', ['loan_id'])
    op.create_table('ledger_loan_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('change_key', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('effective_date', sa.Date(), nullable=False),
        sa.Column('old_value', sa.String(length=200), nullable=True),
        sa.Column('new_value', sa.String(length=200), nullable=True),
        sa.Column('reason', sa.String(length=400), nullable=False),
        sa.Column('approved_by', sa.String(length=64), nullable=True),
        sa.Column('schedule_version', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), server_default=sa.func.current_timestamp(), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['ledger_loan_account.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('change_key')
    )
    op.create_index('ix_ledger_loan_change_loan_id', 'ledger_loan_change', ['loan_id'])
    op.create_table('ledger_loan_installment',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('period_start', sa.Date(), nullable=False),
        sa.Column('due_date', sa.Date(), nullable=False),
        sa.Column('due_day', sa.Integer(), nullable=False),
        sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('interest', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('principal_paid', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('interest_paid', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('remaining_balance', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('accrual_base', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('accrual_amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('accrual_from_day', sa.Integer(), nullable=False),
        sa.Column('accrual_open', sa.Boolean(), nullable=False),
        sa.Column('settled', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['loan_id'], ['ledger_loan_account.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ledger_installment_accruing', 'ledger_loan_installment', ['accrual_open', 'accrual_from_day', 'due_day'])
    op.create_index('ix_ledger_installment_loan', 'ledger_loan_installment', ['loan_id', 'active', 'number'])
    op.create_index('ix_ledger_installment_unsettled', 'ledger_loan_installment', ['settled', 'due_day'])
    op.create_table('ledger_journal_line',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('account_id', sa.Integer(), nullable=False),
        sa.Column('loan_id', sa.Integer(), nullable=True),
        sa.Column('debit', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('credit', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.CheckConstraint('debit >= 0 AND credit >= 0 AND debit + credit > 0', name='ck_line_one_side'),
        sa.ForeignKeyConstraint(['account_id'], ['ledger_account.id']),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_journal_entry.id']),
        sa.ForeignKeyConstraint(['loan_id'], ['ledger_loan_account.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ledger_journal_line_entry_id', 'ledger_journal_line', ['entry_id'])
    op.create_index('ix_ledger_journal_line_loan', 'ledger_journal_line', ['loan_id'])
    op.create_table('ledger_repayment_allocation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('installment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('principal', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('interest', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.ForeignKeyConstraint(['entry_id'], ['ledger_journal_entry.id']),
        sa.ForeignKeyConstraint(['installment_id'], ['ledger_loan_installment.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_ledger_repayment_allocation_entry_id', 'ledger_repayment_allocation', ['entry_id'])
    op.create_table('scoring_risk_list_change',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_name', sa.String(length=16), nullable=False),
        sa.Column('id_number', sa.String(length=32), nullable=False),
        sa.Column('action', sa.String(length=8), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_scoring_risk_list_change_list', 'scoring_risk_list_change', ['list_name', 'id_number'])
    op.create_table('scoring_risk_list_entry',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('list_name', sa.String(length=16), nullable=False),
        sa.Column('id_number', sa.String(length=32), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        sa.Column('added_by', sa.String(length=64), nullable=False),
        sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('list_name', 'id_number', name='uq_scoring_risk_list_entry')
    )
    op.create_index('ix_scoring_risk_list_entry_id_number', 'scoring_risk_list_entry', ['id_number'])
    op.create_table('app_user',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('full_name', sa.String(length=120), nullable=False),
        sa.Column('password_hash', sa.String(length=256), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('roles', sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint('username')
    )
    op.create_table('audit_event',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('application_id', sa.String(length=36), nullable=True),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('event', sa.String(length=64), nullable=False),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_audit_event_application_id', 'audit_event', ['application_id'])
    op.create_table('branch',
        sa.Column('code', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('region', sa.String(length=60), nullable=False),
        sa.Column('tier1_capital_net', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('is_hq', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code')
    )
    op.create_table('deployment',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('comment', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scope', 'version')
    )
    op.create_index('ix_deployment_scope', 'deployment', ['scope'])
    op.create_table('idempotent_request',
        sa.Column('username', sa.String(length=64), nullable=False),
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('request_hash', sa.String(length=64), nullable=False),
        sa.Column('status_code', sa.Integer(), nullable=False),
        sa.Column('response', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('username', 'key')
    )
    op.create_table('outbox_message',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('topic', sa.String(length=64), nullable=False),
        sa.Column('application_id', sa.String(length=36), nullable=True),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('delivered_at', sa.DateTime(), nullable=True),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_outbox_message_delivered_at', 'outbox_message', ['delivered_at'])
    op.create_table('product',
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('min_amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('max_amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('min_term_months', sa.Integer(), nullable=False),
        sa.Column('max_term_months', sa.Integer(), nullable=False),
        sa.Column('base_rate', sa.Numeric(precision=9, scale=6), nullable=False),
        sa.Column('repayment_method', sa.String(length=32), nullable=False),
        sa.Column('allows_large_amount', sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint('code')
    )
    op.create_table('application',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('product_code', sa.String(length=32), nullable=False),
        sa.Column('customer_name', sa.String(length=120), nullable=False),
        sa.Column('id_number', sa.String(length=32), nullable=False),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('term_months', sa.Integer(), nullable=False),
        sa.Column('region', sa.String(length=60), nullable=False),
        sa.Column('industry', sa.String(length=32), nullable=False),
        sa.Column('purpose', sa.String(length=32), nullable=False),
        sa.Column('guarantee_method', sa.String(length=16), nullable=False),
        sa.Column('customer_type', sa.String(length=32), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('stage', sa.String(length=64), nullable=False),
        sa.Column('decision', sa.String(length=32), nullable=True),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('loan_id', sa.String(length=64), nullable=True),
        sa.Column('summary', sa.JSON(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['branch_code'], ['branch.code']),
        sa.ForeignKeyConstraint(['product_code'], ['product.code']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_application_branch_code', 'application', ['branch_code'])
    op.create_index('ix_application_id_number', 'application', ['id_number'])
    op.create_index('ix_application_loan_id', 'application', ['loan_id'])
    op.create_index('ix_application_status', 'application', ['status'])
    op.create_table('deployment_file',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('name', sa.String(length=200), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('deployment_id', 'name')
    )
    op.create_index('ix_deployment_file_deployment_id', 'deployment_file', ['deployment_id'])
    op.create_table('deployed_definition',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('deployment_id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('scope', sa.String(length=16), nullable=False),
        sa.Column('definition_id', sa.String(length=200), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['deployment_id'], ['deployment.id']),
        sa.ForeignKeyConstraint(['file_id'], ['deployment_file.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('scope', 'definition_id', 'version')
    )
    op.create_index('ix_deployed_definition_deployment_id', 'deployed_definition', ['deployment_id'])
    op.create_table('process_instance',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('application_id', sa.String(length=36), nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('pinned_files', sa.JSON(), nullable=False),
        sa.Column('state', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('incident', sa.Text(), nullable=True),
        sa.Column('incident_attempts', sa.Integer(), nullable=False),
        sa.Column('next_retry_at', sa.DateTime(), nullable=True),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_process_instance_application_id', 'process_instance', ['application_id'])
    op.create_index('ix_process_instance_next_retry_at', 'process_instance', ['next_retry_at'])
    op.create_table('human_task',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('instance_id', sa.String(length=36), nullable=False),
        sa.Column('application_id', sa.String(length=36), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('role', sa.String(length=64), nullable=False),
        sa.Column('form', sa.String(length=64), nullable=False),
        sa.Column('task_key', sa.String(length=200), nullable=False),
        sa.Column('title', sa.String(length=200), nullable=False),
        sa.Column('level', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('assignee', sa.String(length=64), nullable=True),
        sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column('customer_name', sa.String(length=120), nullable=False),
        sa.Column('product_code', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('due_at', sa.DateTime(), nullable=True),
        sa.Column('completed_at', sa.DateTime(), nullable=True),
        sa.Column('completed_by', sa.String(length=64), nullable=True),
        sa.Column('decision', sa.String(length=16), nullable=True),
        sa.Column('context', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['application_id'], ['application.id']),
        sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id']),
        sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_human_task_application_id', 'human_task', ['application_id'])
    op.create_index('ix_human_task_assignee', 'human_task', ['assignee', 'status'])
    op.create_index('ix_human_task_inbox', 'human_task', ['branch_code', 'role', 'status'])
    op.create_index('ix_human_task_instance_id', 'human_task', ['instance_id'])


def downgrade() -> None:
    op.drop_table('human_task')
    op.drop_table('process_instance')
    op.drop_table('deployed_definition')
    op.drop_table('deployment_file')
    op.drop_table('application')
    op.drop_table('product')
    op.drop_table('outbox_message')
    op.drop_table('idempotent_request')
    op.drop_table('deployment')
    op.drop_table('branch')
    op.drop_table('audit_event')
    op.drop_table('app_user')
    op.drop_table('scoring_risk_list_entry')
    op.drop_table('scoring_risk_list_change')
    op.drop_table('ledger_repayment_allocation')
    op.drop_table('ledger_journal_line')
    op.drop_table('ledger_loan_installment')
    op.drop_table('ledger_loan_change')
    op.drop_table('ledger_journal_entry')
    op.drop_table('ledger_loan_account')
    op.drop_table('ledger_eod_work')
    op.drop_table('ledger_eod_run')
    op.drop_table('ledger_account')
