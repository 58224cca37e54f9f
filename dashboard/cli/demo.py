"""The demo city's first start: grids, officers, accounts, a morning's backlog, trackers, and the simulator."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from datetime import UTC, datetime

import click
from sqlalchemy import func, select

from dashboard.cli.base import open_database
from dashboard.cli.data import store_grids, store_officers
from dispatcher.access.roles import Role
from dispatcher.access.roster import ensure_demo_accounts, grant_token, load_demo_accounts
from dispatcher.cases.incident import Incident
from dispatcher.city.reading import load_catalogue
from dispatcher.fleet.devices import devices_of, issue, revoke
from dispatcher.fleet.officers import Officer
from dispatcher.settings import Settings
from dispatcher.store.gridstore import current_version
from geo.importer import load_grids

SIMULATOR_ACCOUNTS = {"leader": ("sim-center", "shift_leader"), "dept": ("sim-departments", "dept_head")}
SIMULATOR_TRACKER = "demo simulator"  # the label of the trackers the demo enrols for its simulated officers


def demo_accounts(settings: Settings) -> dict[str, str]:
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
    departments = list(load_catalogue(settings.data_dir).departments)
    heads = [  # one head per department: a department acts only on the cases dispatched to it
        {
            "username": f"sim-dept-{code}",
            "display_name": f"sim-dept-{code}",
            "role": "dept_head",
            "region_code": None,
            "department_code": code,
            "password": secrets.token_urlsafe(24),
        }
        for code in departments
    ]
    with open_database(settings, write=True) as session:
        ensure_demo_accounts(session, rows + service + heads, now=now)
        tokens = {
            who: grant_token(session, name, name="simulator", kind="service", actor="demo", now=now)
            for who, (name, _) in SIMULATOR_ACCOUNTS.items()
        }
        for code in departments:
            tokens[f"dept:{code}"] = grant_token(
                session, f"sim-dept-{code}", name="simulator", kind="service", actor="demo", now=now
            )
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
        count = seed_backlog(settings.database_url, settings.data_dir, now=datetime.now(UTC))
        click.echo(f"seeded a backlog of {count} incidents")


def demo_trackers(settings: Settings) -> dict[str, str]:
    """A fresh tracker for every officer, for the simulator (officer id -> identifier, handed over in-process and
    never printed or stored); the previous run's simulator trackers are revoked first. Every change is audited."""
    now = datetime.now(UTC)
    with open_database(settings, write=True) as session:
        for device in devices_of(session):
            if device.revoked_at is None and device.label == SIMULATOR_TRACKER:
                revoke(session, device.id, actor="demo", now=now)
        officers = list(session.scalars(select(Officer.id).order_by(Officer.id)))
        trackers = {o: issue(session, o, label=SIMULATOR_TRACKER, actor="demo", now=now).identifier for o in officers}
    click.echo(f"enrolled {len(trackers)} trackers for the simulated officers")
    return trackers


@contextmanager
def simulator(port: int, officers: int, rate: float, tokens: dict[str, str], devices: dict[str, str]):
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


def ensure_demo_officers(settings: Settings) -> None:
    count = store_officers(settings, settings.data_dir / "demo_city" / "officers.yaml", only_if_empty=True)
    if count:
        click.echo(f"loaded the demo roster: {count} officers")
