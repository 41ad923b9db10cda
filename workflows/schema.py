"""Schema versions: Alembic revisions in workflows/migrations/ bring a database to this version's tables.

What a database can be, as `inspect_schema` tells it:

- empty: none of loanflow's tables. Upgrading creates them; nothing can be lost.
- unversioned: every table and column of the baseline revision but no `alembic_version` table,
  i.e. made by loanflow before it had migrations (create_all). Upgrading stamps it as the
  baseline without touching a row, then applies the later revisions.
- behind: at an older revision than this version's head.
- current: at head.
- unknown: at a revision this version does not know (a newer loanflow upgraded it), or with only
  part of the baseline's tables. Refused: guessing could lose data.

Upgrades run in one transaction, under a lock (SQLite's write lock, a PostgreSQL advisory lock),
and look at the database again once they hold it, so two processes starting at once on an empty
database create the schema once.
"""
from __future__ import annotations

import functools
import logging
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from workflows.db import SchemaOutdated

MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")
BASELINE = "0001"
# Any constant works: it only has to be the same in every loanflow process on one server.
_PG_UPGRADE_LOCK = 0x6C6F616E  # "loan"

EMPTY, UNVERSIONED, BEHIND, CURRENT, UNKNOWN = "empty", "unversioned", "behind", "current", "unknown"


class MigrationFailed(SchemaOutdated):
    """A revision ran but left the database inconsistent; the transaction was rolled back."""


@dataclass(frozen=True)
class SchemaStatus:
    state: str
    revision: str | None  # the database's, None when it has no alembic_version row
    head: str
    where: str  # the database URL without its password
    problem: str = ""  # why an unknown database is refused

    def describe(self) -> str:
        """One line for `loanflow db current`."""
        if self.state == CURRENT:
            return f"{_label(self.revision)} (head)"
        if self.state == BEHIND:
            return (f"{_label(self.revision)}, behind head {_label(self.head)}: "
                    "run `loanflow db upgrade`")
        if self.state == EMPTY:
            return f"none: an empty database (`loanflow db upgrade` creates the tables at {_label(self.head)})"
        if self.state == UNVERSIONED:
            return (f"none: tables made before loanflow had migrations "
                    f"(`loanflow db upgrade` records them as {_label(BASELINE)} and applies the rest)")
        return f"unknown: {self.problem}"

    def refusal(self) -> str:
        """One line for serve and worker when they will not run on this database."""
        if self.state == UNKNOWN:
            return f"The database at {self.where} {self.problem}"
        if self.state == UNVERSIONED:
            at = "was made before loanflow had migrations"
        elif self.state == EMPTY:
            at = "is empty"
        else:
            at = f"is at revision {self.revision}, behind this version's {self.head}"
        return f"The database at {self.where} {at}: back it up, then run `loanflow db upgrade`"


@dataclass(frozen=True)
class Upgrade:
    """What `upgrade` did."""
    before: SchemaStatus
    stamped: bool  # an unversioned database recorded as the baseline
    applied: tuple[str, ...]  # revision ids run, oldest first

    def describe(self) -> str:
        if not self.stamped and not self.applied:
            return f"{self.before.where} is already at {_label(self.before.head)}: nothing to do"
        done = []
        if self.stamped:
            done.append(f"recorded the tables made before migrations as {_label(BASELINE)}, rows untouched")
        if self.applied:
            done.append("applied " + ", ".join(_label(rev) for rev in self.applied))
        return f"{self.before.where}: " + "; ".join(done) + f"; now at {_label(self.applied[-1] if self.applied else BASELINE)}"


def head_revision() -> str:
    return _scripts().get_current_head()


def revision_chain() -> list[str]:
    """Every revision id from the baseline to head, oldest first."""
    scripts = _scripts()
    return [script.revision for script in reversed(list(scripts.walk_revisions("base", "heads")))]


def inspect_schema(engine: Engine) -> SchemaStatus:
    with engine.connect() as connection:
        return _status(connection)


def upgrade(engine: Engine, *, target: str = "head", only_if: frozenset[str] | None = None) -> Upgrade:
    """Bring the database to `target` (head by default) in one transaction.

    `only_if` limits which states may be upgraded (serve upgrades an empty database by itself, not
    a behind one); it is checked again under the lock. Raises SchemaOutdated for a database that
    must not be upgraded, MigrationFailed when a revision breaks a foreign key.
    """
    _quiet_alembic()
    from alembic import command

    with engine.connect() as connection, _sqlite_foreign_keys_off(connection), connection.begin():
        _lock_upgrades(connection)
        before = _status(connection)
        if before.state == UNKNOWN or (only_if is not None and before.state not in only_if | {CURRENT}):
            raise SchemaOutdated(before.refusal())
        chain = revision_chain()
        target_index = len(chain) - 1 if target == "head" else chain.index(target)
        stamped = before.state == UNVERSIONED
        start = {EMPTY: 0, UNVERSIONED: 1}.get(before.state)
        if start is None:
            start = chain.index(before.revision) + 1
        config = _config(connection)
        if stamped:
            command.stamp(config, BASELINE)
        if start <= target_index:
            command.upgrade(config, chain[target_index])
        _check_foreign_keys(connection)
    return Upgrade(before=before, stamped=stamped, applied=tuple(chain[start:target_index + 1]))


def ensure_current(engine: Engine, *, upgrade_behind: bool = False) -> Upgrade | None:
    """For serve and worker: nothing if the database is at head; an empty one is upgraded (nothing
    can be lost); a behind or unversioned one only with `upgrade_behind` (the demo), else
    SchemaOutdated with the one line to print."""
    status = inspect_schema(engine)
    if status.state == CURRENT:
        return None
    allowed = {EMPTY, BEHIND, UNVERSIONED} if upgrade_behind else {EMPTY}
    if status.state not in allowed:
        raise SchemaOutdated(status.refusal())
    return upgrade(engine, only_if=frozenset(allowed))


def new_revision(message: str, *, database_url: str | None = None) -> Path:
    """Autogenerate the next revision file (id 0002, 0003, ...) from the models' difference with a
    database at head: a scratch SQLite database unless `database_url` names one. Returns its path."""
    _quiet_alembic()
    from alembic import command

    from workflows.db import make_engine

    with tempfile.TemporaryDirectory(prefix="loanflow-revision-") as scratch:
        engine = make_engine(database_url or f"sqlite:///{Path(scratch) / 'head.sqlite3'}")
        try:
            status = inspect_schema(engine)
            if status.state != CURRENT:
                if database_url:
                    raise SchemaOutdated(f"{status.where} must be at head to compare with the models: "
                                         f"{status.describe()}")
                upgrade(engine)
            with engine.connect() as connection, connection.begin():
                rev_id = f"{len(revision_chain()) + 1:04d}"
                script = command.revision(_config(connection), message=message, autogenerate=True,
                                          rev_id=rev_id)
        finally:
            engine.dispose()
    return Path(script.path)


def _label(revision: str | None) -> str:
    if revision is None:
        return "none"
    script = _scripts().get_revision(revision)
    title = (script.doc or "").strip().splitlines()[0] if script and script.doc else ""
    return f"{revision} ({title})" if title else revision


def _quiet_alembic() -> None:
    """Called before alembic is imported or run. The commands print one line of their own about what
    changed; alembic's INFO lines (plugins set up on import, "Context impl") would bury it in the
    worker's log. A level someone set explicitly (`db revision` does) stays."""
    alembic_log = logging.getLogger("alembic")
    if alembic_log.level == logging.NOTSET:
        alembic_log.setLevel(logging.WARNING)


def _config(connection: Connection | None = None):
    _quiet_alembic()
    from alembic.config import Config

    config = Config()
    # The ini-style options interpolate %: escape it in the path.
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    config.attributes["connection"] = connection
    return config


def _scripts():
    _quiet_alembic()
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config())


def _status(connection: Connection) -> SchemaStatus:
    _quiet_alembic()
    from alembic.runtime.migration import MigrationContext
    from alembic.util import CommandError

    scripts = _scripts()
    head = scripts.get_current_head()
    where = connection.engine.url.render_as_string(hide_password=True)
    heads = MigrationContext.configure(connection).get_current_heads()
    if not heads:
        return _status_without_version(connection, head, where)
    if len(heads) > 1:
        return SchemaStatus(UNKNOWN, ",".join(heads), head, where,
                            problem=f"has several schema heads ({', '.join(heads)}), which loanflow never makes")
    (revision,) = heads
    try:
        scripts.get_revision(revision)
    except CommandError:
        return SchemaStatus(UNKNOWN, revision, head, where,
                            problem=f"is at revision {revision}, which this version of loanflow does not know "
                                    "(was it upgraded by a newer version?)")
    return SchemaStatus(CURRENT if revision == head else BEHIND, revision, head, where)


def _status_without_version(connection: Connection, head: str, where: str) -> SchemaStatus:
    inspector = sa.inspect(connection)
    baseline = _baseline_columns()
    present = set(inspector.get_table_names()) & baseline.keys()
    if not present:
        return SchemaStatus(EMPTY, None, head, where)
    missing = sorted(set(baseline) - present)
    for table in sorted(present):
        columns = {column["name"] for column in inspector.get_columns(table)}
        missing += [f"{table}.{column}" for column in sorted(baseline[table] - columns)]
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        return SchemaStatus(UNKNOWN, None, head, where,
                            problem=f"has some of loanflow's tables but not all of revision {BASELINE} "
                                    f"(missing {shown}), so it cannot be recorded as {BASELINE}")
    return SchemaStatus(UNVERSIONED, None, head, where)


@functools.lru_cache(maxsize=1)
def _baseline_columns() -> dict[str, frozenset[str]]:
    """Each table of the baseline revision and its columns, read from a scratch in-memory database
    built by that revision, so the baseline stays the one description of what came before."""
    _quiet_alembic()
    from alembic import command

    engine = sa.create_engine("sqlite://")
    try:
        with engine.connect() as connection, connection.begin():
            command.upgrade(_config(connection), BASELINE)
            inspector = sa.inspect(connection)
            return {table: frozenset(column["name"] for column in inspector.get_columns(table))
                    for table in inspector.get_table_names() if table != "alembic_version"}
    finally:
        engine.dispose()


def _lock_upgrades(connection: Connection) -> None:
    # On SQLite the unit of work's BEGIN IMMEDIATE already holds the write lock.
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_UPGRADE_LOCK})


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite alters a table by copying it to a new one and dropping the old: with foreign keys
    enforced, dropping a referenced table fails or deletes. The pragma works only outside a
    transaction, so it is set on the driver connection before ours begins; _check_foreign_keys
    checks the result before commit."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver = connection.connection.driver_connection
    was_on = driver.execute("PRAGMA foreign_keys").fetchone()[0]
    driver.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        if was_on:
            driver.execute("PRAGMA foreign_keys=ON")


def _check_foreign_keys(connection: Connection) -> None:
    if connection.dialect.name != "sqlite":
        return  # PostgreSQL checked every reference as the revisions ran
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        tables = sorted({row[0] for row in broken})
        raise MigrationFailed(f"the upgrade left rows whose references are broken in {', '.join(tables)}; "
                              "nothing was changed")


def differences(engine: Engine) -> list:
    """What autogenerate would write for this database compared with the models: empty when the
    revisions and the models agree (the test that catches a model change without a revision)."""
    _quiet_alembic()
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from workflows.db import all_metadata

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "target_metadata": all_metadata(), "compare_type": True, "compare_server_default": True})
        return compare_metadata(context, all_metadata())
