"""The outbox relay and sweeps against a real Redis: every committed event is pushed once, nothing is lost."""

import json
import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
import redis as redis_lib
from rq import Queue

from dashboard.runtime import runtime_of
from dispatcher.settings import get_settings
from tests.conftest import T0
from tests.integration.helpers import count, report
from workers import context, jobs, keys, timers


@pytest.fixture
def worker_env(db, redis_url, monkeypatch):
    """Point the worker context at the test database and Redis."""
    url, engine, _ = db
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", redis_url)
    get_settings.cache_clear()
    context.worker_context.cache_clear()
    yield url, engine, redis_url
    get_settings.cache_clear()
    context.worker_context.cache_clear()


def _listen(redis_url):
    pubsub = redis_lib.Redis.from_url(redis_url).pubsub()
    pubsub.subscribe(keys.socketio_channel(redis_url))
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    return pubsub


def _drain(pubsub, seconds=1.0):
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            messages.append(json.loads(message["data"]))
    return messages


def test_relay_handles_each_event_once_and_pushes_nothing_itself(client, city, worker_env):
    """The worker's outbox run schedules timers and marks events handled; browsers get events from the web
    processes' own delivery (tests/integration/test_delivery.py), so nothing the worker does can lose a push."""
    _, engine, redis_url = worker_env
    ids = [report(client, city, unit_index=i).json["id"] for i in (1, 2, 3)]
    pubsub = _listen(redis_url)
    assert jobs.relay_outbox() == 3
    assert [m for m in _drain(pubsub, 0.5) if m["event"] == "incident"] == []
    assert count(engine, "outbox", "published_at IS NULL") == 0
    assert jobs.relay_outbox() == 0  # idempotent: nothing handled twice
    assert len(ids) == 3


def test_relay_with_redis_down_keeps_every_event_pending(client, city, db, monkeypatch):
    """Timers cannot be scheduled without Redis: the events stay pending (the sweep and the next run catch up)."""
    url, engine, _ = db
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    get_settings.cache_clear()
    context.worker_context.cache_clear()
    try:
        report(client, city)
        with pytest.raises(redis_lib.RedisError):
            jobs.relay_outbox()
        assert count(engine, "outbox", "published_at IS NULL") == 1
    finally:
        get_settings.cache_clear()
        context.worker_context.cache_clear()


def test_overdue_sweep_flags_each_late_incident_once(client, city, worker_env):
    _, engine, _ = worker_env
    incident = report(client, city).json
    assert timers.sweep_timers(now=T0) == 0
    later = T0 + timedelta(days=5)
    assert timers.sweep_timers(now=later) == 1
    assert timers.sweep_timers(now=later + timedelta(hours=1)) == 0
    entries = client.get(f"/api/v1/incidents/{incident['id']}/timeline").json["entries"]
    assert entries[-1]["action"] == "overdue" and entries[-1]["to_status"] == "reported"
    assert count(engine, "outbox", "name = 'incident.overdue'") == 1


def test_api_commit_wakes_the_web_tier_and_a_separate_worker_process_handles_it(app, client, city, worker_env):
    """The production path: the web process signals "new events" on Redis after commit; `gridcommand worker`
    (another process) handles every outbox row on its ticker, with no queued relay job and no flag."""
    url, engine, redis_url = worker_env
    runtime = runtime_of(app)
    runtime.redis = redis_lib.Redis.from_url(redis_url)
    runtime.queue = Queue(get_settings().queue_name, connection=runtime.redis)
    signals = redis_lib.Redis.from_url(redis_url).pubsub()
    signals.subscribe(keys.outbox_signal(runtime.redis))
    signals.get_message(timeout=1)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "GRIDCOMMAND_RELAY_INTERVAL_S": "0.5"}
    worker = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "worker"], env=env)
    try:
        client = app.test_client()
        for i in range(20):
            report(client, city, unit_index=i)
        woken = 0
        while signals.get_message(timeout=0.5) is not None:
            woken += 1
        assert woken == 20  # one wake-up per commit
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and count(engine, "outbox", "published_at IS NULL"):
            time.sleep(0.2)
        assert count(engine, "outbox", "published_at IS NULL") == 0
        assert not runtime.redis.exists("gridcommand:relay-requested")  # no flag whose loss could stall anything
    finally:
        worker.terminate()
        worker.wait(timeout=10)
