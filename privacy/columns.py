"""Sealed columns: SQLAlchemy types that encrypt on the way in and decrypt on the way out.

The keyring travels on the engine's dialect (`attach`), which every connection, session and
Alembic migration of that engine shares: no module-level key, and two engines may hold two keys.
Stored as TEXT on every backend.
"""
from __future__ import annotations

import json

from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

from privacy.keys import DataKeyError, Keyring

_ATTRIBUTE = "loanflow_keyring"


def attach(engine, keyring: Keyring | None) -> None:
    """Give an engine (and everything that uses it) the keyring for sealed columns and hashes."""
    setattr(engine.dialect, _ATTRIBUTE, keyring)


def keyring_of(dialect) -> Keyring:
    keyring = getattr(dialect, _ATTRIBUTE, None)
    if keyring is None:
        raise DataKeyError("this database engine has no data key (build it with the keyring from LOANFLOW_DATA_KEY)")
    return keyring


def keyring_for(session_or_connection) -> Keyring:
    """The keyring of a Session's or Connection's engine."""
    bind = session_or_connection.get_bind() if hasattr(session_or_connection, "get_bind") else session_or_connection
    return keyring_of(bind.dialect)


class SealedText(TypeDecorator):
    """A string column stored AES-GCM sealed."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return None if value is None else keyring_of(dialect).seal(str(value))

    def process_result_value(self, value, dialect):
        return None if value is None else keyring_of(dialect).open(value)


class SealedJSON(TypeDecorator):
    """A JSON document stored AES-GCM sealed (the engine's json_serializer writes it)."""
    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        serializer = getattr(dialect, "_json_serializer", None) or json.dumps
        return keyring_of(dialect).seal(serializer(value))

    def process_result_value(self, value, dialect):
        return None if value is None else json.loads(keyring_of(dialect).open(value))
