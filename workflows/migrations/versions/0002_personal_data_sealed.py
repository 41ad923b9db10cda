"""personal data sealed at rest, keyed hashes for look-ups

ID numbers, phones and accounts are sealed (AES-GCM, privacy.keys) wherever they are stored
whole: the application's id_number, payload and summary, the workflow state, the inbox context,
stored idempotent responses, risk-list entries and their changes, the loan's deposit account.
Exact-match look-ups move to keyed hashes: application.id_number_hash, the risk lists'
id_number_hash (their unique constraint and indexes move with it) and the ledger's customer_id,
which becomes the hash of the ID number it held. Text that quoted such values (audit details,
application reasons, incidents, journal descriptions, account-change history) is masked.

The data step needs the engine's keyring (LOANFLOW_DATA_KEY): `loanflow db upgrade` builds it
from the settings. A database with no such rows needs none. Values already sealed are left as
they are, so the step can be re-run.

Revision ID: 0002
Revises: 0001
Created: 2026-12-10
"""
from __future__ import annotations

import json
import re

import sqlalchemy as sa
from alembic import op

from privacy.columns import keyring_of
from privacy.keys import is_sealed
from privacy.masking import mask_account, redact, redact_text

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_HASH = re.compile(r"^[0-9a-f]{64}$")


def _to_text(batch, column: str, existing, nullable: bool = False) -> None:
    batch.alter_column(column, existing_type=existing, type_=sa.Text(), existing_nullable=nullable,
                       postgresql_using=f"{column}::text")


def upgrade() -> None:
    with op.batch_alter_table("application") as batch:
        batch.drop_index("ix_application_id_number")
        _to_text(batch, "id_number", sa.String(32))
        _to_text(batch, "payload", sa.JSON())
        _to_text(batch, "summary", sa.JSON())
        batch.add_column(sa.Column("id_number_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("human_task") as batch:
        _to_text(batch, "context", sa.JSON())
    with op.batch_alter_table("idempotent_request") as batch:
        _to_text(batch, "response", sa.JSON())
    with op.batch_alter_table("scoring_risk_list_entry") as batch:
        batch.drop_index("ix_scoring_risk_list_entry_id_number")
        batch.drop_constraint("uq_scoring_risk_list_entry", type_="unique")
        _to_text(batch, "id_number", sa.String(32))
        batch.add_column(sa.Column("id_number_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("scoring_risk_list_change") as batch:
        batch.drop_index("ix_scoring_risk_list_change_list")
        _to_text(batch, "id_number", sa.String(32))
        batch.add_column(sa.Column("id_number_hash", sa.String(64), nullable=True))
    with op.batch_alter_table("ledger_loan_account") as batch:
        _to_text(batch, "deposit_account", sa.String(64))

    _seal_and_hash(op.get_bind())

    with op.batch_alter_table("application") as batch:
        batch.alter_column("id_number_hash", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_application_id_number_hash", ["id_number_hash"])
    with op.batch_alter_table("scoring_risk_list_entry") as batch:
        batch.alter_column("id_number_hash", existing_type=sa.String(64), nullable=False)
        batch.create_unique_constraint("uq_scoring_risk_list_entry", ["list_name", "id_number_hash"])
        batch.create_index("ix_scoring_risk_list_entry_id_number_hash", ["id_number_hash"])
    with op.batch_alter_table("scoring_risk_list_change") as batch:
        batch.alter_column("id_number_hash", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_scoring_risk_list_change_list", ["list_name", "id_number_hash"])


def _seal_and_hash(connection) -> None:
    keyring = None

    def keys():
        nonlocal keyring
        keyring = keyring or keyring_of(connection.dialect)
        return keyring

    def seal(value):
        return value if value is None or is_sealed(value) else keys().seal(value)

    def rows(table, *columns, where=None):
        query = sa.select(table.c.id if "id" in table.c else table.c.username, *columns)
        return connection.execute(query if where is None else query.where(where)).all()

    application = sa.table("application", sa.column("id"), sa.column("id_number"), sa.column("id_number_hash"),
                           sa.column("payload"), sa.column("summary"), sa.column("reasons", sa.JSON()))
    for key, number, payload, summary, reasons in rows(application, application.c.id_number, application.c.payload,
                                                       application.c.summary, application.c.reasons):
        digest = keys().lookup_hash(keys().open(number) if is_sealed(number) else number)
        connection.execute(application.update().where(application.c.id == key).values(
            id_number=seal(number), id_number_hash=digest, payload=seal(payload), summary=seal(summary),
            reasons=redact(reasons)))

    instance = sa.table("process_instance", sa.column("id"), sa.column("state"), sa.column("incident"))
    for key, state, incident in rows(instance, instance.c.state, instance.c.incident):
        connection.execute(instance.update().where(instance.c.id == key).values(
            state=seal(state), incident=redact_text(incident)))

    for name, column in (("human_task", "context"),):
        table = sa.table(name, sa.column("id"), sa.column(column))
        for key, value in rows(table, table.c[column]):
            connection.execute(table.update().where(table.c.id == key).values({column: seal(value)}))

    idempotent = sa.table("idempotent_request", sa.column("username"), sa.column("key"), sa.column("response"))
    for username, key, response in connection.execute(
            sa.select(idempotent.c.username, idempotent.c.key, idempotent.c.response)).all():
        connection.execute(idempotent.update().where(idempotent.c.username == username, idempotent.c.key == key)
                           .values(response=seal(response)))

    for name in ("audit_event", "outbox_message"):
        column = "detail" if name == "audit_event" else "payload"
        table = sa.table(name, sa.column("id"), sa.column(column, sa.JSON()))
        for key, value in rows(table, table.c[column]):
            masked = redact(value)
            if json.dumps(masked, sort_keys=True) != json.dumps(value, sort_keys=True):
                connection.execute(table.update().where(table.c.id == key).values({column: masked}))

    for name in ("scoring_risk_list_entry", "scoring_risk_list_change"):
        table = sa.table(name, sa.column("id"), sa.column("id_number"), sa.column("id_number_hash"))
        for key, number in rows(table, table.c.id_number):
            clear = keys().open(number) if is_sealed(number) else number
            connection.execute(table.update().where(table.c.id == key).values(
                id_number=seal(number), id_number_hash=keys().lookup_hash(clear)))

    loan = sa.table("ledger_loan_account", sa.column("id"), sa.column("customer_id"), sa.column("deposit_account"))
    for key, customer, account in rows(loan, loan.c.customer_id, loan.c.deposit_account):
        connection.execute(loan.update().where(loan.c.id == key).values(
            customer_id=customer if _HASH.match(customer or "") else keys().lookup_hash(customer),
            deposit_account=seal(account)))

    entry = sa.table("ledger_journal_entry", sa.column("id"), sa.column("description"))
    for key, description in rows(entry, entry.c.description):
        if redact_text(description) != description:
            connection.execute(entry.update().where(entry.c.id == key).values(description=redact_text(description)))

    change = sa.table("ledger_loan_change", sa.column("id"), sa.column("kind"), sa.column("old_value"),
                      sa.column("new_value"))
    for key, old, new in rows(change, change.c.old_value, change.c.new_value, where=change.c.kind == "repayment_account"):
        connection.execute(change.update().where(change.c.id == key).values(
            old_value=mask_account(old) if old and not old.startswith("****") else old,
            new_value=mask_account(new) if new and not new.startswith("****") else new))


def downgrade() -> None:
    raise NotImplementedError("sealed personal data is not unsealed by a downgrade; restore the backup")
