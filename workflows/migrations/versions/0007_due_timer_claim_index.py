"""due timers: a partial index on the unfired rows in claim order (due_at, id)

The claim (`workflows/timer_jobs.py`) asks for the first unfired due row in (due_at, id) order;
the old index on (fired_at, due_at) found the due rows but left every one of them to be sorted
for each claim, so firing N timers cost N sorts of up to N rows.

Revision ID: 0007
Revises: 0006
Created: 2026-12-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('due_timer', schema=None) as batch_op:
        batch_op.drop_index('ix_due_timer_due')
        batch_op.create_index('ix_due_timer_unfired', ['due_at', 'id'], unique=False,
                              postgresql_where=sa.text('fired_at IS NULL'), sqlite_where=sa.text('fired_at IS NULL'))


def downgrade() -> None:
    with op.batch_alter_table('due_timer', schema=None) as batch_op:
        batch_op.drop_index('ix_due_timer_unfired')
        batch_op.create_index('ix_due_timer_due', ['fired_at', 'due_at'], unique=False)
