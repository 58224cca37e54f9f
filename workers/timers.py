"""Deadline jobs: one scheduled job per case and moment (deterministic id), and the sweep as the safety net."""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from rq import Queue
from rq.job import Job

from dispatcher.cases.incident import Incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.handling import timers
from workers.context import worker_city, worker_context

log = logging.getLogger(__name__)


def fire_at(due: datetime) -> int:
    """The second (epoch) a job for `due` runs at: the first whole second after it. RQ's scheduler keeps whole
    seconds, and a job let out before its moment would find nothing due (a deadline is passed only after it)."""
    if due.tzinfo is None:  # stored moments are UTC
        due = due.replace(tzinfo=UTC)
    return math.floor(due.timestamp()) + 1


def job_id(incident_id: str, due: datetime) -> str:
    """The id of the job for this case and moment: scheduling it twice is a no-op."""
    return f"timer-{incident_id}-{fire_at(due)}"


def schedule_one(queue: Queue, incident_id: str, due: datetime) -> bool:
    """Schedule the job for this case and moment unless it exists; scheduled? (Two relays racing past the check
    write the same job under the same id: the scheduled registry still holds it once.)"""
    name = job_id(incident_id, due)
    if Job.exists(name, connection=queue.connection):  # scheduled, running, or failed (the sweep takes that case)
        return False
    at = fire_at(due)
    queue.enqueue_at(
        datetime.fromtimestamp(at, UTC), check_timers, incident_id, at, job_id=name, result_ttl=0, failure_ttl=3600
    )
    return True


def schedule(queue: Queue, messages: list[dict[str, Any]]) -> int:
    """Schedule a timer job for every case whose relayed snapshot names a next timer (each moment once)."""
    due_by_case = {}
    for message in messages:  # in sequence order: the last snapshot of a case is its current one
        snapshot = (message.get("data") or {}).get("incident") or {}
        if snapshot.get("id"):
            due_by_case[snapshot["id"]] = snapshot.get("timer_due_at")
    return sum(
        schedule_one(queue, incident_id, datetime.fromisoformat(due)) for incident_id, due in due_by_case.items() if due
    )


def check_timers(incident_id: str, at: int | None = None, now: datetime | None = None) -> list[str]:
    """Act on one case if its timer is due (a job whose moment has passed on a changed case does nothing).

    `at` is the second the job was scheduled for: RQ's scheduler lets a job out at or after it, so the job acts
    as of that moment even when this host's clock is a little behind the scheduler's."""
    # The city first: loading it inside the unit of work would wait for that unit's own write lock on SQLite.
    ctx, city = worker_context(), worker_city()
    now = now or datetime.now(UTC)
    if at is not None:
        now = max(now, datetime.fromtimestamp(at, UTC))
    with UnitOfWork(ctx.sessions) as uow:
        incident = uow.session.get(Incident, incident_id, with_for_update=True)
        if incident is None or incident.timer_due_at is None or incident.timer_due_at > now:
            return []
        done = timers.act(uow, city, incident, now)
        due = incident.timer_due_at
        uow.commit(now)
    if due is not None:  # the next moment, even when nothing here made an event for the relay to schedule it from
        schedule_one(ctx.queue, incident_id, due)
    if done:
        _relay()
    return done


def sweep_timers(limit: int = 500, now: datetime | None = None) -> int:
    """Act on every case whose timer is due: what a lost or late job missed; how many cases acted."""
    ctx, city = worker_context(), worker_city()
    now = now or datetime.now(UTC)
    with UnitOfWork(ctx.sessions) as uow:
        acted = timers.sweep(uow, city, now, limit)
        uow.commit(now)
    if acted:
        _relay()
    return acted


def _relay() -> None:
    """New events were committed: wake the web processes' delivery loops, and handle the events here at once (their
    next timers) rather than on the ticker's next round (in a burst there is none)."""
    from workers.jobs import announce, relay_outbox

    announce(worker_context().redis)
    relay_outbox()
