"""Shared fixtures: every database test runs on SQLite and on a real PostgreSQL server.

`database_url` is a fresh database holding the whole schema. Each backend builds a template once
per session (a SQLite file, or a PostgreSQL template database) by running the migrations, as
`loanflow db upgrade` does, and every test gets a copy, so tests never see each other's rows and
the schema is not recreated each time.
"""
from __future__ import annotations

import os
import shutil
import uuid

import pytest

from tests.support import postgres

BACKENDS = ["sqlite", "postgresql"]


# The tests' data key (not the demo's, which serve and worker refuse outside --demo).
TEST_DATA_KEY = "7465737473206f6e6c793a206c6f616e666c6f772074657374206461746121ab"


def test_keyring():
    """The keyring of TEST_DATA_KEY, which the `services` fixture's settings hold too."""
    from privacy import Keyring

    return Keyring.from_setting(TEST_DATA_KEY)


test_keyring.__test__ = False


@pytest.fixture(autouse=True)
def data_key_in_the_environment(monkeypatch):
    """Commands a test runs (`loanflow eod`, `collect`, ...) read the key from the environment: the
    tests' key, which the test databases are sealed with."""
    monkeypatch.setenv("LOANFLOW_DATA_KEY", TEST_DATA_KEY)

# The Flask app on a fresh demo database (client, token_for, services, bureau), for any test folder.
pytest_plugins = ["tests.support.web_app"]


@pytest.fixture(scope="session")
def postgres_server_url():
    url = os.environ.get("LOANFLOW_TEST_POSTGRES_URL")
    if url:
        yield url
        return
    server = postgres.ThrowawayPostgres()
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory):
    from workflows.db import make_engine
    from workflows.schema import upgrade

    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_template(postgres_server_url):
    import sqlalchemy as sa

    from workflows.schema import upgrade

    url = postgres.create_database(postgres_server_url)
    engine = sa.create_engine(url)
    upgrade(engine)
    engine.dispose()
    yield url.rsplit("/", 1)[1]
    postgres.drop_database(postgres_server_url, url)


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    """A fresh database with the full schema, on each backend in turn."""
    if request.param == "sqlite":
        template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "loanflow.sqlite3"
        shutil.copyfile(template, path)
        yield f"sqlite:///{path}"
        return
    import sqlalchemy as sa

    server_url = request.getfixturevalue("postgres_server_url")
    template = request.getfixturevalue("postgres_template")
    name = f"loanflow_t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    yield url
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database(database_url):
    """A `workflows.db.Database` on a fresh database (see `database_url`)."""
    from workflows.db import Database

    db = Database(database_url, keyring=test_keyring())
    yield db
    db.dispose()
