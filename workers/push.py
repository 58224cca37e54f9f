"""Publishing to browsers through the Redis message queue (officer positions; the outbox is delivered by each web
process from the database, see dashboard/realtime.py), and the web side's reconnecting message-queue manager."""

from __future__ import annotations

import logging
import time
from typing import Any

import socketio

from workers import keys
from workers.redis_server import REDIS_OPTIONS

log = logging.getLogger(__name__)
EVENT = "incident"
RECONNECT_S = 1.0  # a web process retries a lost Redis this often (python-socketio's own backoff grows to 60 s)


class _StrictRedisManager(socketio.RedisManager):
    """A write-only RedisManager whose publish raises when Redis is down, so the caller keeps what it sends; inside
    `batched()` messages are collected and published in one pipeline round trip."""

    collected: list[str] | None = None

    def _publish(self, data):
        if self.collected is not None:
            self.collected.append(self.json.dumps(data))
            return None
        if not self.connected:
            self._redis_connect()
        return self.redis.publish(self.channel, self.json.dumps(data))

    def publish_all(self, messages: list[str]) -> None:
        """PUBLISH every encoded message in one round trip."""
        if not self.connected:
            self._redis_connect()
        with self.redis.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.publish(self.channel, message)
            pipe.execute()


class ReconnectingRedisManager(socketio.RedisManager):
    """The web process's message-queue manager: listens again within RECONNECT_S of Redis coming back.

    python-socketio retries a lost subscription after 1, 2, 4 ... 60 s (pushes resumed 28 s after an outage);
    this one retries every RECONNECT_S, and its connection is health-checked so a silently dead one is noticed."""

    def __init__(self, url: str, write_only: bool = False):
        super().__init__(
            url, channel=keys.socketio_channel(url), write_only=write_only, redis_options=dict(REDIS_OPTIONS)
        )
        self.listening = False  # subscribed right now (reported by /health)

    def _redis_listen_with_retries(self):  # pragma: no cover - exercised by the Redis outage test
        while True:
            try:
                self._close_pubsub()
                self._redis_connect()
                self.pubsub.subscribe(self.channel)
                self.listening = True
                yield from self.pubsub.listen()
            except Exception as exc:
                self.listening = False
                log.warning("Socket.IO message queue lost (%s); listening again in %.0f s", exc, RECONNECT_S)
                time.sleep(RECONNECT_S)

    def _close_pubsub(self) -> None:
        """Let go of the last, dead subscription's connection (never raises)."""
        pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception as exc:
                log.debug("closing a dead subscription: %s", exc)


class Pusher:
    """Emits messages to Socket.IO rooms through the message queue (any process)."""

    def __init__(self, redis_url: str):
        self._manager = _StrictRedisManager(redis_url, channel=keys.socketio_channel(redis_url), write_only=True)

    def push(self, message: dict[str, Any], rooms: list[str]) -> None:
        """Send one incident message to the clients of `rooms`, once each (raises if Redis is unreachable)."""
        self.emit(EVENT, message, rooms)

    def emit(self, event: str, data: Any, room: str | list[str]) -> None:
        """Send one event to one room, or once to every client in any of a list of rooms (never to nobody-rooms:
        an empty list sends nothing, where python-socketio would take it for "everyone")."""
        if isinstance(room, list) and not room:
            return
        self._manager.emit(event, data, room=room, namespace="/")

    def emit_each(self, event: str, items: list[tuple[Any, list[str]]]) -> None:
        """`emit(event, data, rooms)` for each (data, rooms), published in one round trip (officer positions: one
        batch per set of rooms, hundreds per flush)."""
        manager = self._manager
        manager.collected = []
        try:
            for data, rooms in items:
                self.emit(event, data, rooms)
            messages = manager.collected
        finally:
            manager.collected = None
        if messages:
            manager.publish_all(messages)
