"""Authentication: browser sessions (password + TOTP for privileged roles) and bearer API tokens.

Every request resolves to at most one `Principal` (`current_principal()`); scope and permission
checks live in dispatcher/cases/scope.py. Sessions are signed cookies carrying the account id, the
account's session epoch (bumped to end all its sessions, e.g. when disabled), the login time
(absolute timeout) and the last activity (idle timeout).
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from flask import Flask, g, request, session
from sqlalchemy import select

from dashboard.runtime import current_runtime, runtime_of
from dispatcher.access import audit
from dispatcher.access.accounts import Account, Principal, account_for_token
from dispatcher.access.passwords import check_password, check_totp
from dispatcher.access.roles import Role
from dispatcher.errors import EngineError

log = logging.getLogger(__name__)
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.LEADER})
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


class Unauthenticated(EngineError):
    """No valid session or token (401)."""

    status, code = 401, "unauthenticated"


class LoginFailed(EngineError):
    """Wrong credentials, locked or disabled account: one message for all, so nothing leaks (401)."""

    status, code = 401, "login_failed"


def current_principal() -> Principal | None:
    """The caller of this request (token first, then session), cached on `g`."""
    if "principal" not in g:
        g.principal = _from_token() or _from_session()
    return g.principal


def require_principal() -> Principal:
    """The caller, or 401."""
    principal = current_principal()
    if principal is None:
        raise Unauthenticated("sign in, or send 'Authorization: Bearer <token>'")
    return principal


def _from_token() -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    with current_runtime().sessions() as db:
        account = account_for_token(db, header[7:].strip())
        return Principal.of(account) if account else None


def _from_session() -> Principal | None:
    account_id = session.get("account_id")
    if not account_id:
        return None
    rt = current_runtime()
    now = rt.clock()
    settings = rt.settings
    login_at = datetime.fromisoformat(session.get("login_at", "1970-01-01T00:00:00+00:00"))
    seen_at = datetime.fromisoformat(session.get("seen_at", "1970-01-01T00:00:00+00:00"))
    if now - login_at > timedelta(minutes=settings.session_absolute_minutes) or now - seen_at > timedelta(
        minutes=settings.session_idle_minutes
    ):
        session.clear()
        return None
    with rt.sessions() as db:
        account = db.get(Account, account_id)
        if account is None or account.disabled or account.session_epoch != session.get("epoch"):
            session.clear()
            return None
        session["seen_at"] = now.isoformat()
        return Principal.of(account)


def login(username: str, password: str, totp: str | None, *, now: datetime) -> Principal:
    """Check credentials (and the second factor where the role needs one), then start a fresh session.

    Every attempt is audited; failures are counted in their own committed transaction so that the
    lockout holds even though the request fails.
    """
    rt = current_runtime()
    with rt.sessions.begin() as db:
        account = db.scalar(select(Account).where(Account.username == username))
        refusal = _refusal(account, password, totp, now)
        if account is not None and refusal is not None:
            account.failed_logins += 1
            if account.failed_logins >= MAX_FAILED_LOGINS:
                account.locked_until, account.failed_logins = now + LOCKOUT, 0
        elif account is not None:
            account.failed_logins, account.locked_until = 0, None
        audit.append(
            db,
            actor=username[:64],
            role=account.role if account else None,
            ip=request.remote_addr,
            action="login" if refusal is None else "login_failed",
            target=f"account:{username[:64]}",
            result="ok" if refusal is None else "failed",
            detail={"reason": refusal} if refusal else None,
            now=now,
        )
        if refusal is None:
            principal, epoch = Principal.of(account), account.session_epoch
    if refusal is not None:
        raise LoginFailed("wrong username or password, or the account is locked")
    session.clear()  # a new session: nothing from before the login survives
    session.update(
        account_id=principal.account_id,
        epoch=epoch,
        login_at=now.isoformat(),
        seen_at=now.isoformat(),
        csrf=secrets.token_urlsafe(24),
    )
    session.permanent = True
    g.principal = principal
    return principal


def _refusal(account: Account | None, password: str, totp: str | None, now: datetime) -> str | None:
    """Why a sign-in fails (for the audit trail only; the caller sees one message), or None."""
    if account is None:
        check_password(_DUMMY_HASH, password)  # the same work whether or not the user exists
        return "unknown user"
    if account.disabled:
        return "disabled"
    if account.locked_until and account.locked_until > now:
        return "locked"
    if not check_password(account.password_hash, password):
        return "wrong password"
    if Role(account.role) in SECOND_FACTOR_ROLES and not (
        totp and account.totp_secret and check_totp(account.totp_secret, totp, at=now)
    ):
        return "second factor missing or wrong"
    return None


def logout() -> None:
    session.clear()
    g.principal = None


def init_auth(app: Flask) -> None:
    """Cookie settings for sessions."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=runtime_of(app).settings.session_absolute_minutes),
    )


_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$0jG2mLQ2tW8m3vQkXlSgd2sQ1v1bEo3b0m5cA6X9m1Y"
