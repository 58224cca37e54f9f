"""Data administration: schema migrations, grid and officer imports, the audit trail check."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import func, select

from dashboard.cli.base import main, open_database, open_engine, reject
from dispatcher.access.audit import seal
from dispatcher.access.audit_verify import verify
from dispatcher.fleet.officers import Officer, load_roster
from dispatcher.settings import Settings, get_settings
from dispatcher.store.db import make_sessions
from dispatcher.store.gridstore import replace_grids
from dispatcher.store.migrate import upgrade
from geo.importer import GridImportError, load_grids


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to DATABASE_URL (creates the PostGIS extension on PostgreSQL)."""
    upgrade_schema(get_settings())
    click.echo("database is up to date")


def upgrade_schema(settings: Settings) -> None:
    """Apply the migrations, then seal audit records written before the audit key (a keyed record after them)."""
    with open_engine(settings) as engine:
        upgrade(engine)
        with make_sessions(engine).begin() as session:
            seal(session, now=datetime.now(UTC))


@main.group("audit")
def audit_group() -> None:
    """Audit trail commands."""


@audit_group.command("verify")
@click.option(
    "--checkpoints",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Signed checkpoint file (GRIDCOMMAND_AUDIT_CHECKPOINT_FILE, or a copy collected elsewhere): also detect "
    "deleted newest records with a rolled-back head, and a re-chained trail.",
)
def audit_verify(checkpoints: Path | None) -> None:
    """Check the audit trail's keyed chain (and checkpoints): exit 0 if intact, 3 naming the first broken record."""
    with open_database(get_settings()) as session:
        result = verify(session, checkpoints=checkpoints)
    if result.ok:
        legacy = f", {result.legacy} of them from before the audit key (sealed)" if result.legacy else ""
        if checkpoints is None:
            click.echo(f"audit trail intact: {result.count} records{legacy}")
            click.echo("  (without --checkpoints the newest records could have been deleted with the head)", err=True)
        else:
            click.echo(f"audit trail intact: {result.count} records{legacy}; {result.checkpoints} checkpoints match")
        return
    where = f"checkpoint line {result.checkpoint_line}" if result.checkpoint_line else None
    at = f"record {result.broken_id}" if result.broken_id is not None else None
    click.echo(
        f"audit trail BROKEN at {' / '.join(filter(None, (at, where)))} ({result.kind}): {result.reason}; "
        f"{result.count} records before it are intact",
        err=True,
    )
    sys.exit(3)


@main.command("import-grids")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_grids(path: Path) -> None:
    """Validate a grid GeoJSON file and make it the city's grids (a new grid version)."""
    try:
        grids = load_grids(path)
    except GridImportError as exc:
        reject(path, exc.problems)
    version = store_grids(get_settings(), grids, source=str(path))
    click.echo(f"imported {len(grids)} grids from {path} as grid version {version}")


def store_grids(settings: Settings, grids, *, source: str) -> int:
    with open_database(settings, write=True) as session:
        return replace_grids(session, grids, source=source, actor="cli", now=datetime.now(UTC))


@main.command("import-officers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_officers(path: Path) -> None:
    """Add or update officers (id, name, role, department_code, grid_community, device_id, on_duty) from YAML."""
    count = store_officers(get_settings(), path, only_if_empty=False)
    click.echo(f"imported {count} officers from {path}")


def store_officers(settings: Settings, path: Path, *, only_if_empty: bool) -> int:
    with open_database(settings, write=True) as session:
        if only_if_empty and session.scalar(select(func.count()).select_from(Officer)):
            return 0
        roster = load_roster(path)
        for officer in roster:
            session.merge(officer)
    return len(roster)
