"""Database engine and sessions (the schema's versions are workflows.schema's).

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

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from privacy import Keyring, attach


def all_metadata() -> list[MetaData]:
    """Every package's tables: what the revisions in workflows/migrations/ must add up to."""
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


def make_engine(url: str, *, echo: bool = False, keyring: Keyring | None = None) -> Engine:
    """An engine; with a keyring, sealed columns (privacy.columns) and look-up hashes work on it."""
    if url.startswith("sqlite"):
        engine = create_engine(url, echo=echo, json_serializer=dumps,
                               connect_args={"timeout": 30, "check_same_thread": False})
        _serialize_sqlite_writers(engine)
    else:
        engine = create_engine(url, echo=echo, json_serializer=dumps, pool_size=10, max_overflow=20,
                               pool_pre_ping=True)
    attach(engine, keyring)
    return engine


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
    """The database's tables are not the ones this version of loanflow runs on: behind, from a newer
    version, or only part of them. The message is one line saying what to do (workflows.schema)."""


class Database:
    """The engine and a session factory; handed down from the app factory or the worker."""

    def __init__(self, url: str, *, echo: bool = False, keyring: Keyring | None = None) -> None:
        import workflows.task_counts  # noqa: F401  its flush listener keeps the inbox's counts exact
        self.url = url
        self.engine = make_engine(url, echo=echo, keyring=keyring)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = sessionmaker(self.engine.execution_options(**{READ_ONLY: True}),
                                          expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

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
