"""Browser sessions held on the server: the cookie carries a random session id, the `web_session` table only its
SHA-256, so that ending a session (sign-out; every session of an account when it is disabled or its password
changes) holds on the very next request, on every channel (REST, Dash callbacks, Socket.IO).

A session is live while it is not ended, its account is enabled, it was seen within the idle timeout and it
started within the absolute timeout. `last_seen_at` is written at most once per `SEEN_RESOLUTION`.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, String, delete, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.access.accounts import Account, hash_secret
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

SEEN_RESOLUTION = timedelta(seconds=60)  # at most one write per session and minute for "last seen"
KEPT_FOR = timedelta(days=90)  # an account's dead sessions older than this are deleted when it signs in again
ID_BYTES = 32  # 256 random bits in the cookie


class WebSession(Base):
    """One signed-in browser: started by a sign-in, ended by sign-out, disabling the account or a new password."""

    __tablename__ = "web_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 (hex) of the id in the cookie
    account_id: Mapped[str] = mapped_column(ForeignKey("account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(16))  # logout | disabled | password


@dataclass(frozen=True)
class Timeouts:
    """How long a session lives without activity (idle) and at most (absolute)."""

    idle: timedelta
    absolute: timedelta

    def alive(self, created_at: datetime, last_seen_at: datetime, ended_at: datetime | None, now: datetime) -> bool:
        """Whether a session with these times is still live at `now`."""
        return ended_at is None and now - last_seen_at <= self.idle and now - created_at <= self.absolute


def start(session: Session, account: Account, *, now: datetime) -> str:
    """A new session for `account`; returns the random id for the cookie (only its hash is stored)."""
    session.execute(
        delete(WebSession).where(WebSession.account_id == account.id, WebSession.last_seen_at < now - KEPT_FOR)
    )
    session_id = secrets.token_urlsafe(ID_BYTES)
    session.add(
        WebSession(
            id_hash=hash_secret(session_id), account_id=account.id, created_at=now, last_seen_at=now, ended_at=None
        )
    )
    return session_id


def resume(session: Session, session_id: str, *, timeouts: Timeouts, now: datetime) -> Account | None:
    """The enabled account behind a live session (marking it seen), or None when the session is unknown, ended,
    timed out or its account disabled."""
    row = session.get(WebSession, hash_secret(session_id))
    if row is None or not timeouts.alive(row.created_at, row.last_seen_at, row.ended_at, now):
        return None
    account = session.get(Account, row.account_id)
    if account is None or account.disabled:
        return None
    if now - row.last_seen_at >= SEEN_RESOLUTION:
        row.last_seen_at = now
    return account


def end(session: Session, session_id: str, *, reason: str, now: datetime) -> str | None:
    """End one session (sign-out); returns its account id, or None when it was unknown or already ended."""
    row = session.get(WebSession, hash_secret(session_id))
    if row is None or row.ended_at is not None:
        return None
    row.ended_at, row.end_reason = now, reason
    return row.account_id


def end_all(session: Session, account_id: str, *, reason: str, now: datetime) -> int:
    """End every session of an account that has not ended yet (disabled, new password); returns how many."""
    result = session.execute(
        update(WebSession)
        .where(WebSession.account_id == account_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def dead(session: Session, id_hashes: Iterable[str], *, timeouts: Timeouts, now: datetime) -> set[str]:
    """Of these session hashes, those that are no longer live (unknown, ended, timed out, account disabled)."""
    wanted = set(id_hashes)
    if not wanted:
        return set()
    rows = session.execute(
        select(WebSession.id_hash, WebSession.created_at, WebSession.last_seen_at, WebSession.ended_at)
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.id_hash.in_(wanted), Account.disabled.is_(False))
    ).all()
    live = {r.id_hash for r in rows if timeouts.alive(r.created_at, r.last_seen_at, r.ended_at, now)}
    return wanted - live
