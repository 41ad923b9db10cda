"""Database engine, sessions and schema.

SQLite is the embedded default; PostgreSQL is the scale-out choice. On SQLite every unit of work
starts with BEGIN IMMEDIATE so that two writers serialize instead of failing late with
"database is locked" half-way through a step; on PostgreSQL rows are locked explicitly.
"""
from __future__ import annotations

import datetime as dt
import json
from contextlib import contextmanager
from decimal import Decimal
from typing import Iterator

from sqlalchemy import MetaData, create_engine, event, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker


def all_metadata() -> list[MetaData]:
    """Every package's tables, in creation order."""
    from ledger.tables import metadata as ledger_metadata
    from scoring.tables import metadata as scoring_metadata
    from workflows.models import metadata as workflows_metadata

    return [ledger_metadata, scoring_metadata, workflows_metadata]


def _json_default(value):
    # JSON columns hold money as strings: exact, and the API shows them the same way.
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        # A duration is task data scripts may keep (docs/script-language.md); in a summary key it
        # made the whole submission a 500.
        return value.total_seconds()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def dumps(value) -> str:
    return json.dumps(value, default=_json_default, ensure_ascii=False)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, json_serializer=dumps,
                               connect_args={"timeout": 30, "check_same_thread": False})
        _serialize_sqlite_writers(engine)
        return engine
    return create_engine(url, echo=echo, json_serializer=dumps, pool_size=10, max_overflow=20,
                         pool_pre_ping=True)


def _serialize_sqlite_writers(engine: Engine) -> None:
    # pysqlite's own transaction handling defers BEGIN until the first write, which lets two
    # requests read the same state and then collide. Take the write lock at the start instead.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # Readers need no write lock: in WAL mode they see a consistent snapshot beside a writer.
        read_only = connection.get_execution_options().get(READ_ONLY, False)
        connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


READ_ONLY = "loanflow_read_only"


class SchemaOutdated(RuntimeError):
    """The database was created by another version of loanflow's tables."""


def create_schema(engine: Engine) -> None:
    """Create missing tables, then make sure the existing ones have every column of this version.

    There are no migrations yet: a database made by an older version is refused with a clear
    message instead of failing later on a missing column.
    """
    for metadata in all_metadata():
        metadata.create_all(engine)
    inspector = inspect(engine)
    missing = [f"{table.name}.{column.name}"
               for metadata in all_metadata() for table in metadata.tables.values()
               for column in table.columns
               if column.name not in {c["name"] for c in inspector.get_columns(table.name)}]
    if missing:
        raise SchemaOutdated(
            f"The database at {engine.url.render_as_string(hide_password=True)} was created by an older "
            f"version of loanflow (missing {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}) and "
            "there are no migrations yet. For the demo database, delete it (rm var/loanflow.sqlite3) and "
            "run `make run` again.")


class Database:
    """The engine and a session factory; handed down from the app factory or the worker."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                          expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def create_schema(self) -> None:
        create_schema(self.engine)

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: committed if the block finishes, rolled back otherwise."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def dispose(self) -> None:
        self.engine.dispose()
