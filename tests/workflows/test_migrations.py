"""Schema migrations: the revisions build the models' tables, keep every row, and serve, worker and
`loanflow db` treat empty, made-before-migrations, behind and unknown databases as documented.

Rows come from tests/workflows/data/rows_at_0001.json.gz, made by the real services (demo seed, a
disbursed and repaid loan, an application in review, risk lists, webhooks, a closed business
day) on a database at revision 0001; make_rows_at_0001.py beside it shows how. Being 0001's rows,
they can be loaded into a 0001 database for as long as the project has migrations.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.conftest import BACKENDS, TEST_DATA_KEY, test_keyring
from tests.support.personal_data import clear_values_in
from tests.support import postgres, rows
from tests.support.exposure import rows_from_books, rows_in_table
from tests.support.web_app import TEST_SECRET_KEY
from tests.web.journeys import example, submit
from web.cli import main
from workflows import schema, task_counts
from workflows.db import SchemaOutdated, make_engine

ROWS_AT_BASELINE = Path(__file__).with_name("data") / "rows_at_0001.json.gz"
DISBURSED_APPLICATION_CUSTOMER = "Wang Jianguo"
# Every example applicant's ID number, phone and account (the rows at 0001 were made from them).
EXAMPLES_PERSONAL_DATA = tuple(example(name)["applicant"][field]
                               for name in ("application-auto.json", "application-review.json",
                                            "application-large.json")
                               for field in ("id_number", "phone", "deposit_account"))

# A revision of the kind that needs render_as_batch: on SQLite, adding a column with a default and
# rebuilding `application` (recreate="always"), which process_instance and human_task reference.
REBUILDING_REVISION = '''\
"""test revision: rebuild a referenced table

Revision ID: {rev}
Revises: {down}
"""
import sqlalchemy as sa
from alembic import op

revision = "{rev}"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade():
    recreate = "always" if op.get_bind().dialect.name == "sqlite" else "auto"
    with op.batch_alter_table("application", recreate=recreate) as batch:
        batch.add_column(sa.Column("test_rebuilt", sa.String(16), nullable=False, server_default="yes"))


def downgrade():
    with op.batch_alter_table("application") as batch:
        batch.drop_column("test_rebuilt")
'''


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """An empty database (no tables at all) on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    server_url = request.getfixturevalue("postgres_server_url")
    url = postgres.create_database(server_url)
    yield url
    postgres.drop_database(server_url, url)


@pytest.fixture
def engine_on(empty_url):
    engine = make_engine(empty_url, keyring=test_keyring())
    yield engine
    engine.dispose()


@pytest.fixture
def with_a_later_revision(tmp_path, monkeypatch):
    """The project's revisions plus REBUILDING_REVISION as the new head, in a copy of the script
    directory: a database at the project's head is then one revision behind."""
    scripts = tmp_path / "migrations"
    shutil.copytree(schema.MIGRATIONS_DIR, scripts, ignore=shutil.ignore_patterns("__pycache__"))
    head = schema.head_revision()
    rev = f"{int(head) + 1:04d}"  # numbered after the head, whatever gaps the chain has
    (scripts / "versions" / f"{rev}_rebuild_application.py").write_text(REBUILDING_REVISION.format(rev=rev, down=head))
    monkeypatch.setattr(schema, "MIGRATIONS_DIR", scripts)
    return rev


def build_at_baseline_with_rows(engine) -> dict[str, int]:
    schema.upgrade(engine, target=schema.BASELINE)
    loaded = rows.load(engine, ROWS_AT_BASELINE)
    assert rows.counts(engine) == loaded
    return loaded


def make_it_look_made_before_migrations(engine) -> None:
    # The previous loanflow's create_all made exactly revision 0001's tables (checked when 0001 was
    # written: the same DDL on both backends); building them from 0001 keeps this true after the
    # models move on.
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))


def run_cli(monkeypatch, capsys, url, *argv):
    monkeypatch.setenv("LOANFLOW_DATABASE_URL", url)
    monkeypatch.setenv("LOANFLOW_DATA_KEY", TEST_DATA_KEY)
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_the_app_works_on(url, bureau) -> None:
    """The real services read the upgraded rows and write new ones."""
    from web.app import create_app
    from web.config import PROJECT_ROOT, Settings
    from web.services import build_services

    settings = Settings(database_url=url, secret_key=TEST_SECRET_KEY, bpmn_dir=PROJECT_ROOT / "bpmn",
                        bureau_url=bureau.url, data_key=TEST_DATA_KEY)
    services = build_services(settings)
    try:
        client = create_app(settings, services=services).test_client()
        token = client.post("/api/v1/auth/token", json={"username": "api-demo", "password": "demo"})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        with services.db.unit_of_work() as session:
            app_id, loan_id = session.execute(sa.text(
                "SELECT id, loan_id FROM application WHERE status = 'disbursed'")).one()
            # 0016 filled the exposure rows from the books: the disbursed and part-repaid loan is there
            assert rows_in_table(session) == rows_from_books(session) != {}
        application = client.get(f"/api/v1/applications/{app_id}", headers=headers).get_json()
        assert (application["status"], application["customer_name"]) == ("disbursed", DISBURSED_APPLICATION_CUSTOMER)
        loan = client.get(f"/api/v1/loans/{loan_id}", headers=headers)
        assert loan.status_code == 200, loan.get_json()
        response = submit(client, headers, example("application-auto.json", amount="20000.00"))
        assert response.status_code == 201, response.get_json()
        with services.db.unit_of_work() as session:
            assert rows_in_table(session) == rows_from_books(session)
    finally:
        services.db.dispose()


# -- the revisions and the models ------------------------------------------------------------------

def test_a_database_upgraded_to_head_has_exactly_the_models_tables_indexes_and_constraints(database):
    assert schema.inspect_schema(database.engine).state == schema.CURRENT
    assert schema.differences(database.engine) == []


def test_the_comparison_notices_when_the_database_and_the_models_disagree(database):
    with database.engine.begin() as connection:
        connection.execute(sa.text("DROP INDEX ix_application_status"))
        connection.execute(sa.text("ALTER TABLE human_task ADD COLUMN note VARCHAR(20)"))
    found = [(diff[0], getattr(diff[-1], "name", None)) for diff in schema.differences(database.engine)]
    assert ("add_index", "ix_application_status") in found
    assert ("remove_column", "note") in found


def test_the_revisions_form_one_chain_from_the_baseline_with_one_file_each():
    # Two branches that both add a 0002 would leave alembic one of them, with only a warning.
    chain = schema.revision_chain()
    files = sorted(path.name for path in (schema.MIGRATIONS_DIR / "versions").glob("[0-9]*.py"))
    assert chain[0] == schema.BASELINE
    assert chain[-1] == schema.head_revision()
    assert [name.split("_", 1)[0] for name in files] == chain


# -- rows survive --------------------------------------------------------------------------------

# Rows a revision adds on purpose: 0018 deploys head office's products.json from the product table.
ADDED_BY = {"0018": {"deployment": 1, "deployment_file": 1}}


def assert_products_file_written_from_the_rows(engine) -> None:
    from workflows.products import parse_hq

    with engine.connect() as connection:
        content = connection.execute(sa.text(
            "SELECT content FROM deployment_file WHERE scope = 'HQ' AND name = 'products.json'")).scalar_one()
        codes = set(connection.execute(sa.text("SELECT code FROM product")).scalars())
    catalogue, problems = parse_hq(content)
    assert problems == [] and set(catalogue) == codes

@pytest.mark.parametrize("revisions", ["the project's", "the project's and one rebuilding a referenced table"])
def test_rows_made_at_the_baseline_survive_each_revision_up_to_head(revisions, request, engine_on, empty_url,
                                                                    bureau):
    if revisions != "the project's":
        request.getfixturevalue("with_a_later_revision")
    before = build_at_baseline_with_rows(engine_on)
    assert all(before[table] > 0 for table in before if table != "ledger_eod_work"), before
    for revision in schema.revision_chain()[1:]:
        done = schema.upgrade(engine_on, target=revision)
        assert done.applied == (revision,)
        after = rows.counts(engine_on)
        for table, added in ADDED_BY.get(revision, {}).items():
            before[table] += added
        assert {table: after[table] for table in before} == before, f"rows lost or added by {revision}"
        if revision == "0018":
            assert_products_file_written_from_the_rows(engine_on)
    assert schema.inspect_schema(engine_on).state == schema.CURRENT
    assert clear_values_in(engine_on, EXAMPLES_PERSONAL_DATA) == [], "0002 seals what 0001 stored in clear"
    assert_the_app_works_on(empty_url, bureau)


def test_a_database_made_before_migrations_is_recorded_as_the_baseline_with_its_rows(
        engine_on, empty_url, monkeypatch, capsys, bureau):
    loaded = build_at_baseline_with_rows(engine_on)
    make_it_look_made_before_migrations(engine_on)
    assert schema.inspect_schema(engine_on).state == schema.UNVERSIONED

    code, out, err = run_cli(monkeypatch, capsys, empty_url, "db", "upgrade")

    assert (code, err) == (0, "")
    assert f"recorded the tables made before migrations as {schema.BASELINE} (baseline), rows untouched" in out
    after = rows.counts(engine_on)
    for added in ADDED_BY.values():
        for table, count in added.items():
            loaded[table] += count
    assert {table: after[table] for table in loaded} == loaded
    # 0004 files each existing instance under its application's correlation key; 0014 registers each
    # application's customer with its first change; 0015 counts the inbox's rows per inbox key; 0016
    # fills the exposure rows from the books (assert_the_app_works_on checks them); every other new
    # table is empty
    assert after["correlation_key"] == loaded["process_instance"] > 0
    assert 0 < after["customer"] <= loaded["application"] and after["customer_change"] == after["customer"]
    with sa.orm.Session(engine_on) as session:
        assert task_counts.maintained(session) == task_counts.from_rows(session) != {}
    linked = {"correlation_key", "customer", "customer_change", "human_task_count", "ledger_exposure"}
    assert all(after[table] == 0 for table in set(after) - set(loaded) - linked), \
        "tables added by later revisions start empty"
    assert schema.inspect_schema(engine_on).state == schema.CURRENT
    assert_the_app_works_on(empty_url, bureau)


def test_an_empty_database_is_upgraded_from_nothing_and_a_second_upgrade_does_nothing(
        engine_on, empty_url, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, empty_url, "db", "upgrade")
    assert code == 0 and f"applied {schema.BASELINE} (baseline)" in out
    assert schema.differences(engine_on) == []

    code, out, _ = run_cli(monkeypatch, capsys, empty_url, "db", "upgrade")
    assert code == 0 and "nothing to do" in out


def test_two_upgrades_of_one_empty_database_at_once_create_the_schema_once(engine_on):
    import threading

    outcomes = []

    def upgrade_it():
        try:
            outcomes.append(schema.upgrade(engine_on).applied)
        except Exception as err:  # noqa: BLE001 - recorded for the assertion
            outcomes.append(err)

    threads = [threading.Thread(target=upgrade_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(map(repr, outcomes)) == sorted([repr(()), repr(tuple(schema.revision_chain()))])


def test_a_database_with_only_some_of_the_tables_is_refused_naming_what_is_missing(engine_on, empty_url,
                                                                                   monkeypatch, capsys):
    schema.upgrade(engine_on)
    make_it_look_made_before_migrations(engine_on)
    with engine_on.begin() as connection:
        connection.execute(sa.text("DROP TABLE ledger_eod_run"))

    code, out, err = run_cli(monkeypatch, capsys, empty_url, "db", "upgrade")

    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "missing ledger_eod_run" in err
    assert not sa.inspect(engine_on).has_table("alembic_version")


# -- db current ------------------------------------------------------------------------------------

def test_db_current_names_the_revision_or_says_what_the_database_is(engine_on, empty_url, monkeypatch, capsys):
    def current():
        code, out, err = run_cli(monkeypatch, capsys, empty_url, "db", "current")
        assert (code, err) == (0, "")
        return out.strip()

    with engine_on.connect():
        pass  # a SQLite file exists from here on
    assert current().startswith("none: an empty database")
    schema.upgrade(engine_on)
    assert current().startswith(schema.head_revision()) and current().endswith("(head)")
    with engine_on.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999'"))
    assert "9999, which this version of loanflow does not know" in current()
    with engine_on.begin() as connection:
        connection.execute(sa.text("DROP TABLE alembic_version"))
    assert current().startswith("none: tables made before loanflow had migrations")


def test_db_current_on_a_missing_sqlite_file_creates_nothing(tmp_path, monkeypatch, capsys):
    path = tmp_path / "nowhere" / "loanflow.sqlite3"
    code, out, _ = run_cli(monkeypatch, capsys, f"sqlite:///{path}", "db", "current")
    assert code == 0 and "no database file" in out
    assert not path.parent.exists()


def test_db_upgrade_on_an_unreachable_database_says_so_in_one_line(monkeypatch, capsys):
    code, out, err = run_cli(monkeypatch, capsys, "postgresql+psycopg://nobody@127.0.0.1:9/none", "db", "upgrade")
    assert (code, out) == (2, "")
    assert err.startswith("loanflow: the database at postgresql+psycopg://nobody@127.0.0.1:9/none failed")
    assert err.count("\n") == 1


# -- serve and worker ------------------------------------------------------------------------------

@pytest.fixture
def serving(monkeypatch):
    """Records the server serve would start, instead of serving forever."""
    import werkzeug.serving

    started = []
    monkeypatch.setattr(werkzeug.serving, "run_simple", lambda *args, **kwargs: started.append(args))
    monkeypatch.setenv("LOANFLOW_PORT", "0")
    # Outside --demo, serve and worker need a signing key before they look at the database.
    monkeypatch.setenv("LOANFLOW_SECRET_KEY", TEST_SECRET_KEY)
    return started


def test_serve_on_a_database_behind_head_prints_one_line_and_exits_2(engine_on, empty_url, with_a_later_revision,
                                                                     serving, monkeypatch, capsys):
    build_at_baseline_with_rows(engine_on)
    schema.upgrade(engine_on, target=schema.revision_chain()[-2])

    code, out, err = run_cli(monkeypatch, capsys, empty_url, "serve")

    assert (code, out, serving) == (2, "", [])
    assert err.count("\n") == 1
    assert "behind this version's" in err and "run `loanflow db upgrade`" in err
    assert schema.inspect_schema(engine_on).revision == schema.revision_chain()[-2]


def test_serve_and_worker_on_a_database_made_before_migrations_print_one_line_and_exit_2(
        engine_on, empty_url, serving, monkeypatch, capsys):
    build_at_baseline_with_rows(engine_on)
    make_it_look_made_before_migrations(engine_on)

    for command in (["serve"], ["worker", "--once"]):
        code, out, err = run_cli(monkeypatch, capsys, empty_url, *command)
        assert (code, out) == (2, ""), command
        assert err == (f"loanflow: The database at {engine_on.url.render_as_string(hide_password=True)} was made "
                       "before loanflow had migrations: back it up, then run `loanflow db upgrade`\n")
    assert serving == []
    assert schema.inspect_schema(engine_on).state == schema.UNVERSIONED


def test_serve_demo_upgrades_a_behind_demo_database_by_itself(engine_on, empty_url, with_a_later_revision, serving,
                                                              monkeypatch, capsys):
    loaded = build_at_baseline_with_rows(engine_on)

    code, out, _ = run_cli(monkeypatch, capsys, empty_url, "serve", "--demo")

    assert code == 0 and len(serving) == 1
    assert f"now at {with_a_later_revision} (test revision" in out
    assert schema.inspect_schema(engine_on).state == schema.CURRENT
    assert rows.counts(engine_on)["application"] == loaded["application"]


def test_serve_on_an_empty_database_creates_the_schema_and_serves(engine_on, empty_url, serving, monkeypatch, capsys):
    code, out, _ = run_cli(monkeypatch, capsys, empty_url, "serve")

    assert code == 0 and len(serving) == 1
    assert out.startswith("loanflow: ") and f"applied {schema.BASELINE} (baseline)" in out
    assert schema.inspect_schema(engine_on).state == schema.CURRENT


def test_ensure_current_refuses_a_database_of_a_newer_version_even_for_the_demo(database):
    with database.engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'ffff'"))
    with pytest.raises(SchemaOutdated, match="ffff, which this version of loanflow does not know"):
        schema.ensure_current(database.engine, upgrade_behind=True)
