"""the customer register: customers keyed per branch by the ID number's hash, their change history,
their authorisations for queries (consents), and each application's customer

Existing applications are linked: one customer per branch and valid ID number, registered from the
newest application's applicant data (an application whose ID number fails the check digit was
declined at intake and links to none). The data step needs the engine's keyring, as 0002's does.

Revision ID: 0014
Revises: 0013
Created: 2026-12-03
"""
from __future__ import annotations

import datetime as dt
import json
import uuid

import sqlalchemy as sa
from alembic import op

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('branch_code', sa.String(length=16), nullable=False),
        sa.Column('id_number', sa.Text(), nullable=False),
        sa.Column('id_number_hash', sa.String(length=64), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('customer_type', sa.String(length=32), nullable=False),
        sa.Column('manager', sa.String(length=64), nullable=False),
        sa.Column('details', sa.Text(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_by', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('updated_by', sa.String(length=64), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['branch_code'], ['branch.code'], ),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('branch_code', 'id_number_hash', name='uq_customer_branch_id_number'),
    )
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_branch_code'), ['branch_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_id_number_hash'), ['id_number_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_customer_manager'), ['manager'], unique=False)
    op.create_table(
        'customer_change',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.String(length=36), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('at', sa.DateTime(), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('source', sa.String(length=80), nullable=False),
        sa.Column('changes', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('customer_change', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_change_customer_id'), ['customer_id'], unique=False)
    op.create_table(
        'customer_consent',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('customer_id', sa.String(length=36), nullable=False),
        sa.Column('scope', sa.String(length=32), nullable=False),
        sa.Column('method', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=32), nullable=False),
        sa.Column('reference', sa.String(length=128), nullable=False),
        sa.Column('granted_at', sa.DateTime(), nullable=False),
        sa.Column('valid_until', sa.Date(), nullable=False),
        sa.Column('source', sa.String(length=80), nullable=False),
        sa.Column('recorded_by', sa.String(length=64), nullable=False),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('withdrawn_at', sa.DateTime(), nullable=True),
        sa.Column('withdrawn_by', sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(['customer_id'], ['customer.id'], ),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('customer_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_customer_consent_customer_id'), ['customer_id'], unique=False)
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.add_column(sa.Column('customer_id', sa.String(length=36), nullable=True))
        batch_op.create_index(batch_op.f('ix_application_customer_id'), ['customer_id'], unique=False)
        batch_op.create_foreign_key('fk_application_customer_id_customer', 'customer', ['customer_id'], ['id'])
    _link_existing_applications(op.get_bind())


def _link_existing_applications(connection) -> None:
    from privacy.columns import keyring_of
    from workflows.customers import details_from_applicant, id_number_is_valid

    application = sa.table('application', sa.column('id'), sa.column('branch_code'), sa.column('id_number'),
                           sa.column('id_number_hash'), sa.column('customer_name'), sa.column('payload'),
                           sa.column('created_by'), sa.column('created_at'), sa.column('customer_id'))
    customer = sa.table('customer', *(sa.column(c) for c in (
        'id', 'branch_code', 'id_number', 'id_number_hash', 'name', 'customer_type', 'manager', 'details',
        'version', 'created_by', 'created_at', 'updated_by', 'updated_at')))
    change = sa.table('customer_change', *(sa.column(c) for c in (
        'customer_id', 'version', 'at', 'actor', 'source', 'changes')))
    rows = connection.execute(sa.select(application).order_by(application.c.created_at.desc())).all()
    if not rows:
        return
    keyring = keyring_of(connection.dialect)
    registered: dict[tuple[str, str], str] = {}
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    for row in rows:  # newest first: the newest application's data is the register's
        id_number = keyring.open(row.id_number)
        if not id_number_is_valid(id_number):
            continue
        key = (row.branch_code, row.id_number_hash)
        if key not in registered:
            applicant = json.loads(keyring.open(row.payload)).get('applicant') or {}
            fields = {'name': row.customer_name, **details_from_applicant(applicant)}
            registered[key] = str(uuid.uuid4())
            connection.execute(customer.insert().values(
                id=registered[key], branch_code=row.branch_code, id_number=row.id_number,
                id_number_hash=row.id_number_hash, name=row.customer_name,
                customer_type=fields.get('customer_type', ''), manager='',
                details=keyring.seal(json.dumps({k: v for k, v in fields.items() if k not in ('name', 'customer_type')})),
                version=1, created_by=row.created_by, created_at=row.created_at,
                updated_by='migration 0014', updated_at=now))
            connection.execute(change.insert().values(
                customer_id=registered[key], version=1, at=now, actor='migration 0014',
                source=f'application:{row.id}', changes=keyring.seal(json.dumps(
                    {'fields': {k: {'from': None, 'to': v} for k, v in fields.items()}}))))
        connection.execute(application.update().where(application.c.id == row.id)
                           .values(customer_id=registered[key]))


def downgrade() -> None:
    with op.batch_alter_table('application', schema=None) as batch_op:
        batch_op.drop_constraint('fk_application_customer_id_customer', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_application_customer_id'))
        batch_op.drop_column('customer_id')
    with op.batch_alter_table('customer_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_consent_customer_id'))
    op.drop_table('customer_consent')
    with op.batch_alter_table('customer_change', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_change_customer_id'))
    op.drop_table('customer_change')
    with op.batch_alter_table('customer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_customer_manager'))
        batch_op.drop_index(batch_op.f('ix_customer_id_number_hash'))
        batch_op.drop_index(batch_op.f('ix_customer_branch_code'))
    op.drop_table('customer')
