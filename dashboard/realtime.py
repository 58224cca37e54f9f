"""Socket.IO on the Dash/Flask server: clients join rooms and re-sync from the outbox after a reconnect."""
from __future__ import annotations

from flask import current_app
from flask_socketio import SocketIO, emit, join_room

from dispatcher import outbox
from dispatcher.settings import Settings

socketio = SocketIO()
RESYNC_LIMIT = 1000


def init_realtime(server, settings: Settings) -> None:
    """Attach Socket.IO to the server; with a message queue any process (RQ workers too) can emit."""
    socketio.init_app(server, async_mode="threading", message_queue=settings.redis_url,
                      channel="flask-socketio", cors_allowed_origins=[])


@socketio.on("connect")
def _connect(auth=None):
    join_room("all")


@socketio.on("resync")
def _resync(data):
    """Replay every event after the client's last sequence number (pushes are at-most-once)."""
    try:
        after = int((data or {}).get("after_seq", 0))
    except (TypeError, ValueError):
        return {"error": "after_seq must be an integer"}
    runtime = current_app.extensions["gridcommand"]
    with runtime.sessions() as session:
        events = outbox.since(session, after, RESYNC_LIMIT)
        for event in events:
            emit("incident", event.as_message())
    return {"replayed": len(events), "complete": len(events) < RESYNC_LIMIT}
