"""An in-memory SQLite database with every table, for engine tests that need no grids (the audit trail)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker

from dispatcher.schema import Base


@pytest.fixture
def engine():
    engine = sa.create_engine("sqlite://")
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine):
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
