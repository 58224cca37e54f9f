"""Migrations build the schema on an empty PostGIS database (and on SQLite), and roll back cleanly."""

import sqlalchemy as sa

from dispatcher.store.db import make_engine
from dispatcher.store.migrate import downgrade, upgrade
from tests.conftest import _ensure_pg_database

TABLES = {
    "grid",
    "grid_import",
    "incident",
    "timeline",
    "outbox",
    "idempotency_key",
    "officer",
    "officer_position",
    "audit_log",
    "audit_head",
}


def test_migrations_on_an_empty_postgis_database(pg_url):
    url = sa.make_url(pg_url).set(database="gridcommand_migrate_test").render_as_string(hide_password=False)
    _ensure_pg_database(url)
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade(engine)
    inspector = sa.inspect(engine)
    assert set(inspector.get_table_names()) >= TABLES
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT extname FROM pg_extension WHERE extname = 'postgis'")) == "postgis"
        geometry_type = conn.scalar(
            sa.text(
                "SELECT type FROM geometry_columns WHERE f_table_name = 'incident' AND f_geometry_column = 'location'"
            )
        )
        assert geometry_type == "POINT"
        gist = conn.scalar(sa.text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_grid_geometry'"))
        assert "gist" in gist.lower()
    downgrade(engine)
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_migrations_on_a_new_sqlite_file(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    engine.dispose()
