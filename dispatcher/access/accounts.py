"""Accounts and API tokens: who someone is, their role, and the region and/or department they work in."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.access.roles import REPORTERS, Role
from dispatcher.errors import Forbidden
from dispatcher.store.base import Base
from dispatcher.store.columns import EncryptedText, UTCDateTime


class Account(Base):
    """A person who signs in (or a device/app that holds a token on their behalf)."""

    __tablename__ = "account"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    region_code: Mapped[str | None] = mapped_column(String(32))  # a grid at any level; None = no region scope
    department_code: Mapped[str | None] = mapped_column(String(32))
    password_hash: Mapped[str] = mapped_column(String(255))
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText)  # encrypted at rest like callers' data
    totp_last_step: Mapped[int | None] = mapped_column(Integer)  # the last accepted code's time step: each once
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the officer (dispatcher.fleet.officers) this person is in the field: their phone shares that officer's
    # position and their patrols are that officer's; no FK, access does not know the fleet's tables
    officer_id: Mapped[str | None] = mapped_column(String(32), unique=True)


class ApiToken(Base):
    """A revocable bearer token bound to an account (and so to its role and scope); only its hash is stored."""

    __tablename__ = "api_token"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # device | app | open311 | service
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the one tracker (dispatcher.fleet.devices) a device/service token may post positions for; no FK: access
    # does not know the fleet's tables
    device_id: Mapped[str | None] = mapped_column(String(16), index=True)


@dataclass(frozen=True)
class Principal:
    """The authenticated caller of one request: what every scope and permission check is about."""

    account_id: str
    username: str
    role: Role
    region_code: str | None
    department_code: str | None

    @classmethod
    def of(cls, account: Account) -> Principal:
        return cls(account.id, account.username, Role(account.role), account.region_code, account.department_code)


def hash_secret(secret: str) -> str:
    """The stored form of a bearer secret (API token, session id, tracker identifier): SHA-256, hex. The secret
    itself is never stored, only this."""
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_token(
    session: Session, account: Account, *, name: str, kind: str, now: datetime, device_id: str | None = None
) -> str:
    """Create a token for `account` (bound to one tracker with `device_id`); the plain value is returned once
    and never stored."""
    token = "gc_" + secrets.token_urlsafe(32)
    session.add(
        ApiToken(
            id=secrets.token_hex(8),
            account_id=account.id,
            name=name,
            kind=kind,
            token_hash=hash_secret(token),
            created_at=now,
            device_id=device_id,
        )
    )
    return token


def live_token(session: Session, token: str) -> ApiToken | None:
    """The live (unrevoked) token row of an enabled account, or None."""
    return session.execute(
        select(ApiToken)
        .join(Account, ApiToken.account_id == Account.id)
        .where(ApiToken.token_hash == hash_secret(token), ApiToken.revoked_at.is_(None), Account.disabled.is_(False))
    ).scalar_one_or_none()


def account_for_token(session: Session, token: str) -> Account | None:
    """The enabled account behind a live (unrevoked) token, or None."""
    row = session.execute(
        select(Account)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(ApiToken.token_hash == hash_secret(token), ApiToken.revoked_at.is_(None), Account.disabled.is_(False))
    ).scalar_one_or_none()
    return row


def check_report(principal: Principal) -> None:
    """Forbidden unless the role takes reports."""
    if principal.role not in REPORTERS:
        raise Forbidden(f"role '{principal.role}' does not take reports (user {principal.username})")
