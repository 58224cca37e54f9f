"""Alembic environment: runs on the connection handed over by dispatcher.store.migrate (or a URL from the config)."""

from alembic import context
from sqlalchemy import create_engine

from dispatcher import schema  # noqa: F401 (registers every table on Base.metadata)
from dispatcher.store.base import Base

config = context.config


def run() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        with create_engine(config.get_main_option("sqlalchemy.url")).connect() as conn:
            _migrate(conn)
    else:
        _migrate(connection)


def _migrate(connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run()
