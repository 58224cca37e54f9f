"""Database engines and sessions for PostgreSQL/PostGIS and the embedded SQLite default."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def make_engine(
    url: str, *, pool_size: int = 10, connect_timeout_s: int = 10, statement_timeout_ms: int | None = None
) -> Engine:
    """An engine for `url`; SQLite gets WAL, foreign keys and a busy timeout so writers queue instead of failing.

    PostgreSQL: a connection attempt gives up after `connect_timeout_s`, a statement after `statement_timeout_ms`
    (the web process passes its settings: a stuck database answers 503 in seconds instead of hanging requests), and
    a request waits at most `connect_timeout_s` for a pooled connection. SQLite: `statement_timeout_ms` is the busy
    timeout (how long a writer waits for the lock; 30 s when not given)."""
    if url.startswith("sqlite"):
        path = make_url(url).database
        if path and path != ":memory:" and not path.startswith("file:"):
            private_database_file(Path(path))
        busy_s = statement_timeout_ms / 1000 if statement_timeout_ms else 30
        engine = create_engine(url, connect_args={"timeout": busy_s, "check_same_thread": False})
        busy_ms = int(busy_s * 1000)
        event.listen(engine, "connect", lambda conn, record: _sqlite_pragmas(conn, record, busy_ms=busy_ms))
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    connect_args: dict[str, object] = {"connect_timeout": connect_timeout_s}
    if statement_timeout_ms:
        connect_args["options"] = f"-c statement_timeout={int(statement_timeout_ms)}"
    engine = create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=connect_timeout_s,
        connect_args=connect_args,
    )
    if statement_timeout_ms and make_url(url).get_driver_name() == "psycopg":
        deadline_s = statement_timeout_ms / 1000 + ANSWER_GRACE_S

        @event.listens_for(engine, "do_connect")
        def _connect_with_deadline(dialect: Any, record: Any, cargs: Any, cparams: Any) -> DeadlineConnection:
            connection = DeadlineConnection.connect(*cargs, **cparams)
            connection.deadline_s = deadline_s
            return connection

    return engine


WAIT_INTERVAL_S = 0.1  # psycopg's own: how often a blocked wait wakes to check for Ctrl-C
ANSWER_GRACE_S = 1.0  # the server's own statement timeout answers first; this only catches a server that cannot


class DeadlineConnection(psycopg.Connection):
    """A psycopg connection that waits for the server at most `deadline_s` per operation, then closes itself.

    A stopped (SIGSTOP) or wedged PostgreSQL still lets the kernel acknowledge what is sent, so neither TCP timeouts
    nor the server's statement timeout end a query in flight, or the pool's ping of an idle connection: without this
    the request waits until the server resumes. The closed connection is a disconnect to SQLAlchemy, which drops it
    from the pool; the request answers 503."""

    deadline_s: float | None = None

    def wait(self, gen: Any, interval: float = WAIT_INTERVAL_S, timeout: float | None = None) -> Any:
        try:
            return super().wait(gen, interval, timeout if timeout is not None else self.deadline_s)
        except psycopg.errors._WaitTimeout:
            self.pgconn.finish()  # mid-protocol: the connection cannot be reused
            raise psycopg.OperationalError(
                f"the database did not answer within {self.deadline_s:g} s (server stopped or unreachable)"
            ) from None


def private_database_file(path: Path) -> None:
    """Create the SQLite file (and a missing folder) readable by the service's user only: 0600 (0700), before
    SQLite opens it; its -wal and -shm files take the database file's mode. An existing file of ours is tightened."""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        for existing in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            info = existing.stat() if existing.exists() else None
            if info and info.st_mode & 0o077 and info.st_uid == os.getuid():
                os.chmod(existing, 0o600)


def _sqlite_pragmas(
    dbapi_connection: sqlite3.Connection, _record: ConnectionPoolEntry, *, busy_ms: int = 30000
) -> None:
    dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN itself
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    """Take the write lock at BEGIN so two writers serialise instead of deadlocking on upgrade."""
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    """The session factory every unit of work draws from."""
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)
