"""The web process's runtime: settings, database, the loaded city, Redis and the job queue."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import redis
from flask import Flask, current_app
from rq import Queue
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
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import current_version, load_index
from workers.jobs import request_relay
from workers.positions import PositionStore
from workers.redis_server import connect

log = logging.getLogger(__name__)
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
        if time.monotonic() - self._devices_loaded > DEVICE_CACHE_S:
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
        """Ask the worker to relay the new outbox rows; if Redis is away the periodic sweep catches up."""
        if self.queue is None:
            return
        try:
            request_relay(self.queue, self.redis)
        except redis.RedisError:
            log.warning("Redis unavailable: outbox events wait for the next sweep")

    def _ping_database(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def health(self) -> dict:
        """Database and Redis state, as /health reports it."""
        checks = {
            "database": _check(self._ping_database),
            "redis": "absent" if self.redis is None else _check(self.redis.ping),
        }
        status = "down" if checks["database"] != "ok" else "ok" if checks["redis"] == "ok" else "degraded"
        return {"status": status, **checks, "grid_version": self.city.grids.version}


def _check(probe: Callable[[], object]) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure of a dependency is reported, never raised
        return f"down: {type(exc).__name__}"


def build_runtime(settings: Settings) -> Runtime:
    """Connect to the database and Redis and load the city from the stored grids."""
    engine = make_engine(settings.database_url)
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
