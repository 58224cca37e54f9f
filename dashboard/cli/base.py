"""The `gridcommand` command group and the one way its commands open the database."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from pythonjsonlogger.json import JsonFormatter
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from dispatcher.access.audit import install_audit_key
from dispatcher.access.privacy import install_log_redaction
from dispatcher.errors import EngineError
from dispatcher.settings import Settings, get_settings
from dispatcher.store import cipher
from dispatcher.store.db import make_engine, make_sessions

log = logging.getLogger("gridcommand")


@contextmanager
def open_engine(settings: Settings) -> Iterator[Engine]:
    """The engine of DATABASE_URL with this process's PII key installed, disposed afterwards. Every command that
    touches the database goes through here (or `_database`)."""
    cipher.install_key(settings.key("pii_key"))
    install_audit_key(settings.key("audit_key"), settings.audit_checkpoint_file)
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def open_database(settings: Settings, *, write: bool = False) -> Iterator[Session]:
    """A session on DATABASE_URL; with `write`, a transaction committed on leaving."""
    with open_engine(settings) as engine:
        sessions = make_sessions(engine)
        with sessions.begin() if write else sessions() as session:
            yield session


@contextmanager
def admin_session():
    """A transaction on DATABASE_URL for an admin command; engine errors exit 2 with their message."""
    try:
        with open_database(get_settings(), write=True) as session:
            yield session, datetime.now(UTC)
    except EngineError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """GridCommand: command and dispatch for urban grid management (网格化管理指挥调度)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if get_settings().json_logs:  # one JSON object per line, for log shippers
        for handler in logging.getLogger().handlers:
            handler.setFormatter(JsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    install_log_redaction()  # no full mobile number reaches any log
    # Werkzeug logs every request at INFO on its own unless told otherwise (URLs may carry personal data).
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)


def reject(path, problems: list[str]) -> None:
    """An import file refused: every problem (the first 50) on stderr, nothing written, exit 2."""
    click.echo(f"rejected {path}: {len(problems)} problem(s); nothing was imported", err=True)
    for problem in problems[:50]:
        click.echo(f"  {problem}", err=True)
    sys.exit(2)
