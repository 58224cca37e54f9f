"""RQ jobs. Each takes ids or nothing, never ORM objects, and is idempotent: running it twice does no harm."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from dispatcher.cases import rooms
from dispatcher.cases.uow import UnitOfWork
from dispatcher.fleet.officers import purge_history
from dispatcher.settings import get_settings
from dispatcher.store.outbox import pending
from workers import keys, timers
from workers.context import worker_context

log = logging.getLogger(__name__)
RELAY_BATCH = 500


def relay_outbox(limit: int = RELAY_BATCH) -> int:
    """Publish pending outbox events in sequence order and mark them published; returns how many."""
    ctx = worker_context()
    ctx.redis.delete(keys.RELAY_REQUESTED)  # events committed from now on need a new relay run
    published = 0
    with UnitOfWork(ctx.sessions) as uow:
        events = pending(uow.session, limit)
        now = datetime.now(UTC)
        messages = []
        for event in events:
            messages.append(event.as_message())
            ctx.pusher.push(messages[-1], [*(event.scope or []), rooms.ALL])
            event.published_at = now
            published += 1
        uow.commit(now)
    timers.schedule(ctx.queue, messages)
    if published == limit:  # more waiting: keep going without waiting for the next tick
        request_relay(ctx.queue, ctx.redis)
    return published


def purge_positions(now: datetime | None = None) -> int:
    """Delete officer position history older than the retention setting."""
    ctx = worker_context()
    before = (now or datetime.now(UTC)) - timedelta(days=get_settings().position_retention_days)
    with ctx.sessions.begin() as session:
        return purge_history(session, before)


def request_relay(queue, redis) -> bool:
    """Enqueue one relay run unless one is already waiting (bursts of commits coalesce into one job)."""
    if not redis.set(keys.RELAY_REQUESTED, "1", nx=True, ex=30):
        return False
    queue.enqueue(relay_outbox, job_timeout=120, result_ttl=0, failure_ttl=3600)
    return True
