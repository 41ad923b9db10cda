"""Alembic's environment: run by workflows.schema with an open connection, never by the app.

workflows.schema passes the connection in `config.attributes["connection"]`, inside its own
transaction and lock, so the database URL never goes through alembic's ini file and two
processes upgrading at once cannot both run the same revision.
"""
from alembic import context

from workflows.db import all_metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise SystemExit("loanflow: run migrations with `loanflow db upgrade`, not with alembic directly")
    context.configure(
        connection=connection,
        target_metadata=all_metadata(),
        # SQLite alters most things only by rebuilding the table: batch operations do that there
        # and plain ALTERs on PostgreSQL, so one revision script serves both backends.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("loanflow: offline (--sql) migrations are not supported")
run_migrations_online()
