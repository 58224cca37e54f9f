"""Outbox delivery in each web process: the database is the source of truth, every process keeps its own cursor.

One background task per web process (started by the first socket that connects) reads the outbox rows after its
cursor, emits each event ONCE to its own sockets (to the list of the event's scope rooms: python-socketio counts a
client in several of them once; `ignore_queue=True`, so the message queue does not fan it out again), then moves
its cursor past them. It wakes on the Redis pub/sub signal `keys.outbox_signal` (sent after every commit, by the
web process or the worker that committed) and on a timer (`settings.delivery_poll_s`) whatever happens to Redis.

So nothing depends on a relay job, a flag or a subscription being alive: with Redis down the timer still delivers;
when Redis returns there is nothing to recover; a worker killed at any moment stalls no push. A process starts at
the outbox head (its clients catch up on connect with `resync` from their own last sequence number).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import redis
from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.store import outbox
from workers import keys

log = logging.getLogger(__name__)
DELIVERY = "gridcommand_delivery"  # the Flask extensions key of this process's Delivery
BATCH = 500
EVENT = "incident"

Emit = Callable[[dict[str, Any], list[str]], None]


@dataclass
class Delivery:
    """The outbox cursor of this web process and what /health reports about it."""

    server: object  # the python-socketio server whose sockets this delivers to
    cursor: int | None = None  # the last outbox seq delivered here (None until the task starts)
    delivered: int = 0
    last_round: float | None = None  # time.monotonic() of the last successful read
    last_error: str | None = None
    subscribed: bool = False  # the Redis wake-up is live (else the timer alone delivers)
    running: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def claim_start(self) -> bool:
        """True exactly once: the caller starts the delivery task."""
        with self.lock:
            start, self.running = not self.running, True
            return start

    def deliver(self, sessions: sessionmaker[Session], emit: Emit) -> int:
        """Emit every event after the cursor, in sequence order, and move the cursor; returns how many."""
        total = 0
        while True:
            with sessions() as session:
                if self.cursor is None:
                    self.cursor = outbox.head(session)
                events = [
                    (e.id, e.as_message(), list(e.scope or [])) for e in outbox.since(session, self.cursor, BATCH)
                ]
            for seq, message, rooms in events:
                if rooms:  # an empty list would mean "everyone" to python-socketio
                    emit(message, rooms)
                self.cursor = seq
            total += len(events)
            if len(events) < BATCH:
                break
        self.delivered += total
        self.last_round, self.last_error = time.monotonic(), None
        return total

    def status(self, session: Session, now: datetime) -> dict[str, Any]:
        """Cursor, how far behind the outbox head it is (events and seconds), and whether the wake-up is live."""
        if not self.running or self.cursor is None:
            return {"state": "idle", "note": "starts with the first socket of this process"}
        head = outbox.head(session)
        behind_since = outbox.created_after(session, self.cursor)
        return {
            "state": "running",
            "cursor": self.cursor,
            "head": head,
            "behind": head - self.cursor,
            "lag_s": round(max(0.0, (now - _utc(behind_since)).total_seconds()), 3) if behind_since else 0.0,
            "delivered": self.delivered,
            "last_round_s_ago": round(time.monotonic() - self.last_round, 3) if self.last_round else None,
            "wakeup": "subscribed" if self.subscribed else "timer only",
            "last_error": self.last_error,
        }


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


class Wakeup:
    """Waits for the "new events" signal on Redis pub/sub, at most `timeout`; without Redis, just sleeps."""

    def __init__(self, client: redis.Redis | None, sleep: Callable[[float], None]):
        self.client, self.sleep = client, sleep
        self.pubsub: Any = None

    @property
    def subscribed(self) -> bool:
        return self.pubsub is not None

    def wait(self, timeout: float) -> None:
        if self.client is None:
            self.sleep(timeout)
            return
        try:
            if self.pubsub is None:
                pubsub = self.client.pubsub(ignore_subscribe_messages=True)
                pubsub.subscribe(keys.outbox_signal(self.client))
                self.pubsub = pubsub
            if self.pubsub.get_message(timeout=timeout) is not None:
                while self.pubsub.get_message(timeout=0) is not None:  # a burst of commits: one read
                    pass
        except (redis.RedisError, OSError) as exc:
            log.debug("outbox wake-up lost (%s): delivering on the timer", exc)
            self.close()
            self.sleep(timeout)

    def close(self) -> None:
        pubsub, self.pubsub = self.pubsub, None
        if pubsub is not None:
            try:
                pubsub.close()
            except Exception as exc:  # a dead connection
                log.debug("closing the outbox wake-up: %s", exc)


def install(app: Flask, server: object) -> Delivery:
    """Give `app` a (not yet running) delivery for `server`'s sockets."""
    delivery = app.extensions[DELIVERY] = Delivery(server=server)
    return delivery


def delivery_of(app: Flask) -> Delivery | None:
    return app.extensions.get(DELIVERY)


def ensure_running(app: Flask, socketio) -> None:
    """Start this process's delivery task unless it runs (called on every connect; cheap)."""
    delivery = delivery_of(app)
    if delivery is not None and delivery.claim_start():
        socketio.start_background_task(run, app, delivery, socketio)


def run(app: Flask, delivery: Delivery, socketio) -> None:
    """The delivery task: deliver, wait for the signal or the timer, again; ends when the app's server is replaced
    (tests create one app after another in one process)."""
    from dashboard.runtime import runtime_of

    runtime = runtime_of(app)
    server: Any = delivery.server
    wakeup = Wakeup(runtime.redis, socketio.sleep)

    def emit(message: dict[str, Any], rooms: list[str]) -> None:
        server.emit(EVENT, message, to=rooms, namespace="/", ignore_queue=True)

    try:
        while socketio.server is server:
            try:
                delivery.deliver(runtime.sessions, emit)
            except Exception as exc:  # database away: the cursor stays, the next round tries again
                delivery.last_error = f"{type(exc).__name__}: {exc}"[:200]
                log.warning("outbox delivery failed (retrying): %s", delivery.last_error)
            wakeup.wait(runtime.settings.delivery_poll_s)
            delivery.subscribed = wakeup.subscribed
    finally:
        wakeup.close()
        delivery.running = False
