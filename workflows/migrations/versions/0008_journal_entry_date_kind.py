"""ledger journal: an index on (business_date, kind)

Early warning reads a business date's entries of one kind after each batch — the disbursements and
draws of the window (limit_usage) and the batch's reclassification (downgrade); without the index
each of those read the whole journal.

Revision ID: 0008
Revises: 0007
Created: 2026-12-03
"""
from __future__ import annotations

from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('ledger_journal_entry', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_journal_entry_date_kind', ['business_date', 'kind'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('ledger_journal_entry', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_journal_entry_date_kind')
