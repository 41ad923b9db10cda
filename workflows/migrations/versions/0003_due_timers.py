"""due timers: the BPMN timers instances wait for, fired by the worker and `loanflow tick`

Revision ID: 0003
Revises: 0002
Created: 2026-12-01 21:40:54.154167
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('due_timer',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('task_id', sa.String(length=36), nullable=False),
    sa.Column('element_id', sa.String(length=200), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('fired_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('due_timer', schema=None) as batch_op:
        batch_op.create_index('ix_due_timer_due', ['fired_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_due_timer_instance_id'), ['instance_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('due_timer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_due_timer_instance_id'))
        batch_op.drop_index('ix_due_timer_due')

    op.drop_table('due_timer')
