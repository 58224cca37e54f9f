"""Authentication: browser sessions (password + TOTP for privileged roles) and bearer API tokens.

Every request resolves to at most one `Principal` (`current_principal()`); scope and permission checks live in
dispatcher/cases/scope.py.

- A request that sends `Authorization: Bearer ...` is judged by that token alone (a junk token next to a session
  cookie signs nobody in). A token works only where its kind belongs (`TOKEN_PLACES`): a device token only posts
  positions, an Open311 key only speaks Open311; app and service tokens work on the REST API, the Dash callbacks
  and Socket.IO.
- Otherwise the signed session cookie carries a random session id; the session itself is held on the server
  (dispatcher/access/sessions.py), so sign-out, disabling the account and a new password end it for good, with
  idle and absolute timeouts.
- Signing in: failures are throttled per client address and username (dashboard/throttle.py), never by locking
  the account for everyone; a TOTP code is accepted once only.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from flask import Flask, current_app, g, request, session
from sqlalchemy import event, or_, select, update
from sqlalchemy.orm import Session

from dashboard.runtime import current_runtime, runtime_of
from dashboard.throttle import SignInThrottle
from dispatcher.access import audit
from dispatcher.access import sessions as web_sessions
from dispatcher.access.accounts import Account, ApiToken, Principal, hash_secret
from dispatcher.access.passwords import check_password, totp_step
from dispatcher.access.roles import Role
from dispatcher.errors import EngineError
from dispatcher.settings import Settings

log = logging.getLogger(__name__)
SECOND_FACTOR_ROLES = frozenset({Role.ADMIN, Role.AUDITOR, Role.LEADER})
THROTTLE = "gridcommand_signin_throttle"  # app.extensions key, installed by dashboard.hardening
POSITIONS_PATH = "/api/v1/positions"
# Where each kind of token works: (description, test of method and path).
TOKEN_PLACES = {
    "device": ("on POST /api/v1/positions", lambda method, path: method == "POST" and path == POSITIONS_PATH),
    "open311": ("under /open311/", lambda method, path: path.startswith("/open311/")),
    "app": ("on /api/v1, the Dash callbacks and Socket.IO", lambda method, path: _interactive(path)),
    "service": ("on /api/v1, the Dash callbacks and Socket.IO", lambda method, path: _interactive(path)),
}


class Unauthenticated(EngineError):
    """No valid session or token (401)."""

    status, code = 401, "unauthenticated"


class WrongTokenKind(EngineError):
    """A valid token used outside the place its kind is for (403)."""

    status, code = 403, "token_kind"


class LoginFailed(EngineError):
    """Wrong credentials or a disabled account: one message for all, so nothing leaks (401)."""

    status, code = 401, "login_failed"


class SignInThrottled(EngineError):
    """Too many failed sign-ins from this address for this username (429); `retry_after` in seconds."""

    status, code = 429, "rate_limited"

    def __init__(self, username: str, retry_after: int):
        super().__init__(f"too many failed sign-ins for {username[:64]!r} from this address: retry in {retry_after} s")
        self.retry_after = retry_after


class TokenCache:
    """Bearer tokens verified in the last `ttl_s` seconds (by the hash of the token): a token sent with every
    request costs no database round trip. Revocation is honoured: any change to a token or an account flushed in
    this process empties the cache at once (before and after its commit); one made by another process (the CLI,
    another web process) takes effect here within `ttl_s`, like trackers' enrolments (runtime.DEVICE_CACHE_S)."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000):
        self.ttl_s, self.max_entries = ttl_s, max_entries
        self._entries: dict[str, tuple[float, ApiToken, Principal]] = {}
        self._generation = 0  # bumped by clear(): a lookup that raced a revocation does not cache its answer

    def get(self, token: str) -> tuple[ApiToken, Principal] | None:
        """The (detached) token row and its principal, if verified within `ttl_s`."""
        found = self._entries.get(hash_secret(token))
        if found is None or time.monotonic() - found[0] > self.ttl_s:
            return None
        return found[1], found[2]

    def verify(self, db: Session, token: str) -> tuple[ApiToken, Principal] | None:
        """Look the token up (live, of an enabled account) in one query and remember it; None if it is not."""
        generation, digest = self._generation, hash_secret(token)
        row = db.execute(
            select(ApiToken, Account)
            .join(Account, ApiToken.account_id == Account.id)
            .where(ApiToken.token_hash == digest, ApiToken.revoked_at.is_(None), Account.disabled.is_(False))
        ).one_or_none()
        if row is None:
            return None
        db.expunge(row.ApiToken)
        found = (row.ApiToken, Principal.of(row.Account))
        if generation == self._generation:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[digest] = (time.monotonic(), *found)
        return found

    def clear(self) -> None:
        self._generation += 1
        self._entries.clear()


TOKEN_CACHE_S = 2.0
VERIFIED_TOKENS = TokenCache(TOKEN_CACHE_S)
CREDENTIALS_CHANGED = "gridcommand.credentials_changed"  # session.info: this transaction changed a token or account


@event.listens_for(Session, "after_flush")
def _forget_changed_credentials(db: Session, _context) -> None:
    """A token or account changed (revoked, disabled, new role or region): verified tokens are verified again."""
    if any(isinstance(o, ApiToken | Account) for o in (*db.dirty, *db.deleted)):
        db.info[CREDENTIALS_CHANGED] = True
        VERIFIED_TOKENS.clear()


@event.listens_for(Session, "after_commit")
def _forget_committed_credentials(db: Session) -> None:
    if db.info.pop(CREDENTIALS_CHANGED, False):
        VERIFIED_TOKENS.clear()  # again: a lookup between the flush and the commit read the old rows


def _interactive(path: str) -> bool:
    return path.startswith(("/api/", "/_dash-", "/socket.io"))


def current_principal() -> Principal | None:
    """The caller of this request (its bearer token if it sends one, else its session), cached on `g`."""
    if "principal" not in g:
        g.credential = None
        g.principal = _from_token(token) if (token := bearer_token()) is not None else _from_session()
    return g.principal


def require_principal() -> Principal:
    """The caller, or 401 (403 for a token used where its kind does not work)."""
    principal = current_principal()
    if principal is None:
        if problem := g.get("token_problem"):
            raise WrongTokenKind(problem, field="Authorization")
        raise Unauthenticated("sign in, or send 'Authorization: Bearer <token>'")
    return principal


def current_credential() -> tuple[str, str] | None:
    """What signed this request in: ("session", hash of the session id) or ("token", token id); None if nothing."""
    current_principal()
    return g.get("credential")


def current_token() -> ApiToken | None:
    """The (detached) token row this request signed in with, if it used one."""
    current_principal()
    return g.get("api_token")


def authenticated_by_token() -> bool:
    """Whether a valid bearer token (not a cookie) signed this request in: it carries no ambient authority."""
    credential = current_credential()
    return credential is not None and credential[0] == "token"


def bearer_token() -> str | None:
    """The token of an `Authorization: Bearer` header (possibly empty or junk), or None without one."""
    header = request.headers.get("Authorization", "")
    return header[7:].strip() if header[:7].lower() == "bearer " else None


def _from_token(token: str) -> Principal | None:
    """The account of a live token used where its kind works; else None (with `g.token_problem` if misplaced)."""
    found = VERIFIED_TOKENS.get(token) if token else None
    if found is None and token:
        with current_runtime().sessions() as db:
            found = VERIFIED_TOKENS.verify(db, token)
    if found is None:
        return None
    row, principal = found
    place, works_here = TOKEN_PLACES.get(row.kind, ("nowhere", lambda method, path: False))
    if not works_here(request.method, request.path):
        g.token_problem = f"token {row.id} is a {row.kind!r} token: it works only {place}"
        log.warning("refused %s %s: %s", request.method, request.path, g.token_problem)
        return None
    g.api_token, g.credential = row, ("token", row.id)
    return principal


def _from_session() -> Principal | None:
    """The account of the live server-side session the cookie names; else None, and the cookie is cleared."""
    session_id = session.get("sid")
    if not isinstance(session_id, str):
        if session:
            session.clear()  # a cookie from before server-side sessions, or tampered: nobody
        return None
    rt = current_runtime()
    with rt.sessions.begin() as db:
        account = web_sessions.resume(db, session_id, timeouts=timeouts(rt.settings), now=rt.clock())
        principal = Principal.of(account) if account is not None else None
    if principal is None:
        session.clear()
        return None
    g.credential = ("session", hash_secret(session_id))
    return principal


def timeouts(settings: Settings) -> web_sessions.Timeouts:
    """The session timeouts of these settings."""
    return web_sessions.Timeouts(
        idle=timedelta(minutes=settings.session_idle_minutes),
        absolute=timedelta(minutes=settings.session_absolute_minutes),
    )


def login(username: str, password: str, totp: str | None, *, now: datetime) -> Principal:
    """Check credentials (and the second factor where the role needs one), then start a fresh server-side session.

    Every attempt is audited. An address that failed too often for this username is refused before anything
    is checked (SignInThrottled, 429); other addresses are not affected.
    """
    rt = current_runtime()
    address = request.remote_addr or "unknown"
    throttle: SignInThrottle | None = current_app.extensions.get(THROTTLE)
    wait = throttle.wait(address, username) if throttle is not None else 0
    with rt.sessions.begin() as db:
        account = db.scalar(select(Account).where(Account.username == username))
        refusal = "throttled" if wait else _refusal(db, account, password, totp, now)
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
        if refusal is None and account is not None:
            session_id = web_sessions.start(db, account, now=now)
            principal = Principal.of(account)
    if wait:
        raise SignInThrottled(username, wait)
    if refusal is not None:
        if throttle is not None:
            throttle.failed(address, username)
        raise LoginFailed("wrong username or password")
    if throttle is not None:
        throttle.succeeded(address, username)
    session.clear()  # a new session: nothing from before the login survives
    session["sid"] = session_id
    session.permanent = True
    g.principal, g.credential = principal, ("session", hash_secret(session_id))
    return principal


def _refusal(db: Session, account: Account | None, password: str, totp: str | None, now: datetime) -> str | None:
    """Why a sign-in fails (for the audit trail only; the caller sees one message), or None."""
    if account is None:
        check_password(_DUMMY_HASH, password)  # the same work whether or not the user exists
        return "unknown user"
    if account.disabled:
        return "disabled"
    if not check_password(account.password_hash, password):
        return "wrong password"
    if Role(account.role) not in SECOND_FACTOR_ROLES:
        return None
    step = totp_step(account.totp_secret, totp, at=now) if totp and account.totp_secret else None
    if step is None:
        return "second factor missing or wrong"
    claimed = db.execute(  # atomically: of two sign-ins with one code, only one wins
        update(Account)
        .where(Account.id == account.id, or_(Account.totp_last_step.is_(None), Account.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    return None if getattr(claimed, "rowcount", 0) == 1 else "second factor already used"


def logout(*, now: datetime) -> None:
    """End this browser's session on the server (its cookie signs nobody in any more, anywhere) and clear it."""
    session_id = session.get("sid")
    if isinstance(session_id, str):
        with current_runtime().sessions.begin() as db:
            account_id = web_sessions.end(db, session_id, reason="logout", now=now)
            account = db.get(Account, account_id) if account_id else None
            if account is not None:
                audit.append(
                    db,
                    actor=account.username,
                    role=account.role,
                    ip=request.remote_addr,
                    action="logout",
                    target=f"account:{account.username}",
                    result="ok",
                    now=now,
                )
    session.clear()
    g.principal, g.credential = None, None


def init_auth(app: Flask) -> None:
    """Cookie settings for sessions: HttpOnly, SameSite=Lax (Secure: dashboard/hardening.py)."""
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(minutes=runtime_of(app).settings.session_absolute_minutes),
    )


_DUMMY_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$0jG2mLQ2tW8m3vQkXlSgd2sQ1v1bEo3b0m5cA6X9m1Y"
