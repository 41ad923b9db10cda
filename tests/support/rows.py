"""Every row of a database as data, and back: for the migration tests.

`dump` writes each table's rows (ordered by primary key) as JSON; `load` inserts them into a
database at the same revision, converting each value by the column type it finds there, and
moves PostgreSQL's id sequences past the loaded ids so the application can go on inserting.
"""
from __future__ import annotations

import datetime as dt
import gzip
import json
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def dump(engine: sa.Engine, path: Path) -> dict[str, int]:
    tables = _reflect(engine)
    data = {}
    with engine.connect() as connection:
        for table in tables.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(sa.select(table).order_by(*order)).mappings().all()
            data[table.name] = [{key: _plain(value) for key, value in row.items()} for row in rows]
    path.write_bytes(gzip.compress(json.dumps(data, ensure_ascii=False, sort_keys=True, indent=0).encode(), mtime=0))
    return {name: len(rows) for name, rows in data.items()}


def load(engine: sa.Engine, path: Path) -> dict[str, int]:
    data = json.loads(gzip.decompress(path.read_bytes()))
    tables = _reflect(engine)
    with engine.begin() as connection:
        for table in tables.sorted_tables:
            rows = data.get(table.name, [])
            if rows:
                connection.execute(table.insert(), [_typed(table, row) for row in rows])
        if engine.dialect.name == "postgresql":
            _advance_sequences(connection, tables)
    return {name: len(rows) for name, rows in data.items()}


def counts(engine: sa.Engine) -> dict[str, int]:
    tables = _reflect(engine)
    with engine.connect() as connection:
        return {table.name: connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in tables.sorted_tables}


def _reflect(engine: sa.Engine) -> sa.MetaData:
    metadata = sa.MetaData()
    metadata.reflect(engine)
    if "alembic_version" in metadata.tables:
        metadata.remove(metadata.tables["alembic_version"])
    return metadata


def _typed(table: sa.Table, row: dict) -> dict:
    typed = {}
    for name, value in row.items():
        column_type = table.columns[name].type
        if value is None or isinstance(column_type, sa.JSON):
            typed[name] = value
        elif isinstance(column_type, sa.DateTime):
            typed[name] = dt.datetime.fromisoformat(value)
        elif isinstance(column_type, sa.Date):
            typed[name] = dt.date.fromisoformat(value)
        elif isinstance(column_type, sa.Numeric) and not isinstance(column_type, (sa.Integer, sa.Float)):
            typed[name] = Decimal(value)
        else:
            typed[name] = value
    return typed


def _advance_sequences(connection, tables: sa.MetaData) -> None:
    for table in tables.sorted_tables:
        for column in table.primary_key.columns:
            sequence = connection.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                                          {"t": table.name, "c": column.name}).scalar()
            if sequence:
                connection.execute(sa.text(f'SELECT setval(:s, (SELECT COALESCE(MAX("{column.name}"), 0) + 1 '
                                           f'FROM "{table.name}"), false)'), {"s": sequence})
