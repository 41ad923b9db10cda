"""inbox at scale: a stored not-null due sort key and one index for the inbox's filters and order;
exact task counts per inbox key (human_task_count), filled from the existing rows

Revision ID: 0015
Revises: 0014
Created: 2026-12-04
"""
from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

DUE_NEVER = dt.datetime(9999, 12, 31)  # workflows.models.DUE_NEVER, frozen here

COUNTS_FROM_ROWS = """
INSERT INTO human_task_count (branch_code, role, status, assignee, process_id, product_code, n)
SELECT branch_code, role, status, COALESCE(assignee, ''), COALESCE(process_id, ''), COALESCE(product_code, ''),
       COUNT(*)
FROM human_task
GROUP BY branch_code, role, status, COALESCE(assignee, ''), COALESCE(process_id, ''), COALESCE(product_code, '')
"""


def upgrade() -> None:
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('due_sort', sa.DateTime(), nullable=True))
    op.execute(sa.text("UPDATE human_task SET due_sort = COALESCE(due_at, :never)")
               .bindparams(sa.bindparam("never", DUE_NEVER, type_=sa.DateTime())))
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('due_sort', existing_type=sa.DateTime(), nullable=False)
        batch_op.drop_index('ix_human_task_inbox')
        batch_op.create_index('ix_human_task_inbox_order',
                              ['branch_code', 'role', 'status', 'due_sort', 'created_at', 'id', 'assignee', 'amount'],
                              unique=False)
    op.create_table(
        'human_task_count',
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('role', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('assignee', sa.String(length=64), nullable=False),
        sa.Column('process_id', sa.String(length=200), nullable=False),
        sa.Column('product_code', sa.String(length=32), nullable=False),
        sa.Column('n', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('branch_code', 'role', 'status', 'assignee', 'process_id', 'product_code'),
    )
    op.execute(COUNTS_FROM_ROWS)


def downgrade() -> None:
    op.drop_table('human_task_count')
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.drop_index('ix_human_task_inbox_order')
        batch_op.create_index('ix_human_task_inbox', ['branch_code', 'role', 'status'], unique=False)
        batch_op.drop_column('due_sort')
