"""The demo city's first start: grids, officers, accounts, a morning's backlog, trackers, and the simulator."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.cli.addresses import ensure_addresses
from dashboard.cli.base import open_database
from dashboard.cli.data import store_grids, store_officers
from dispatcher.access import audit
from dispatcher.access.accounts import Account, ApiToken
from dispatcher.access.roles import Role
from dispatcher.access.roster import ensure_demo_accounts, grant_token, load_demo_accounts, revoke_token
from dispatcher.cases.incident import Incident
from dispatcher.city.reading import load_catalogue
from dispatcher.fleet.devices import devices_of, issue, revoke
from dispatcher.fleet.officers import Officer
from dispatcher.settings import Settings
from dispatcher.store.gridstore import GridRow, current_version
from geo.importer import load_grids

SIMULATOR_ACCOUNTS = {
    "leader": ("sim-center", "shift_leader"),
    "dept": ("sim-departments", "dept_head"),
    "hotline": ("sim-hotline", "hotline"),
}
SIMULATOR_TRACKER = "demo simulator"  # the label of the trackers the demo enrols for its simulated officers
DISTRICT = "330199"
T = TypeVar("T")


def simulator_accounts(settings: Settings) -> dict[str, dict]:
    """The simulator's service accounts by token key: the shift leader, the hotline, one head per department
    ("dept:<code>"), and per community of the current grids a grid worker ("grid:<code>", who verifies the
    community's cases) and a community workstation ("station:<code>", department SQ, which closes them)."""
    from workers.simulator.actors import DEPT_PREFIX, GRID_PREFIX, STATION_PREFIX

    def row(username: str, name: str, role: str, region: str | None, department: str | None) -> dict:
        return {
            "username": username,
            "display_name": name,
            "role": role,
            "region_code": region,
            "department_code": department,
        }

    rows = {who: row(name, name, role, DISTRICT, None) for who, (name, role) in SIMULATOR_ACCOUNTS.items()}
    for code in load_catalogue(settings.data_dir).departments:  # a department acts only on the cases sent to it
        rows[f"dept:{code}"] = row(DEPT_PREFIX + code, DEPT_PREFIX + code, "dept_head", None, code)
    with open_database(settings) as session:
        communities = session.execute(
            select(GridRow.code, GridRow.name).where(GridRow.level == "community").order_by(GridRow.code)
        ).all()
    for code, name in communities:
        rows[f"grid:{code}"] = row(GRID_PREFIX + code, f"模拟网格员 {name}", "grid_worker", code, None)
        rows[f"station:{code}"] = row(STATION_PREFIX + code, f"模拟社区工作站 {name}", "dept_handler", code, "SQ")
    return rows


TOKEN_ONLY = "!token-only"  # the password hash of a service account: no password matches it (check_password)


def ensure_simulator_accounts(settings: Settings) -> dict[str, str]:
    """Create the simulator's accounts that do not exist yet; token key → username.

    They are service accounts that act only with the tokens issued below: no password signs them in (their hash
    is no Argon2 hash, so every password check fails), which also spares an Argon2 hash per account. Each creation
    is audited like `create_account`'s."""
    rows = simulator_accounts(settings)
    now = datetime.now(UTC)
    with open_database(settings, write=True) as session:
        existing = set(session.scalars(select(Account.username)))
        for row in rows.values():
            if row["username"] in existing:
                continue
            session.add(
                Account(
                    id="u-" + secrets.token_hex(6),
                    username=row["username"],
                    display_name=row["display_name"],
                    role=row["role"],
                    region_code=row["region_code"],
                    department_code=row["department_code"],
                    password_hash=TOKEN_ONLY,
                    totp_secret=None,
                    disabled=False,
                    created_at=now,
                )
            )
            audit.append(
                session,
                actor="demo",
                action="account.create",
                target=f"account:{row['username']}",
                result="ok",
                detail={
                    "role": row["role"],
                    "region_code": row["region_code"],
                    "department_code": row["department_code"],
                    "token_only": True,
                },
                now=now,
            )
    return {who: r["username"] for who, r in rows.items()}


def simulator_tokens(settings: Settings) -> dict[str, str]:
    """Fresh service tokens for every simulator account (token key → token); the previous run's are revoked."""
    now = datetime.now(UTC)
    usernames = ensure_simulator_accounts(settings)
    with open_database(settings) as session:
        accounts = {a.username: a.id for a in session.scalars(select(Account).where(Account.username.like("sim-%")))}
        stale = session.scalars(
            select(ApiToken.id).where(
                ApiToken.account_id.in_(list(accounts.values())),
                ApiToken.name == "simulator",
                ApiToken.revoked_at.is_(None),
            )
        ).all()
    tokens: dict[str, str] = {}
    for session, token_id in in_batches(settings, stale):
        revoke_token(session, token_id, actor="demo", now=now)
    for session, (who, name) in in_batches(settings, list(usernames.items())):
        tokens[who] = grant_token(session, name, name="simulator", kind="service", actor="demo", now=now)
    return tokens


def in_batches(settings: Settings, items: Sequence[T], size: int = 40) -> Iterator[tuple[Session, T]]:
    """Each item with a write session, committed every `size` items: the web process, already starting, shares
    SQLite's one write lock and waits for it at most its busy timeout."""
    for start in range(0, len(items), size):
        with open_database(settings, write=True) as session:
            for item in items[start : start + size]:
                yield session, item


def demo_accounts(settings: Settings) -> dict[str, str]:
    """Load the demo accounts (one per role), print them, and issue the simulator's tokens for this run."""
    now = datetime.now(UTC)
    rows = load_demo_accounts(settings.data_dir / "demo_city" / "accounts.yaml")
    with open_database(settings, write=True) as session:
        ensure_demo_accounts(session, rows, now=now)
    tokens = simulator_tokens(settings)
    click.echo("demo accounts (sign in at /login; the demo login page also has one-click buttons):")
    for row in rows:
        factor = (
            "  + TOTP (code shown on the login page)"
            if Role(row["role"]) in {Role.ADMIN, Role.AUDITOR, Role.LEADER}
            else ""
        )
        click.echo(f"  {row['username']:<12} {row['password']:<18} {row['role']:<13} {row['display_name']}{factor}")
    return tokens


def ensure_demo_backlog(settings: Settings) -> None:
    """On a first start, a morning's worth of incidents so the map is alive from the first second."""
    from workers.backlog import seed_backlog

    with open_database(settings) as session:
        empty = not session.scalar(select(func.count()).select_from(Incident))
    if empty:
        ensure_simulator_accounts(settings)  # the backlog's verifiers are the simulator's grid workers
        count = seed_backlog(
            settings.database_url, settings.data_dir, now=datetime.now(UTC), media_dir=settings.media_dir
        )
        click.echo(f"seeded a backlog of {count} incidents in every stage of the loop")


def demo_trackers(settings: Settings) -> dict[str, str]:
    """A fresh tracker for every officer, for the simulator (officer id -> identifier, handed over in-process and
    never printed or stored); the previous run's simulator trackers are revoked first. Every change is audited."""
    now = datetime.now(UTC)
    with open_database(settings) as session:
        stale = [d.id for d in devices_of(session) if d.revoked_at is None and d.label == SIMULATOR_TRACKER]
        officers = list(session.scalars(select(Officer.id).order_by(Officer.id)))
    for session, device_id in in_batches(settings, stale):
        revoke(session, device_id, actor="demo", now=now)
    trackers = {
        officer: issue(session, officer, label=SIMULATOR_TRACKER, actor="demo", now=now).identifier
        for session, officer in in_batches(settings, officers)
    }
    click.echo(f"enrolled {len(trackers)} trackers for the simulated officers")
    return trackers


@contextmanager
def simulator(port: int, officers: int, rate: float, tokens: dict[str, str], devices: dict[str, str]) -> Iterator[None]:
    """The living city: officers moving and incidents arriving, through real HTTP requests to this server."""
    import threading

    from workers.simulator import run_simulator

    stop = threading.Event()
    if officers or rate:
        threading.Thread(
            target=run_simulator,
            args=(f"http://127.0.0.1:{port}",),
            kwargs={
                "officers": officers,
                "incident_rate_per_min": rate,
                "stop": stop,
                "tokens": tokens,
                "devices": devices,
            },
            daemon=True,
            name="gridcommand-simulator",
        ).start()
    try:
        yield
    finally:
        stop.set()


def ensure_demo_grids(settings: Settings) -> None:
    with open_database(settings) as session:
        has_grids = current_version(session) is not None
    if not has_grids:
        grids = load_grids(settings.demo_grids_path)
        version = store_grids(settings, grids, source=str(settings.demo_grids_path))
        click.echo(f"loaded the demo city: {len(grids)} grids (version {version})")
    addresses = ensure_addresses(settings, settings.data_dir / "demo_city" / "addresses.geojson")
    if addresses is not None:
        click.echo(f"loaded the demo city's addresses (address version {addresses})")


def ensure_demo_officers(settings: Settings) -> None:
    count = store_officers(settings, settings.data_dir / "demo_city" / "officers.yaml", only_if_empty=True)
    if count:
        click.echo(f"loaded the demo roster: {count} officers")
