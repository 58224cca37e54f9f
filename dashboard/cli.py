"""The `gridcommand` command: demo, serve, worker, import-grids, db upgrade, audit verify."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from dispatcher.access.audit import verify
from dispatcher.access.privacy import install_log_redaction
from dispatcher.access.roles import Role
from dispatcher.access.roster import (
    create_account,
    disable,
    ensure_demo_accounts,
    grant_token,
    load_demo_accounts,
    revoke_token,
)
from dispatcher.cases.incident import Incident
from dispatcher.errors import EngineError
from dispatcher.fleet.officers import Officer, load_roster
from dispatcher.settings import Settings, get_settings
from dispatcher.store import cipher
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import current_version, replace_grids
from dispatcher.store.migrate import upgrade
from geo.importer import GridImportError, load_grids

log = logging.getLogger("gridcommand")


@contextmanager
def _engine(settings: Settings) -> Iterator[Engine]:
    """The engine of DATABASE_URL with this process's PII key installed, disposed afterwards. Every command that
    touches the database goes through here (or `_database`)."""
    cipher.install_key(settings.pii_key.get_secret_value())
    engine = make_engine(settings.database_url)
    try:
        yield engine
    finally:
        engine.dispose()


@contextmanager
def _database(settings: Settings, *, write: bool = False) -> Iterator[Session]:
    """A session on DATABASE_URL; with `write`, a transaction committed on leaving."""
    with _engine(settings) as engine:
        sessions = make_sessions(engine)
        with sessions.begin() if write else sessions() as session:
            yield session


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at INFO level.")
def main(verbose: bool) -> None:
    """GridCommand: command and dispatch for urban grid management (网格化管理指挥调度)."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    install_log_redaction()  # no full mobile number reaches any log
    # Werkzeug logs every request at INFO on its own unless told otherwise (URLs may carry personal data).
    logging.getLogger("werkzeug").setLevel(logging.INFO if verbose else logging.WARNING)


@main.group()
def db() -> None:
    """Database schema commands."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration to DATABASE_URL (creates the PostGIS extension on PostgreSQL)."""
    _upgrade(get_settings())
    click.echo("database is up to date")


def _upgrade(settings: Settings) -> None:
    with _engine(settings) as engine:
        upgrade(engine)


@main.group("audit")
def audit_group() -> None:
    """Audit trail commands."""


@audit_group.command("verify")
def audit_verify() -> None:
    """Check the audit trail's hash chain: exit 0 if intact, 3 naming the first edited/deleted/reordered record."""
    with _database(get_settings()) as session:
        result = verify(session)
    if result.ok:
        click.echo(f"audit trail intact: {result.count} records")
        return
    click.echo(
        f"audit trail BROKEN at record {result.broken_id} ({result.kind}): {result.reason}; "
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
        click.echo(f"rejected {path}: {len(exc.problems)} problem(s)", err=True)
        for problem in exc.problems[:50]:
            click.echo(f"  {problem}", err=True)
        sys.exit(2)
    version = _store_grids(get_settings(), grids, source=str(path))
    click.echo(f"imported {len(grids)} grids from {path} as grid version {version}")


def _store_grids(settings: Settings, grids, *, source: str) -> int:
    with _database(settings, write=True) as session:
        return replace_grids(session, grids, source=source, actor="cli", now=datetime.now(UTC))


@main.group()
def accounts() -> None:
    """Accounts and API tokens (every change is written to the audit trail)."""


@accounts.command("create")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Display name, e.g. 值班长 张伟.")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--region", "region_code", help="Grid code at any level (the region scope).")
@click.option("--department", "department_code", help="Department code (the department scope).")
def accounts_create(
    username: str, display_name: str, role: str, region_code: str | None, department_code: str | None
) -> None:
    """Create an account; prints a generated password (and a TOTP secret for admin, auditor and leader)."""
    password = secrets.token_urlsafe(12)
    with _admin_session() as (session, now):
        account = create_account(
            session,
            username=username,
            display_name=display_name,
            role=Role(role),
            region_code=region_code,
            department_code=department_code,
            password=password,
            actor="cli",
            now=now,
        )
        secret = account.totp_secret
    click.echo(f"created {username} ({role}); password: {password}" + (f"; TOTP secret: {secret}" if secret else ""))


@accounts.command("disable")
@click.argument("username")
def accounts_disable(username: str) -> None:
    """Disable an account: its sessions end, its tokens are revoked, its sockets close."""
    with _admin_session() as (session, now):
        disable(session, username, actor="cli", now=now)
    click.echo(f"disabled {username}")


@accounts.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'tracker 12' or 'open311 partner'.")
@click.option("--kind", type=click.Choice(["device", "app", "open311", "service"]), default="app", show_default=True)
def accounts_token(username: str, name: str, kind: str) -> None:
    """Issue an API token bound to the account and its scope (shown once)."""
    with _admin_session() as (session, now):
        token = grant_token(session, username, name=name, kind=kind, actor="cli", now=now)
    click.echo(token)


@accounts.command("revoke-token")
@click.argument("token_id")
def accounts_revoke(token_id: str) -> None:
    """Revoke an API token by its id."""
    with _admin_session() as (session, now):
        revoke_token(session, token_id, actor="cli", now=now)
    click.echo(f"revoked {token_id}")


@contextmanager
def _admin_session():
    """A transaction on DATABASE_URL for an admin command; engine errors exit 2 with their message."""
    try:
        with _database(get_settings(), write=True) as session:
            yield session, datetime.now(UTC)
    except EngineError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)


@main.command()
@click.option("--burst", is_flag=True, help="Work off the queue, then exit.")
def worker(burst: bool) -> None:
    """Run an RQ worker: outbox relay to browsers, deadline sweeps (needs REDIS_URL)."""
    from workers.main import run

    run(get_settings(), burst=burst)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
def serve(host: str, port: int) -> None:
    """Run the web process (API + command center). Without REDIS_URL a bundled Redis and a worker start too."""
    with _services(get_settings()) as settings:
        _run_web(settings, host, port)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8050, show_default=True, type=int)
@click.option("--officers", default=300, show_default=True, help="Officers the simulator moves (0: none).")
@click.option("--rate", default=20.0, show_default=True, help="Simulated incidents per minute (0: none).")
def demo(host: str, port: int, officers: int, rate: float) -> None:
    """Start everything on the embedded default with the demo city: web, worker, bundled Redis, SQLite, simulator."""
    settings = get_settings()
    _upgrade(settings)
    _ensure_demo_grids(settings)
    _ensure_demo_officers(settings)
    _ensure_demo_backlog(settings)
    tokens = _demo_accounts(settings)
    settings = settings.model_copy(update={"demo_mode": True})
    with _services(settings) as running, _simulator(port, officers, rate, tokens):
        click.echo(f"GridCommand demo: http://{host}:{port}/  (API: http://{host}:{port}/api/v1/openapi.json)")
        _run_web(running, host, port)


SIMULATOR_ACCOUNTS = {"leader": ("sim-center", "shift_leader"), "dept": ("sim-departments", "dept_head")}


def _demo_accounts(settings: Settings) -> dict[str, str]:
    """Load the demo accounts (one per role), print them, and issue the simulator's tokens for this run."""
    now = datetime.now(UTC)
    rows = load_demo_accounts(settings.data_dir / "demo_city" / "accounts.yaml")
    service = [
        {
            "username": name,
            "display_name": name,
            "role": role,
            "region_code": "330199",
            "department_code": None,
            "password": secrets.token_urlsafe(24),
        }
        for name, role in SIMULATOR_ACCOUNTS.values()
    ]
    with _database(settings, write=True) as session:
        ensure_demo_accounts(session, rows + service, now=now)
        tokens = {
            who: grant_token(session, name, name="simulator", kind="service", actor="demo", now=now)
            for who, (name, _) in SIMULATOR_ACCOUNTS.items()
        }
    click.echo("demo accounts (sign in at /login; the demo login page also has one-click buttons):")
    for row in rows:
        factor = (
            "  + TOTP (code shown on the login page)"
            if Role(row["role"]) in {Role.ADMIN, Role.AUDITOR, Role.LEADER}
            else ""
        )
        click.echo(f"  {row['username']:<12} {row['password']:<18} {row['role']:<13} {row['display_name']}{factor}")
    return tokens


def _ensure_demo_backlog(settings: Settings) -> None:
    """On a first start, a morning's worth of incidents so the map is alive from the first second."""
    from workers.backlog import seed_backlog

    with _database(settings) as session:
        empty = not session.scalar(select(func.count()).select_from(Incident))
    if empty:
        count = seed_backlog(settings.database_url, settings.data_dir, now=datetime.now(UTC))
        click.echo(f"seeded a backlog of {count} incidents")


@contextmanager
def _simulator(port: int, officers: int, rate: float, tokens: dict[str, str]):
    """The living city: officers moving and incidents arriving, through real HTTP requests to this server."""
    import threading

    from workers.simulator import run_simulator

    stop = threading.Event()
    if officers or rate:
        threading.Thread(
            target=run_simulator,
            args=(f"http://127.0.0.1:{port}",),
            kwargs={"officers": officers, "incident_rate_per_min": rate, "stop": stop, "tokens": tokens},
            daemon=True,
            name="gridcommand-simulator",
        ).start()
    try:
        yield
    finally:
        stop.set()


def _ensure_demo_grids(settings: Settings) -> None:
    with _database(settings) as session:
        has_grids = current_version(session) is not None
    if not has_grids:
        grids = load_grids(settings.demo_grids_path)
        version = _store_grids(settings, grids, source=str(settings.demo_grids_path))
        click.echo(f"loaded the demo city: {len(grids)} grids (version {version})")


@main.command("import-officers")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_officers(path: Path) -> None:
    """Add or update officers (id, name, role, department_code, grid_community, device_id, on_duty) from YAML."""
    count = _store_officers(get_settings(), path, only_if_empty=False)
    click.echo(f"imported {count} officers from {path}")


def _ensure_demo_officers(settings: Settings) -> None:
    count = _store_officers(settings, settings.data_dir / "demo_city" / "officers.yaml", only_if_empty=True)
    if count:
        click.echo(f"loaded the demo roster: {count} officers")


def _store_officers(settings: Settings, path: Path, *, only_if_empty: bool) -> int:
    with _database(settings, write=True) as session:
        if only_if_empty and session.scalar(select(func.count()).select_from(Officer)):
            return 0
        roster = load_roster(path)
        for officer in roster:
            session.merge(officer)
    return len(roster)


@contextmanager
def _services(settings: Settings):
    """Redis (bundled if REDIS_URL is unset) and, with a bundled Redis, a worker process; all stopped on exit."""
    bundled = None
    worker_proc = None
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` unwinds like Ctrl-C: children and Redis stop too
    if not settings.redis_url:
        from workers.redis_server import start_bundled

        bundled = start_bundled(settings.var_dir / "redis")
        settings = settings.model_copy(update={"redis_url": bundled.url})
        env = {**os.environ, "REDIS_URL": bundled.url, "DATABASE_URL": settings.database_url}
        worker_proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "worker"], env=env)
    try:
        yield settings
    finally:
        if worker_proc is not None:
            worker_proc.terminate()
            try:
                worker_proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker_proc.kill()
        if bundled is not None:
            bundled.stop()


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _run_web(settings: Settings, host: str, port: int) -> None:
    from dashboard.app import create_app
    from dashboard.realtime import socketio

    app = create_app(settings)
    socketio.run(app.server, host=host, port=port, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)


if __name__ == "__main__":
    main()
