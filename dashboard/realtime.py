"""Socket.IO on the Dash/Flask server: signed-in clients join the rooms of their scope and re-sync from the outbox.

- `connect` needs a valid session (or bearer token): Flask-SocketIO runs handlers in a request context
  with the connection's cookies, so `current_principal()` works; without one the connection is refused.
  The client joins exactly `dispatcher.cases.scope.rooms(principal)`, computed on the server, never "all".
- `join` of any other room is refused (an error ack); `resync` replays only the events of the caller's scope.
- A watcher (one background task per server, running while sockets are connected) re-reads the accounts
  behind the connected sockets every `WATCH_INTERVAL_S` and disconnects those whose account was disabled
  or whose session epoch changed (signed out everywhere), so a disabled user's sockets close within 5 s.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from flask import current_app, request
from flask_socketio import SocketIO, emit, join_room
from sqlalchemy import select

from dashboard.auth import current_principal
from dashboard.runtime import current_runtime, runtime_of
from dispatcher.access.accounts import Account
from dispatcher.cases.scope import can_see_event, rooms
from dispatcher.settings import Settings
from dispatcher.store import outbox
from workers import keys

log = logging.getLogger(__name__)

socketio = SocketIO()
RESYNC_LIMIT = 1000
WATCH_INTERVAL_S = 2.0
REGISTRY = "gridcommand_sockets"


@dataclass
class Connection:
    account_id: str
    epoch: int | None
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
        with self.lock:
            self.connections[sid] = connection
            start, self.watching = not self.watching, True
            return start

    def remove(self, sid: str) -> None:
        with self.lock:
            self.connections.pop(sid, None)

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


def init_realtime(server, settings: Settings) -> None:
    """Attach Socket.IO to the server; with a message queue any process (RQ workers too) can emit."""
    socketio.init_app(
        server,
        async_mode="threading",
        message_queue=settings.redis_url,
        channel=keys.SOCKETIO_CHANNEL,
        cors_allowed_origins=[],
    )
    server.extensions[REGISTRY] = SocketRegistry(server=socketio.server)


def _registry() -> SocketRegistry:
    return current_app.extensions[REGISTRY]


@socketio.on("connect")
def _connect(auth=None):
    """Only a signed-in user connects, and only into the rooms of their scope."""
    principal = current_principal()
    if principal is None:
        raise ConnectionRefusedError("unauthorized")
    from flask import session

    allowed = rooms(principal)
    for room in allowed:
        join_room(room)
    registry = _registry()
    epoch = session.get("epoch") if session.get("account_id") == principal.account_id else None
    if registry.add(request.sid, Connection(principal.account_id, epoch, frozenset(allowed))):
        app = current_app._get_current_object()
        socketio.start_background_task(_watch, app, registry)


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
def _resync(data):
    """Replay the caller's events after their last sequence number (pushes are at-most-once)."""
    principal = current_principal()
    if principal is None:
        return {"error": "unauthorized"}
    try:
        after = int((data or {}).get("after_seq", 0))
    except (TypeError, ValueError, AttributeError):
        return {"error": "after_seq must be an integer"}
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


def revoked(session, connections: dict[str, Connection]) -> list[str]:
    """The sids whose account is gone, disabled, or whose session epoch moved on."""
    ids = {c.account_id for c in connections.values()}
    if not ids:
        return []
    accounts = {a.id: a for a in session.scalars(select(Account).where(Account.id.in_(ids)))}
    out = []
    for sid, connection in connections.items():
        account = accounts.get(connection.account_id)
        if (
            account is None
            or account.disabled
            or (connection.epoch is not None and account.session_epoch != connection.epoch)
        ):
            out.append(sid)
    return out


def _watch(app, registry: SocketRegistry) -> None:
    """Every couple of seconds, disconnect the sockets of disabled or signed-out accounts."""
    runtime = runtime_of(app)
    while True:
        socketio.sleep(WATCH_INTERVAL_S)
        if registry.stop_if_idle():
            return
        connections = registry.snapshot()
        try:
            with runtime.sessions() as session:
                ended = revoked(session, connections)
        except Exception:  # database briefly unavailable: try again next round
            log.exception("socket watcher could not read accounts")
            continue
        for sid in ended:
            log.info("closing socket %s: account %s disabled or signed out", sid, connections[sid].account_id)
            try:
                registry.server.disconnect(sid, namespace="/")
            except Exception as exc:
                log.debug("socket %s already gone: %s", sid, exc)
            registry.remove(sid)
