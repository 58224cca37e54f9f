"""Trackers from the command line: enrol a device for an officer, list devices, revoke one, bind a token to one.

Every change is written to the audit trail. The identifier `add` prints is the tracker's credential: it is
shown once and only its hash is stored.
"""

from __future__ import annotations

import click

from dashboard.cli.base import admin_session, main
from dispatcher.fleet.devices import Device, devices_of, grant_device_token, issue, revoke, tracker_setup

DEFAULT_BASE = "http://127.0.0.1:8050"


def setup_lines(base: str, identifier: str) -> list[str]:
    """The setup as `devices add` prints it (once)."""
    setup = tracker_setup(base, identifier)
    return [
        f"device identifier (shown once, keep it secret): {identifier}",
        "Traccar Client:",
        f"  server URL:         {setup['server_url']}",
        f"  device identifier:  {identifier}",
        "OsmAnd (Trip recording > Online tracking > web address):",
        f"  {setup['osmand_url']}",
    ]


def describe(device: Device) -> str:
    """One line about a device, never its identifier."""
    state = f"revoked {device.revoked_at:%Y-%m-%d %H:%M}" if device.revoked_at else "live"
    seen = f"{device.last_seen_at:%Y-%m-%d %H:%M:%S}" if device.last_seen_at else "never"
    created = f"{device.created_at:%Y-%m-%d %H:%M}"
    return (
        f"{device.id:<14} {device.officer_id:<12} {state:<24} created {created}  last seen {seen}  {device.label or ''}"
    )


@main.group()
def devices() -> None:
    """Officers' trackers (Traccar Client, OsmAnd): each one's random identifier is its credential."""


@devices.command("add")
@click.argument("officer")
@click.option("--label", help="What the tracker is, e.g. '工作手机 vivo Y78'.")
@click.option(
    "--url", "base", default=DEFAULT_BASE, show_default=True, help="The server's URL as the phone reaches it."
)
def devices_add(officer: str, label: str | None, base: str) -> None:
    """Enrol a tracker for OFFICER and print its identifier (once) with what to paste into the tracker app."""
    with admin_session() as (session, now):
        issued = issue(session, officer, label=label, actor="cli", now=now)
        device_id = issued.device.id
    click.echo(f"enrolled device {device_id} for officer {officer}")
    for line in setup_lines(base, issued.identifier):
        click.echo(line)


@devices.command("list")
@click.argument("officer", required=False)
def devices_list(officer: str | None) -> None:
    """List devices (of OFFICER, or everyone's): public id, officer, state, last fix. Never an identifier."""
    with admin_session() as (session, _):
        rows = [describe(d) for d in devices_of(session, officer)]
    for row in rows:
        click.echo(row)
    if not rows:
        click.echo("no devices" + (f" for officer {officer}" if officer else ""))


@devices.command("revoke")
@click.argument("device_id")
def devices_revoke(device_id: str) -> None:
    """Revoke a device by its public id: its identifier and the tokens bound to it stop working within seconds."""
    with admin_session() as (session, now):
        revoke(session, device_id, actor="cli", now=now)
    click.echo(f"revoked {device_id}")


@devices.command("token")
@click.argument("device_id")
@click.option("--account", "username", required=True, help="The account the token acts as (e.g. the app's).")
@click.option("--kind", type=click.Choice(["device", "service"]), default="device", show_default=True)
def devices_token(device_id: str, username: str, kind: str) -> None:
    """An API token bound to DEVICE_ID, for POST /api/v1/positions (shown once); it posts for that device only."""
    with admin_session() as (session, now):
        token = grant_device_token(session, device_id, username, kind=kind, actor="cli", now=now)
    click.echo(token)
