"""What a job needs (database sessions, Redis, the pusher), built once per worker process from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import redis
from rq import Queue
from sqlalchemy.orm import Session, sessionmaker

from dispatcher.access.audit import install_audit_key
from dispatcher.city.loader import City, load_city
from dispatcher.settings import get_settings
from dispatcher.store import cipher
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import load_index
from workers.push import Pusher
from workers.redis_server import connect


@dataclass(frozen=True)
class WorkerContext:
    sessions: sessionmaker[Session]
    redis: redis.Redis
    queue: Queue
    pusher: Pusher


@lru_cache(maxsize=1)
def worker_context() -> WorkerContext:
    """The context of this process (jobs run in forked children that inherit nothing open)."""
    settings = get_settings()
    if not settings.redis_url:
        raise RuntimeError("REDIS_URL is not set: workers need the Redis the web process uses")
    cipher.install_key(settings.key("pii_key"))
    install_audit_key(settings.key("audit_key"), settings.audit_checkpoint_file)
    conn = connect(settings.redis_url)
    return WorkerContext(
        sessions=make_sessions(make_engine(settings.database_url, pool_size=2)),
        redis=conn,
        queue=Queue(settings.queue_name, connection=conn),
        pusher=Pusher(settings.redis_url),
    )


@lru_cache(maxsize=1)
def worker_city() -> City:
    """The city's rules for the jobs that act on cases (timers), with the stored grids."""
    with worker_context().sessions() as session:
        grids = load_index(session)
    return load_city(get_settings().data_dir, grids)
