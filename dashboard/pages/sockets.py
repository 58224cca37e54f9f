"""The pages' Socket.IO connections (the command center's own client is assets/desk_live.js)."""

from __future__ import annotations

from dash_socketio import DashSocketIO


def live_socket(socket_id: str, *, user_only: bool = False) -> DashSocketIO:
    """A page's connection for incident pushes, over WebSocket only: one TCP connection to one process, so several
    web processes behind a round-robin proxy need no sticky sessions (long-polling would).
    `user_only`: only the user's own room (the bell)."""
    options: dict = {"transports": ["websocket"]}
    if user_only:
        options["auth"] = {"rooms": "user"}
    return DashSocketIO(id=socket_id, eventNames=["incident"], options=options)
