import pytest
import sqlalchemy as sa

from workflows.db import SchemaOutdated, create_schema


def test_a_database_from_an_older_version_is_refused_naming_what_is_missing(database):
    with database.engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE application DROP COLUMN industry"))
    with pytest.raises(SchemaOutdated, match="application.industry"):
        create_schema(database.engine)


def test_creating_the_schema_again_on_a_current_database_is_harmless(database):
    create_schema(database.engine)
    create_schema(database.engine)
