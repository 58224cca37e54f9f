"""RQ jobs. Each takes ids or nothing, never ORM objects, and is idempotent: running it twice does no harm."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import redis as redis_lib

from dispatcher.cases.uow import UnitOfWork
from dispatcher.fleet.officers import purge_history
from dispatcher.settings import get_settings
from dispatcher.store.outbox import pending
from workers import keys, timers
from workers.context import worker_context

log = logging.getLogger(__name__)
RELAY_BATCH = 500


def relay_outbox(limit: int = RELAY_BATCH) -> int:
    """The worker's share of the outbox: schedule the deadline timers the new events name, then mark the events
    handled (`published_at`); returns how many. Keeps going while full batches come back.

    Pushing to browsers is not done here: every web process delivers the outbox to its own sockets from its own
    cursor (dashboard/realtime.py), so nothing the worker does (or fails to do) can lose or stall a push. Timers
    are scheduled BEFORE the rows are marked: a worker killed in between leaves them pending, and the next run
    schedules them again (deterministic job ids make that a no-op)."""
    ctx = worker_context()
    handled = 0
    while True:
        with UnitOfWork(ctx.sessions) as uow:
            events = pending(uow.session, limit)
            messages = [event.as_message() for event in events]
            timers.schedule(ctx.queue, messages)
            now = datetime.now(UTC)
            for event in events:
                event.published_at = now
            uow.commit(now)
        handled += len(events)
        if len(events) < limit:
            return handled


def purge_positions(now: datetime | None = None) -> int:
    """Delete officer position history older than the retention setting."""
    ctx = worker_context()
    before = (now or datetime.now(UTC)) - timedelta(days=get_settings().position_retention_days)
    with ctx.sessions.begin() as session:
        return purge_history(session, before)


def announce(redis) -> bool:
    """Tell every web process that new outbox events were committed (one PUBLISH; a hint, not a delivery: with
    Redis away the web processes' timers find the events anyway). False when Redis could not be reached."""
    if redis is None:
        return False
    try:
        redis.publish(keys.outbox_signal(redis), b"1")
        return True
    except redis_lib.RedisError as exc:
        log.debug("outbox signal not sent (Redis away; delivery falls back to the timer): %s", exc)
        return False
