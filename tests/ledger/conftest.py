import shutil
import uuid

import pytest

from tests.conftest import test_keyring


@pytest.fixture(params=["sqlite", "postgresql"])
def new_database(request, tmp_path):
    """A factory of fresh, empty-schema databases on one backend (for property tests, where each
    generated example needs its own books)."""
    import sqlalchemy as sa

    from workflows.db import Database

    made = []
    admin = None

    def make():
        nonlocal admin
        if request.param == "sqlite":
            template = request.getfixturevalue("sqlite_template")
            path = tmp_path / f"{uuid.uuid4().hex}.sqlite3"
            shutil.copyfile(template, path)
            db = Database(f"sqlite:///{path}", keyring=test_keyring())
        else:
            server_url = request.getfixturevalue("postgres_server_url")
            template = request.getfixturevalue("postgres_template")
            name = f"loanflow_p_{uuid.uuid4().hex[:12]}"
            admin = admin or sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
            db = Database(server_url.rsplit("/", 1)[0] + "/" + name, keyring=test_keyring())
            db.pg_name = name
        made.append(db)
        return db

    yield make
    for db in made:
        db.dispose()
        if admin is not None and getattr(db, "pg_name", None):
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{db.pg_name}" WITH (FORCE)'))
    if admin is not None:
        admin.dispose()
