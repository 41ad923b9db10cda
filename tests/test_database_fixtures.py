import sqlalchemy as sa


def test_each_backend_gives_a_working_fresh_database(database):
    with database.unit_of_work() as session:
        assert session.execute(sa.text("SELECT 1")).scalar_one() == 1
    assert database.engine.dialect.name in {"sqlite", "postgresql"}
