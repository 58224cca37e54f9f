"""Accounts and API tokens from the command line; every change is audited."""

from __future__ import annotations

import secrets

import click

from dashboard.cli.base import admin_session, main
from dispatcher.access.roles import Role
from dispatcher.access.roster import create_account, disable, find, grant_token, revoke_token, set_password
from dispatcher.fleet.officers import link_account


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
    with admin_session() as (session, now):
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


@accounts.command("link")
@click.argument("username")
@click.argument("officer_id", required=False)
def accounts_link(username: str, officer_id: str | None) -> None:
    """Make the account an officer's own on the field app (same role and department); no OFFICER_ID unlinks it."""
    with admin_session() as (session, now):
        link_account(session, find(session, username), officer_id, actor="cli", now=now)
    click.echo(f"{username} is now officer {officer_id}" if officer_id else f"{username} is linked to no officer")


@accounts.command("password")
@click.argument("username")
def accounts_password(username: str) -> None:
    """Give an account a new generated password (printed once); every session it had ends."""
    password = secrets.token_urlsafe(12)
    with admin_session() as (session, now):
        set_password(session, username, password, actor="cli", now=now)
    click.echo(f"new password of {username}: {password} (its sessions have ended)")


@accounts.command("disable")
@click.argument("username")
def accounts_disable(username: str) -> None:
    """Disable an account: its sessions end, its tokens are revoked, its sockets close."""
    with admin_session() as (session, now):
        disable(session, username, actor="cli", now=now)
    click.echo(f"disabled {username}")


@accounts.command("token")
@click.argument("username")
@click.option("--name", required=True, help="What the token is for, e.g. 'tracker 12' or 'open311 partner'.")
@click.option("--kind", type=click.Choice(["app", "open311", "service"]), default="app", show_default=True)
def accounts_token(username: str, name: str, kind: str) -> None:
    """Issue an API token bound to the account and its scope (shown once); tracker tokens: `devices token`."""
    with admin_session() as (session, now):
        token = grant_token(session, username, name=name, kind=kind, actor="cli", now=now)
    click.echo(token)


@accounts.command("revoke-token")
@click.argument("token_id")
def accounts_revoke(token_id: str) -> None:
    """Revoke an API token by its id."""
    with admin_session() as (session, now):
        revoke_token(session, token_id, actor="cli", now=now)
    click.echo(f"revoked {token_id}")
