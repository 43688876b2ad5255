"""Alembic: an empty database upgrades to head with every table the models declare."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from xlproc.web.db import MIGRATIONS, Database, alembic_config, current_revision, migrate
from xlproc.web.models import Base


def test_empty_database_upgrades_to_head(settings):
    settings.data.mkdir(parents=True, exist_ok=True)
    database = Database(settings.database_url)
    try:
        assert current_revision(database.engine) is None
        assert not inspect(database.engine).get_table_names()
        migrate(database.engine)
        head = ScriptDirectory.from_config(alembic_config(settings.database_url)).get_current_head()
        assert head and current_revision(database.engine) == head
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        for name, table in Base.metadata.tables.items():
            cols = {c["name"] for c in inspect(database.engine).get_columns(name)}
            assert cols == {c.name for c in table.columns}, name
        migrate(database.engine)  # idempotent
        assert current_revision(database.engine) == head
    finally:
        database.engine.dispose()


def test_migrations_ship_inside_the_package():
    assert (MIGRATIONS / "env.py").is_file()
    assert list((MIGRATIONS / "versions").glob("0001_*.py"))
