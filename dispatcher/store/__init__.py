"""Persistence without domain rules: declarative base, column types (geometry, UTC time, encrypted text),
the cipher behind encrypted columns, engines and sessions, the outbox, idempotency keys, stored grid
versions and Alembic migrations.

May import: `dispatcher.errors`, `dispatcher.settings`, `geo`, SQLAlchemy/GeoAlchemy2/Alembic. Nothing else
of the engine: every other room builds on this one.
"""
