"""Socket.IO on the Dash/Flask server: signed-in clients join the rooms of their scope and re-sync from the outbox.

- Only this server's own origins may open a socket (a browser's Origin must be the request's scheme://host or
  the origin of `settings.public_url`); other origins are refused before anything else happens.
- `connect` needs a valid session (or bearer token): Flask-SocketIO runs handlers in a request context
  with the connection's cookies, so `current_principal()` works; without one the connection is refused.
  The client joins exactly `dispatcher.cases.scope.rooms(principal)`, computed on the server, never "all"
  (with `auth={"rooms": "user"}`, as the notification bell connects, only the user's own room of those).
- `join` of any other room is refused (an error ack); `resync` replays only the events of the caller's scope,
  and an `after_seq` that is not an integer from 0 to 2^63-1 gets an error ack.
- A watcher (one background task per server, running while sockets are connected) re-reads the credentials
  behind the connected sockets every `WATCH_INTERVAL_S` and disconnects those whose session ended (sign-out,
  account disabled, new password) or timed out, or whose token was revoked, within 5 s.
- `socketio.run` (`serve --dev`) serves with `QuietRequestHandler` (no software versions in the `Server` header).
- Transport: browsers connect over WebSocket only (dashboard/pages/sockets.py, assets/desk_live.js): a WebSocket is one TCP connection to
  one process, so any number of web processes behind a round-robin proxy (or one gunicorn port) need no sticky
  sessions; the server accepts `settings.socket_transports` (long-polling too, unless several processes serve).
- Async mode follows the server the process runs under: gevent when gevent has monkey-patched the process
  (gunicorn's gevent worker), else threading (gunicorn gthread, `serve --dev`, tests). Pushes between processes
  (and from RQ workers) go through the Redis message queue.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import current_app, request
from flask_socketio import SocketIO, emit, join_room
from sqlalchemy import select

from dashboard import delivery
from dashboard.auth import current_credential, current_principal, timeouts
from dashboard.hardening import QuietRequestHandler, own_origins
from dashboard.runtime import current_runtime, runtime_of
from dispatcher.access import sessions as web_sessions
from dispatcher.access.accounts import Account, ApiToken
from dispatcher.cases.scope import can_see_event, rooms
from dispatcher.notify import user_room
from dispatcher.settings import Settings
from dispatcher.store import outbox
from workers.push import ReconnectingRedisManager

log = logging.getLogger(__name__)


class QuietSocketIO(SocketIO):
    """Flask-SocketIO whose built-in server (`run`) sends no software versions in its `Server` header."""

    def run(self, app, host=None, port=None, **kwargs):  # pragma: no cover - serving forever
        kwargs.setdefault("request_handler", QuietRequestHandler)
        super().run(app, host=host, port=port, **kwargs)


socketio = QuietSocketIO()
RESYNC_LIMIT = 1000
MAX_SEQ = 2**63 - 1  # outbox ids are BIGINT
KINDS = ("session", "token")  # what a socket signed in with
WATCH_INTERVAL_S = 2.0
REGISTRY = "gridcommand_sockets"


@dataclass
class Connection:
    account_id: str
    credential: tuple[str, str]  # ("session", hash of the session id) or ("token", token id)
    rooms: frozenset[str]


@dataclass
class SocketRegistry:
    """The signed-in sockets of one server: sid -> who is behind it (for the disable watcher)."""

    server: object  # the python-socketio server these sids belong to
    connections: dict[str, Connection] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    watching: bool = False

    def add(self, sid: str, connection: Connection) -> bool:
        """Register a socket; True when the watcher must be started."""
        _sockets_gauge().inc()
        with self.lock:
            self.connections[sid] = connection
            start, self.watching = not self.watching, True
            return start

    def remove(self, sid: str) -> None:
        with self.lock:
            gone = self.connections.pop(sid, None)
        if gone is not None:
            _sockets_gauge().dec()

    def snapshot(self) -> dict[str, Connection]:
        with self.lock:
            return dict(self.connections)

    def stop_if_idle(self) -> bool:
        """End the watcher when nothing is connected (it is started again by the next connect)."""
        with self.lock:
            if self.connections:
                return False
            self.watching = False
            return True


def _sockets_gauge():
    """The connected-sockets gauge of /metrics (imported late: the API package imports much of the dashboard)."""
    from dashboard.api.metrics import SOCKETS

    return SOCKETS


def async_mode() -> str:
    """The Socket.IO async mode of this process: gevent once gevent has monkey-patched it (gunicorn's gevent worker),
    else threading. Always explicit: left to itself Flask-SocketIO picks gevent whenever it is installed."""
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return "threading"
    return "gevent" if monkey.is_module_patched("socket") else "threading"


def init_realtime(server, settings: Settings) -> None:
    """Attach Socket.IO to the server; with a message queue any process (RQ workers too) can emit. Outbox events
    reach this process's sockets through its own delivery task (dashboard/delivery.py), not the queue."""
    queue = {"client_manager": ReconnectingRedisManager(settings.redis_url)} if settings.redis_url else {}
    socketio.init_app(
        server,
        async_mode=async_mode(),
        transports=list(settings.socket_transports),
        cors_allowed_origins=lambda origin, environ: origin_allowed(origin, environ, settings.public_url),
        **queue,
    )
    server.extensions[REGISTRY] = SocketRegistry(server=socketio.server)
    delivery.install(server, socketio.server)


def origin_allowed(origin: str | None, environ: dict, public_url: str | None) -> bool:
    """Whether a browser at `origin` may open a socket: only this server's own origins (never "any")."""
    if not origin:
        return True  # not a browser (browsers always send Origin on WebSocket and cross-origin requests)
    scheme, host = environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST", "")
    allowed = origin.rstrip("/").lower() in own_origins(scheme, host, public_url)
    if not allowed:
        log.warning("refused a socket from origin %r (this server: %s, public URL %s)", origin, host, public_url)
    return allowed


def _registry() -> SocketRegistry:
    return current_app.extensions[REGISTRY]


@socketio.on("connect")
def _connect(auth=None):
    """Only a signed-in user connects, and only into the rooms of their scope."""
    principal, credential = current_principal(), current_credential()
    if principal is None or credential is None:
        raise ConnectionRefusedError("unauthorized")
    allowed = rooms(principal)
    if isinstance(auth, dict) and auth.get("rooms") == "user":  # the bell's socket: only the user's own room
        allowed = [room for room in allowed if room == user_room(principal.username)]
    for room in allowed:
        join_room(room)
    registry = _registry()
    app = current_app._get_current_object()
    if registry.add(request.sid, Connection(principal.account_id, credential, frozenset(allowed))):
        socketio.start_background_task(_watch, app, registry)
    delivery.ensure_running(app, socketio)


@socketio.on("disconnect")
def _disconnect(*_args):
    registry = current_app.extensions.get(REGISTRY)
    if registry is not None:
        registry.remove(request.sid)


@socketio.on("join")
def _join(data=None):
    """Rooms are the server's choice: asking for one outside the caller's scope is refused."""
    principal = current_principal()
    room = (data or {}).get("room") if isinstance(data, dict) else data
    if principal is None:
        return {"error": "unauthorized"}
    if not isinstance(room, str) or room not in rooms(principal):
        log.warning("refused join of room %r by %s", room, principal.username)
        return {"error": "forbidden", "room": room if isinstance(room, str) else None}
    join_room(room)
    return {"joined": room}


@socketio.on("resync")
def _resync(data=None):
    """Replay the caller's events after their last sequence number (pushes are at-most-once)."""
    principal = current_principal()
    if principal is None:
        return {"error": "unauthorized"}
    after = data.get("after_seq", 0) if isinstance(data, dict) else None
    if isinstance(after, bool) or not isinstance(after, int) or not 0 <= after <= MAX_SEQ:
        return {"error": f"after_seq must be an integer from 0 to {MAX_SEQ}"}
    runtime = current_runtime()
    with runtime.sessions() as session:
        events = outbox.since(session, after, RESYNC_LIMIT)
        replayed = 0
        for event in events:
            if can_see_event(principal, list(event.scope or [])):
                emit("incident", event.as_message())
                replayed += 1
    return {
        "replayed": replayed,
        "complete": len(events) < RESYNC_LIMIT,
        "last_seq": events[-1].id if events else after,
    }


def revoked(session, connections: dict[str, Connection], *, settings, now) -> list[str]:
    """The sids whose session is no longer live (ended, timed out, account disabled) or whose token was revoked."""
    held = {kind: {c.credential[1] for c in connections.values() if c.credential[0] == kind} for kind in KINDS}
    dead_sessions = web_sessions.dead(session, held["session"], timeouts=timeouts(settings), now=now)
    live_tokens = set(
        session.scalars(
            select(ApiToken.id)
            .join(Account, Account.id == ApiToken.account_id)
            .where(ApiToken.id.in_(held["token"]), ApiToken.revoked_at.is_(None), Account.disabled.is_(False))
        )
    )
    return [
        sid
        for sid, c in connections.items()
        if (c.credential[1] in dead_sessions if c.credential[0] == "session" else c.credential[1] not in live_tokens)
    ]


def _watch(app, registry: SocketRegistry) -> None:
    """Every couple of seconds, disconnect the sockets whose session ended or token was revoked."""
    runtime = runtime_of(app)
    while True:
        socketio.sleep(WATCH_INTERVAL_S)
        if registry.stop_if_idle():
            return
        connections = registry.snapshot()
        try:
            with runtime.sessions() as session:
                ended = revoked(session, connections, settings=runtime.settings, now=runtime.clock())
        except Exception:  # database briefly unavailable: try again next round
            log.exception("socket watcher could not read accounts")
            continue
        for sid in ended:
            log.info("closing socket %s: the session or token of account %s ended", sid, connections[sid].account_id)
            try:
                registry.server.disconnect(sid, namespace="/")
            except Exception as exc:
                log.debug("socket %s already gone: %s", sid, exc)
            registry.remove(sid)
