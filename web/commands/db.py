"""`loanflow db upgrade | current | revision`: the database's schema version.

The revisions are Alembic scripts in workflows/migrations/versions/; workflows.schema runs them.
`upgrade` brings LOANFLOW_DATABASE_URL to this version's schema: an empty database gets every
table, a database made before loanflow had migrations is recorded as the baseline (its rows
untouched) and then upgraded. `revision` is for developers: it writes the next revision from the
difference between the models and the revisions so far, to be read and edited before committing.
"""
from __future__ import annotations

import sys


def register(subparsers) -> None:
    parser = subparsers.add_parser("db", help="schema migrations: upgrade the database, show its revision")
    commands = parser.add_subparsers(dest="db_command", required=True, metavar="{upgrade,current,revision}")
    upgrade = commands.add_parser("upgrade", help="upgrade LOANFLOW_DATABASE_URL to this version's schema")
    upgrade.set_defaults(run=run_upgrade)
    current = commands.add_parser("current", help="print the database's schema revision")
    current.set_defaults(run=run_current)
    revision = commands.add_parser("revision", help="developers: write the next revision from the models' changes")
    revision.add_argument("-m", "--message", required=True, help="what the revision changes, e.g. 'inbox keyset index'")
    revision.add_argument("--database-url", default=None,
                          help="compare the models with this database (at head) instead of a scratch SQLite one")
    revision.set_defaults(run=run_revision)


def run_upgrade(args) -> int:
    from workflows.schema import upgrade

    return _with_database(lambda db: print(upgrade(db.engine).describe()), create=True)


def run_current(args) -> int:
    from workflows.schema import inspect_schema

    return _with_database(lambda db: print(inspect_schema(db.engine).describe()), create=False)


def run_revision(args) -> int:
    import logging

    from alembic.util import CommandError

    from workflows.db import SchemaOutdated
    from workflows.schema import new_revision

    # Alembic says what it detected (added column, removed index ...) at INFO.
    logging.basicConfig(level=logging.WARNING, format="  %(message)s")
    logging.getLogger("alembic.autogenerate").setLevel(logging.INFO)
    try:
        path = new_revision(args.message, database_url=args.database_url)
    except (SchemaOutdated, CommandError) as err:
        print(f"loanflow: no revision written: {err}", file=sys.stderr)
        return 2
    print(f"wrote {path}\nRead it and edit it before committing: autogenerate misses renames and data moves, "
          "and a new NOT NULL column needs a server default or a data step for the rows already there.")
    return 0


def _with_database(action, *, create: bool) -> int:
    import sqlalchemy.exc
    from pathlib import Path

    from web.config import Settings
    from workflows.db import Database, SchemaOutdated

    from privacy import DataKeyError, Keyring

    settings = Settings.from_env()
    url = settings.database_url
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        if not create and not path.exists():
            print(f"none: there is no database file at {path}")
            return 0
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        # Only revisions that seal stored rows need the key; `db current` and an empty database do not.
        db = Database(url, keyring=Keyring.from_setting(settings.data_key) if settings.data_key else None)
    except sqlalchemy.exc.ArgumentError:
        # Not echoed: a mistyped URL may still hold a password.
        print("loanflow: LOANFLOW_DATABASE_URL is not a database URL (e.g. sqlite:///var/loanflow.sqlite3, "
              "postgresql+psycopg://user@host/db)", file=sys.stderr)
        return 2
    try:
        action(db)
    except (SchemaOutdated, DataKeyError) as err:
        print(f"loanflow: {err}", file=sys.stderr)
        return 2
    except sqlalchemy.exc.DBAPIError as err:
        print(f"loanflow: the database at {db.engine.url.render_as_string(hide_password=True)} failed: "
              f"{str(err.orig).strip().splitlines()[0] if err.orig else err}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0
