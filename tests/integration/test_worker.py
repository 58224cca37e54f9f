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
from workers import context, jobs, timers
from workers.push import CHANNEL


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
    pubsub.subscribe(CHANNEL)
    pubsub.get_message(timeout=1)  # the subscribe confirmation
    return pubsub


def _drain(pubsub, seconds=1.0):
    messages, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            messages.append(json.loads(message["data"]))
    return messages


def test_relay_pushes_each_event_to_its_rooms_once(client, city, worker_env):
    _, engine, redis_url = worker_env
    ids = [report(client, city, unit_index=i).json["id"] for i in (1, 2, 3)]
    pubsub = _listen(redis_url)
    assert jobs.relay_outbox() == 3
    messages = [m for m in _drain(pubsub) if m["event"] == "incident" and m["data"][0]["incident_id"] in ids]
    seqs = {m["data"][0]["seq"] for m in messages}
    assert {m["data"][0]["incident_id"] for m in messages} == set(ids) and len(seqs) == 3
    rooms = {m["room"] for m in messages}
    assert "all" in rooms and f"grid:{city.grids.by_level('unit')[1].code}" in rooms
    assert count(engine, "outbox", "published_at IS NULL") == 0
    assert jobs.relay_outbox() == 0  # idempotent: nothing pushed twice
    assert [m for m in _drain(pubsub, 0.3) if m["event"] == "incident" and m["data"][0]["incident_id"] in ids] == []


def test_relay_with_redis_down_keeps_every_event_pending(client, city, db, monkeypatch):
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


def test_api_commit_reaches_redis_through_a_separate_worker_process(app, client, city, worker_env):
    """The production path: web enqueues, `gridcommand worker` (another process) relays to the Socket.IO channel."""
    url, engine, redis_url = worker_env
    runtime = runtime_of(app)
    runtime.redis = redis_lib.Redis.from_url(redis_url)
    runtime.queue = Queue(get_settings().queue_name, connection=runtime.redis)
    pubsub = _listen(redis_url)
    env = {**os.environ, "DATABASE_URL": url, "REDIS_URL": redis_url, "GRIDCOMMAND_RELAY_INTERVAL_S": "0.5"}
    worker = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "worker"], env=env)
    try:
        client = app.test_client()
        ids = {report(client, city, unit_index=i).json["id"] for i in range(20)}
        deadline, seen = time.monotonic() + 15, set()
        while time.monotonic() < deadline and seen != ids:
            seen |= {
                m["data"][0]["incident_id"]
                for m in _drain(pubsub, 0.5)
                if m["room"] == "all" and m["event"] == "incident"
            } & ids
        assert seen == ids
        assert count(engine, "outbox", "published_at IS NULL") == 0
    finally:
        worker.terminate()
        worker.wait(timeout=10)
