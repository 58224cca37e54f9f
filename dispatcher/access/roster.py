"""Managing accounts: create, disable and set a new password (both end every session), issue and revoke tokens;
each change is audited."""

from __future__ import annotations

import secrets
from datetime import datetime
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.access import audit, sessions
from dispatcher.access.accounts import Account, ApiToken, issue_token
from dispatcher.access.passwords import hash_password, new_totp_secret
from dispatcher.access.roles import Role
from dispatcher.errors import Invalid, NotFound

SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.LEADER})
MIN_PASSWORD = 12


def create_account(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: Role,
    region_code: str | None,
    department_code: str | None,
    password: str,
    totp_secret: str | None = None,
    actor: str,
    now: datetime,
) -> Account:
    """A new account; privileged roles get a TOTP secret (generated unless given)."""
    if session.scalar(select(Account).where(Account.username == username)):
        raise Invalid(f"username {username!r} is taken", field="username")
    if region_code is None and department_code is None and role not in {Role.ADMIN, Role.AUDITOR}:
        raise Invalid(f"account {username!r} needs a region or a department scope", field="region_code")
    if role in SECOND_FACTOR_ROLES:
        totp_secret = totp_secret or new_totp_secret()
    account = Account(
        id="u-" + secrets.token_hex(6),
        username=username,
        display_name=display_name,
        role=str(role),
        region_code=region_code,
        department_code=department_code,
        password_hash=hash_password(password),
        totp_secret=totp_secret,
        disabled=False,
        created_at=now,
    )
    session.add(account)
    audit.append(
        session,
        actor=actor,
        action="account.create",
        target=f"account:{username}",
        result="ok",
        detail={"role": str(role), "region_code": region_code, "department_code": department_code},
        now=now,
    )
    return account


def find(session: Session, username: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == username))
    if account is None:
        raise NotFound(f"account {username!r} does not exist", field="username")
    return account


def disable(session: Session, username: str, *, actor: str, now: datetime) -> Account:
    """Disable an account and end all its sessions (its open sockets close within seconds)."""
    account = find(session, username)
    account.disabled = True
    ended = sessions.end_all(session, account.id, reason="disabled", now=now)
    for token in session.scalars(
        select(ApiToken).where(ApiToken.account_id == account.id, ApiToken.revoked_at.is_(None))
    ):
        token.revoked_at = now
    audit.append(
        session,
        actor=actor,
        action="account.disable",
        target=f"account:{username}",
        result="ok",
        detail={"sessions_ended": ended},
        now=now,
    )
    return account


def set_password(session: Session, username: str, password: str, *, actor: str, now: datetime) -> Account:
    """Give an account a new password and end all its sessions (they were opened with the old one)."""
    if len(password) < MIN_PASSWORD:
        raise Invalid(f"the new password of {username!r} needs at least {MIN_PASSWORD} characters", field="password")
    account = find(session, username)
    account.password_hash = hash_password(password)
    ended = sessions.end_all(session, account.id, reason="password", now=now)
    audit.append(
        session,
        actor=actor,
        action="account.password",
        target=f"account:{username}",
        result="ok",
        detail={"sessions_ended": ended},
        now=now,
    )
    return account


def grant_token(
    session: Session,
    username: str,
    *,
    name: str,
    kind: str,
    actor: str,
    now: datetime,
    device_id: str | None = None,
) -> str:
    """A new API token for an account (shown once); with `device_id`, bound to that one tracker."""
    account = find(session, username)
    token = issue_token(session, account, name=name, kind=kind, now=now, device_id=device_id)
    audit.append(
        session,
        actor=actor,
        action="token.issue",
        target=f"account:{username}",
        result="ok",
        detail={"name": name, "kind": kind, **({"device_id": device_id} if device_id else {})},
        now=now,
    )
    return token


def revoke_token(session: Session, token_id: str, *, actor: str, now: datetime) -> None:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(f"token {token_id!r} does not exist", field="token_id")
    token.revoked_at = now
    audit.append(session, actor=actor, action="token.revoke", target=f"token:{token_id}", result="ok", now=now)


def load_demo_accounts(path: Path) -> list[dict]:
    """The demo accounts file: one account per role with its (demo-only) password and TOTP secret."""
    return yaml.safe_load(path.read_text(encoding="utf-8")) or []


def ensure_demo_accounts(session: Session, rows: list[dict], *, now: datetime) -> int:
    """Create the demo accounts that do not exist yet (and link existing ones to their officer if they are not
    yet); returns how many were created."""
    created = 0
    for row in rows:
        existing = session.scalar(select(Account).where(Account.username == row["username"]))
        if existing is not None:
            existing.officer_id = existing.officer_id or row.get("officer_id")
            continue
        account = create_account(
            session,
            username=row["username"],
            display_name=row["display_name"],
            role=Role(row["role"]),
            region_code=row.get("region_code"),
            department_code=row.get("department_code"),
            password=row["password"],
            totp_secret=row.get("totp_secret"),
            actor="demo",
            now=now,
        )
        account.officer_id = row.get("officer_id")
        created += 1
    return created
