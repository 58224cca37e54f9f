"""Publishing to browsers: Socket.IO emits through the Redis message queue, from any process."""

from __future__ import annotations

from typing import Any

import socketio

from workers import keys

CHANNEL = keys.SOCKETIO_CHANNEL
EVENT = "incident"


class _StrictRedisManager(socketio.RedisManager):
    """A write-only RedisManager whose publish raises when Redis is down, so the outbox keeps the event."""

    def _publish(self, data):
        if not self.connected:
            self._redis_connect()
        return self.redis.publish(self.channel, self.json.dumps(data))


class Pusher:
    """Emits outbox messages to the Socket.IO rooms of their scope."""

    def __init__(self, redis_url: str):
        self._manager = _StrictRedisManager(redis_url, channel=CHANNEL, write_only=True)

    def push(self, message: dict[str, Any], rooms: list[str]) -> None:
        """Send one incident message to every room it belongs to (raises if Redis is unreachable)."""
        for room in rooms:
            self.emit(EVENT, message, room)

    def emit(self, event: str, data: Any, room: str) -> None:
        """Send one event to one room."""
        self._manager.emit(event, data, room=room, namespace="/")
