"""A scan of a whole database for personal data in clear: every table, every column, raw SQL."""
from __future__ import annotations

import json

import sqlalchemy as sa


def clear_values_in(engine, values) -> list[str]:
    """`table.column: value` wherever one of `values` appears in clear (as is or lower case),
    in whatever tables and columns the database has."""
    found = []
    inspector = sa.inspect(engine)
    # a plain BEGIN on SQLite (workflows.db), not the writers' BEGIN IMMEDIATE
    with engine.execution_options(loanflow_read_only=True).connect() as connection:
        for table in inspector.get_table_names():
            columns = [c["name"] for c in inspector.get_columns(table)]
            quoted = ", ".join(f'"{c}"' for c in columns)
            for row in connection.execute(sa.text(f'SELECT {quoted} FROM "{table}"')):
                for column, value in zip(columns, row):
                    text = value if isinstance(value, str) else json.dumps(value, default=str)
                    found += [f"{table}.{column}: {v}" for v in values if v in text or v.lower() in text]
    return sorted(set(found))
