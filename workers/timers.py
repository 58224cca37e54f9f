"""Deadline jobs: one scheduled job per case and moment (deterministic id), and the sweep as the safety net."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from rq import Queue
from rq.job import Job

from dispatcher.cases.incident import Incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.handling import timers
from workers.context import worker_city, worker_context

log = logging.getLogger(__name__)


def job_id(incident_id: str, due: datetime) -> str:
    """The id of the job for this case and moment: scheduling it twice is a no-op."""
    return f"timer-{incident_id}-{int(due.timestamp())}"


def schedule(queue: Queue, messages: list[dict[str, Any]]) -> int:
    """Schedule a timer job for every case whose relayed snapshot names a next timer (each moment once)."""
    scheduled = 0
    due_by_case = {}
    for message in messages:
        snapshot = (message.get("data") or {}).get("incident") or {}
        if snapshot.get("id") and snapshot.get("timer_due_at"):
            due_by_case[snapshot["id"]] = datetime.fromisoformat(snapshot["timer_due_at"])
    for incident_id, due in due_by_case.items():
        name = job_id(incident_id, due)
        if Job.exists(name, connection=queue.connection):
            continue
        queue.enqueue_at(due, check_timers, incident_id, job_id=name, result_ttl=0, failure_ttl=3600)
        scheduled += 1
    return scheduled


def check_timers(incident_id: str, now: datetime | None = None) -> list[str]:
    """Act on one case if its timer is due (a job whose moment has passed on a changed case does nothing)."""
    ctx = worker_context()
    now = now or datetime.now(UTC)
    with UnitOfWork(ctx.sessions) as uow:
        incident = uow.session.get(Incident, incident_id, with_for_update=True)
        if incident is None or incident.timer_due_at is None or incident.timer_due_at > now:
            return []
        done = timers.act(uow, worker_city(), incident, now)
        uow.commit(now)
    if done:
        _relay()
    return done


def sweep_timers(limit: int = 500, now: datetime | None = None) -> int:
    """Act on every case whose timer is due: what a lost or late job missed; how many cases acted."""
    ctx = worker_context()
    now = now or datetime.now(UTC)
    with UnitOfWork(ctx.sessions) as uow:
        acted = timers.sweep(uow, worker_city(), now, limit)
        uow.commit(now)
    if acted:
        _relay()
    return acted


def _relay() -> None:
    from workers.jobs import request_relay

    ctx = worker_context()
    request_relay(ctx.queue, ctx.redis)
