"""The web process's runtime: settings, database, the loaded city, Redis and the job queue."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

import redis
from flask import Flask, current_app
from rq import Queue, Worker
from sqlalchemy import Engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.access.accounts import hash_secret
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.loader import City, load_city
from dispatcher.fleet.devices import Enrolled, enrolled
from dispatcher.handling.workflow import Policy, perform
from dispatcher.settings import Settings
from dispatcher.store import outbox
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import current_version, load_index
from workers import keys
from workers.jobs import announce
from workers.positions import PositionStore
from workers.redis_server import connect

log = logging.getLogger(__name__)
T = TypeVar("T")
GRID_CHECK_EVERY_S = 5.0
DEVICE_CACHE_S = 2.0  # enrolments, revocations and duty changes reach every web process within this long


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Runtime:
    """Long-lived objects shared by every request of one web process."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    city: City
    redis: redis.Redis | None
    queue: Queue | None
    clock: Callable[[], datetime] = field(default=utc_now)
    _grids_checked: float = field(default=0.0, repr=False)
    _devices: dict[str, Enrolled] = field(default_factory=dict, repr=False)
    _devices_loaded: float = field(default=float("-inf"), repr=False)

    @property
    def positions(self) -> PositionStore | None:
        """Live officer positions (None without Redis)."""
        return None if self.redis is None else PositionStore(self.redis)

    def device_for(self, identifier: str) -> Enrolled | None:
        """The live device a tracker's identifier belongs to (and its officer); None for an unknown or revoked one.

        Served from a cache of the live devices reloaded every DEVICE_CACHE_S seconds, hit or miss, so a
        revocation in any process takes effect here within that time. While the database is down the last
        list stays in force (positions live in Redis; nobody can enrol or revoke meanwhile)."""
        stale = time.monotonic() - self._devices_loaded > DEVICE_CACHE_S
        if stale and self._devices_loaded != float("-inf"):
            # one reload at a time: requests arriving meanwhile (other greenlets or threads) use the current list
            # instead of all reloading it at once (under gevent every waiting request would start its own)
            self._devices_loaded = time.monotonic()
        if stale:
            try:
                with self.sessions() as session:
                    devices = enrolled(session)
                    session.expunge_all()
            except OperationalError as exc:
                log.warning("database unavailable, trackers checked against the last list: %s", exc.orig)
                devices = self._devices
            self._devices, self._devices_loaded = devices, time.monotonic()
        return self._devices.get(hash_secret(identifier))

    def forget_devices(self) -> None:
        """Reload the devices on the next lookup (after this process enrolled or revoked one)."""
        self._devices_loaded = float("-inf")

    def refresh_grids(self) -> None:
        """Reload the grid index when another process imported a new grid version (checked every few seconds)."""
        if time.monotonic() - self._grids_checked < GRID_CHECK_EVERY_S:
            return
        self._grids_checked = time.monotonic()
        with self.sessions() as session:
            stored = current_version(session)
            if stored is not None and str(stored) != self.city.grids.version:
                self.city.grids = load_index(session)
                log.info("grid version %s loaded", stored)

    @contextmanager
    def working_for(self, principal, ip: str | None):
        """One unit of work on behalf of a signed-in principal: yields (uow, now), commits on leaving the
        block (the audit rows carry the principal's role and address), then asks for the outbox relay."""
        now = self.clock()
        with UnitOfWork(self.sessions) as uow:
            uow.actor_role, uow.ip = str(principal.role), ip
            yield uow, now
            uow.commit(now)
        self.after_commit()

    def act(self, uow: UnitOfWork, incident_id: str, action: Action, req: ActionRequest, *, principal, now: datetime):
        """One lifecycle action for a signed-in person, through the workflow of the whole loop
        (dispatcher/handling/workflow.py): role, scope, evidence, approvals, notifications."""
        policy = Policy(spot_check_rate=self.settings.spot_check_rate)
        return perform(
            uow,
            self.city,
            incident_id,
            action,
            req,
            actor=principal.username,
            now=now,
            principal=principal,
            policy=policy,
        )

    def after_commit(self) -> None:
        """Wake every web process's outbox delivery (one PUBLISH); with Redis away their timers deliver anyway,
        and the worker's ticker handles the new rows (deadline timers) on its own period."""
        announce(self.redis)

    def _ping_database(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def health(self) -> dict:
        """Database, Redis, workers and the worker's outbox lag, as /health reports it (dashboard/health.py adds this
        process's delivery): "down" without the database; "degraded" without Redis, without a live worker (when
        there is a Redis for one) or when an event waits longer than `settings.health_lag_s`."""
        timeout = float(self.settings.db_connect_timeout_s)
        checks: dict = {
            "database": _check(self._ping_database, timeout),
            "redis": "absent" if self.redis is None else _check(self.redis.ping, timeout),
        }
        problems = [] if checks["redis"] in ("ok", "absent") else ["redis"]
        if checks["database"] == "ok":
            checks["outbox"] = bounded(self._outbox_lag, timeout) or {"state": "unknown"}
            if checks["outbox"].get("lag_s", 0) > self.settings.health_lag_s:
                problems.append("outbox lag")
        if checks["redis"] == "ok":
            checks["workers"] = bounded(self._workers, timeout) or {"state": "unknown"}
            if not checks["workers"].get("alive"):
                problems.append("no worker")
        status = "down" if checks["database"] != "ok" else "degraded" if problems else "ok"
        return {
            "status": status,
            "problems": problems,
            **checks,
            "grid_version": self.city.grids.version,
            "web": web_process(),
        }

    def _outbox_lag(self) -> dict:
        """How many events the worker has not handled yet and the age of the oldest (its timers wait for it)."""
        with self.sessions() as session:
            oldest = outbox.oldest_pending_at(session)
            pending = outbox.count_pending(session) if oldest is not None else 0
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        lag = max(0.0, (self.clock() - oldest).total_seconds()) if oldest is not None else 0.0
        return {"pending": pending, "lag_s": round(lag, 3)}

    def _workers(self) -> dict:
        """Workers whose ticker beat within `settings.worker_heartbeat_s`, RQ's own registrations (its heartbeat
        moves only between jobs and dequeue waits), and the queue depth."""
        assert self.redis is not None
        now = time.time()
        alive = self.redis.zrangebyscore(keys.WORKER_BEATS, now - self.settings.worker_heartbeat_s, "+inf")
        registered = [
            {
                "name": worker.name,
                "state": str(worker.get_state()),
                "heartbeat_s_ago": round(now - worker.last_heartbeat.timestamp(), 1) if worker.last_heartbeat else None,
            }
            for worker in Worker.all(connection=self.redis)
        ]
        depth = self.queue.count if self.queue is not None else 0
        return {"alive": len(alive), "names": sorted(a.decode() for a in alive), "rq": registered, "queue": depth}


def web_process() -> dict:
    """Which web process answered (behind a proxy several do) and how it serves: gevent or OS threads."""
    try:
        from gevent import monkey

        patched = monkey.is_module_patched("socket")
    except ImportError:  # pragma: no cover - gevent is a dependency
        patched = False
    return {"pid": os.getpid(), "concurrency": "gevent" if patched else "threads"}


def _check(probe: Callable[[], object], timeout: float | None = None) -> str:
    """Return "ok" or "down: <error>"; with a timeout, a probe still hanging after it (a frozen server) is "down" too."""
    if timeout is not None:
        answer = bounded(lambda: _check(probe), timeout)
        return answer if answer is not None else f"down: no answer within {timeout:.0f} s"
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure of a dependency is reported, never raised
        return f"down: {type(exc).__name__}"


def bounded(probe: Callable[[], T], timeout: float) -> T | None:
    """The probe's answer, or None when it has not answered within `timeout` (it runs on in the background: a
    socket stuck on a stopped server cannot be interrupted, but /health answers). A thread, or a greenlet once
    gevent has patched threading."""
    result: list[T] = []

    def run() -> None:
        try:
            result.append(probe())
        except Exception as exc:
            log.warning("health probe failed: %s", exc)

    thread = threading.Thread(target=run, daemon=True, name="gridcommand-health-probe")
    thread.start()
    thread.join(timeout)
    return result[0] if result else None


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the database and Redis and load the city from the stored grids."""
    engine = make_engine(
        settings.database_url,
        connect_timeout_s=settings.db_connect_timeout_s,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    sessions = make_sessions(engine)
    with sessions() as session:
        grids = load_index(session)
    conn = connect(settings.redis_url) if settings.redis_url else None
    queue = Queue(settings.queue_name, connection=conn) if conn is not None else None
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=sessions,
        city=load_city(settings.data_dir, grids),
        redis=conn,
        queue=queue,
    )


RUNTIME_KEY = "gridcommand"  # the one place the web layer keeps its runtime (Flask's extensions registry)


def install_runtime(app: Flask, runtime: Runtime) -> None:
    """Make `runtime` the runtime of `app` (done once, by the app factory)."""
    app.extensions[RUNTIME_KEY] = runtime


def runtime_of(app: Flask) -> Runtime:
    """The runtime of `app`."""
    return app.extensions[RUNTIME_KEY]


def current_runtime() -> Runtime:
    """The runtime of the app serving the current request or callback."""
    return runtime_of(current_app)
