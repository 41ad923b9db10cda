"""Fresh databases for the benches: whatever a bench creates, it drops, also on Ctrl-C or a failure."""
from __future__ import annotations

import contextlib
import os
import tempfile
import uuid


@contextlib.contextmanager
def bench_database(url: str | None):
    """Yields (url to use, kind, description) for a bench's run.

    None: a SQLite file in a temporary folder, removed afterwards. A `sqlite:` URL: that file, as
    it is. Any other URL names a PostgreSQL server (its database is only used to connect): a new
    database is created there for this run and dropped afterwards (`WITH (FORCE)`, PostgreSQL 13
    or newer, so connections a killed server left behind do not keep it alive)."""
    if url is None:
        with tempfile.TemporaryDirectory(prefix="loanflow-bench-") as folder:
            yield f"sqlite:///{folder}/bench.sqlite3", "sqlite", "SQLite, fresh file"
        return
    if url.startswith("sqlite"):
        yield url, "sqlite", f"SQLite, {url}"
        return
    import sqlalchemy as sa

    server_url = sa.engine.make_url(url)
    name = f"loanflow_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        version = conn.execute(sa.text("SHOW server_version")).scalar_one()
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (server_url.set(database=name).render_as_string(hide_password=False), "postgresql",
               f"PostgreSQL {version}, fresh database {name} (dropped afterwards)")
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def copy_of(url: str):
    """Yields the URL of a copy of the database at `url` (made by this run, nothing connected to
    it), dropped afterwards: a PostgreSQL database created from it as a template, or a copy of
    the SQLite file. So several runs of a bench start from the same book, seeded once."""
    import sqlalchemy as sa

    source = sa.engine.make_url(url)
    if source.get_backend_name() == "sqlite":
        import shutil

        copy = f"{source.database}.{uuid.uuid4().hex[:8]}"
        shutil.copyfile(source.database, copy)
        try:
            yield source.set(database=copy).render_as_string(hide_password=False)
        finally:
            os.remove(copy)
        return
    name = f"{source.database}_copy_{uuid.uuid4().hex[:8]}"[:63]
    admin = sa.create_engine(source.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{source.database}"'))
    try:
        yield source.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
