"""process layer: instances of any process, correlation keys, message log

Revision ID: 0004
Revises: 0003
Created: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('correlation_key',
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=200), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('instance_id', 'name')
    )
    with op.batch_alter_table('correlation_key', schema=None) as batch_op:
        batch_op.create_index('ix_correlation_key_value', ['name', 'value'], unique=False)

    op.create_table('message_log',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('message_id', sa.String(length=200), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('correlation', sa.JSON(), nullable=False),
    sa.Column('payload', sa.Text(), nullable=False),
    sa.Column('instance_id', sa.String(length=36), nullable=False),
    sa.Column('received_by', sa.String(length=64), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['instance_id'], ['process_instance.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('message_id')
    )
    with op.batch_alter_table('message_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_log_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('instance_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_audit_event_instance_id'), ['instance_id'], unique=False)

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.add_column(sa.Column('process_id', sa.String(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('loan_id', sa.String(length=64), nullable=True))
        batch_op.alter_column('application_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=True)

    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.add_column(sa.Column('branch_code', sa.String(length=16), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('stage', sa.String(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('started_by', sa.String(length=64), nullable=False, server_default=''))
        batch_op.alter_column('application_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=True)
        batch_op.create_index(batch_op.f('ix_process_instance_branch_code'), ['branch_code'], unique=False)

    # Every instance so far is an application's origination: its branch, stage and submitter are
    # the application's, and its tasks belong to loan_origination.
    op.execute("UPDATE process_instance SET branch_code = (SELECT a.branch_code FROM application a "
               "WHERE a.id = process_instance.application_id), stage = (SELECT a.stage FROM application a "
               "WHERE a.id = process_instance.application_id), started_by = (SELECT a.created_by FROM "
               "application a WHERE a.id = process_instance.application_id) WHERE application_id IS NOT NULL")
    op.execute("UPDATE human_task SET process_id = (SELECT p.process_id FROM process_instance p "
               "WHERE p.id = human_task.instance_id)")
    op.execute("INSERT INTO correlation_key (instance_id, name, value) SELECT id, 'application_id', "
               "application_id FROM process_instance WHERE application_id IS NOT NULL")
    # The defaults were only for the rows above; the models give every new row its values.
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        for column, length in (('branch_code', 16), ('stage', 64), ('started_by', 64)):
            batch_op.alter_column(column, existing_type=sa.String(length=length), server_default=None)
    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('process_id', existing_type=sa.String(length=200), server_default=None)


def downgrade() -> None:
    with op.batch_alter_table('process_instance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_process_instance_branch_code'))
        batch_op.alter_column('application_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=False)
        batch_op.drop_column('started_by')
        batch_op.drop_column('stage')
        batch_op.drop_column('branch_code')

    with op.batch_alter_table('human_task', schema=None) as batch_op:
        batch_op.alter_column('application_id',
               existing_type=sa.VARCHAR(length=36),
               nullable=False)
        batch_op.drop_column('loan_id')
        batch_op.drop_column('process_id')

    with op.batch_alter_table('audit_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_event_instance_id'))
        batch_op.drop_column('instance_id')

    with op.batch_alter_table('message_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_log_instance_id'))

    op.drop_table('message_log')
    with op.batch_alter_table('correlation_key', schema=None) as batch_op:
        batch_op.drop_index('ix_correlation_key_value')

    op.drop_table('correlation_key')

