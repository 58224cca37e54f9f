"""Delivery that cannot silently lose or stall, and health that tells the truth (issue 12 items 3 and 4), with the
faults injected for real: a private redis-server killed and restarted while events are created, a worker process
killed with SIGKILL, a database that accepts connections and never answers (what a SIGSTOPped PostgreSQL does)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
from pydantic import SecretStr
from rq import Queue
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from dashboard.delivery import delivery_of
from dashboard.runtime import Runtime, runtime_of
from dispatcher.store.db import make_engine, make_sessions
from tests.conftest import ActingClient, unavailable
from tests.integration.helpers import report
from tests.integration.test_realtime_auth import Listener, _serve, signed_in
from tests.integration.test_scope_matrix import make_account
from workers.redis_server import connect

RESUME_S = 5.0  # pushes resume within this after Redis returns
DEGRADED_S = 10.0  # /health says degraded within this after the last worker died
FROZEN_S = 5.0  # a frozen database gives 503 within this


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PrivateRedis:
    """A redis-server of this test on a free port, to kill and start again."""

    def __init__(self, tmp_path):
        self.port, self.dir = _free_port(), tmp_path
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "", "--appendonly", "no"],
            cwd=self.dir,
            stdout=subprocess.DEVNULL,
        )
        client = connect(self.url)
        deadline = time.monotonic() + 10
        while True:
            try:
                client.ping()
                return
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def private_redis(tmp_path):
    if shutil.which("redis-server") is None:
        unavailable("redis-server", FileNotFoundError("not on PATH"))  # a failure in CI, a skip elsewhere
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.kill()


@pytest.fixture
def served(app, private_redis, tokens):
    """The app (Dash + Socket.IO) over HTTP with the private Redis as its message queue and wake-up."""
    from dashboard.app import create_server

    base_runtime = runtime_of(app)
    settings = base_runtime.settings.model_copy(update={"redis_url": private_redis.url, "delivery_poll_s": 0.5})
    conn = connect(private_redis.url)
    runtime = Runtime(
        settings=settings,
        engine=base_runtime.engine,
        sessions=base_runtime.sessions,
        city=base_runtime.city,
        redis=conn,
        queue=Queue(settings.queue_name, connection=conn),
        clock=base_runtime.clock,
    )
    server = create_server(settings, runtime)
    server.testing = True
    server.test_client_class = type("Client", (ActingClient,), {"tokens": tokens})
    for base, socketio in _serve(server, settings):
        yield server, base, socketio


def _two_room_listener(served, db, city):
    """A client whose scope gives it two rooms every test event is in: its district and its department."""
    server, base, _ = served
    _, _, sessions = db
    first = report(server.test_client(), city, unit_index=5).json
    with sessions() as session:
        scope = session.execute(
            text("SELECT scope FROM outbox WHERE incident_id = :i ORDER BY id LIMIT 1"), {"i": first["id"]}
        ).scalar_one()
    scope = scope if isinstance(scope, list) else json.loads(scope)
    department = next(room.split(":", 1)[1] for room in scope if room.startswith("dept:"))
    principal, _ = make_account(sessions, "dispatcher", "330199", department)
    listener = Listener(signed_in(base, principal.username))
    listener.connect(base)
    return listener, department


def _incidents(listener) -> list[int]:
    return [data["seq"] for name, data in list(listener.received) if name == "incident"]


def _wait_for(predicate, seconds: float) -> float:
    """Seconds until `predicate()` held (raises AssertionError after `seconds`)."""
    started = time.monotonic()
    while not predicate():
        assert time.monotonic() - started < seconds, "timed out"
        time.sleep(0.05)
    return time.monotonic() - started


def _outbox_after(db, after: int) -> list[int]:
    _, _, sessions = db
    with sessions() as session:
        return list(session.scalars(text("SELECT id FROM outbox WHERE id > :a ORDER BY id"), {"a": after}))


def test_redis_outage_loses_no_event_and_a_client_in_two_rooms_gets_each_once(served, db, city, private_redis):
    server, base, socketio = served
    listener, department = _two_room_listener(served, db, city)
    try:
        rooms = set(socketio.server.rooms(listener.client.get_sid("/"), namespace="/"))
        assert {"grid:330199", f"dept:{department}"} <= rooms
        delivery = delivery_of(server)
        _wait_for(lambda: delivery.cursor is not None and delivery.subscribed, 5)
        start = delivery.cursor
        creator = server.test_client()

        def create(n: int) -> None:
            for i in range(n):
                assert report(creator, city, unit_index=10 + i).status_code == 201

        create(5)  # Redis up: woken by the signal
        _wait_for(lambda: len(_incidents(listener)) >= len(_outbox_after(db, start)), 5)

        private_redis.kill()  # Redis gone: creation still succeeds, the timer still delivers
        create(10)
        during = _wait_for(lambda: len(_incidents(listener)) >= len(_outbox_after(db, start)), 5)
        assert not delivery.subscribed

        private_redis.start()  # Redis back: the wake-up and the message queue listen again within RESUME_S
        back = time.monotonic()
        create(5)
        after = _wait_for(lambda: len(_incidents(listener)) >= len(_outbox_after(db, start)), RESUME_S)
        _wait_for(
            lambda: delivery.subscribed and socketio.server.manager.listening, RESUME_S - (time.monotonic() - back)
        )
        print(
            f"\nRedis down: last of 10 events delivered {during:.2f} s after the last commit; Redis back: "
            f"5 events delivered {after:.2f} s after the last commit; subscribed again {time.monotonic() - back:.2f} s"
            " after Redis started"
        )

        time.sleep(1.0)  # anything sent twice would have arrived by now
        expected = _outbox_after(db, start)
        received = Counter(_incidents(listener))
        assert len(expected) >= 20
        assert sorted(received) == expected, "every event exactly once"
        assert max(received.values()) == 1
        health = server.test_client().get("/health").json
        assert health["delivery"]["state"] == "running" and health["delivery"]["behind"] == 0
    finally:
        listener.close()


def test_without_a_worker_health_is_degraded_within_10_s(served, db, private_redis, tmp_path):
    server, _, _ = served
    url = runtime_of(server).settings.database_url
    http = server.test_client()
    health = http.get("/health").json
    assert health["status"] == "degraded" and "no worker" in health["problems"]  # never started one
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "REDIS_URL": private_redis.url,
        "GRIDCOMMAND_RELAY_INTERVAL_S": "0.5",
        "GRIDCOMMAND_VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "worker"], env=env)
    try:
        _wait_for(lambda: http.get("/health").json["status"] == "ok", 30)
        assert http.get("/health").json["workers"]["alive"] == 1
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        took = _wait_for(lambda: http.get("/health").json["status"] == "degraded", DEGRADED_S)
        assert "no worker" in http.get("/health").json["problems"]
        print(f"\nworker killed -> /health degraded after {took:.1f} s")
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)


class Silent:
    """A TCP server that accepts connections and never answers: a stopped (SIGSTOP) database server looks like
    this to its clients (the kernel completes the handshake, nothing replies)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        for conn in self.held:
            conn.close()
        self.sock.close()


def test_a_frozen_database_gives_503_within_5_s_and_health_recovers(app, db, city):
    silent = Silent()
    try:
        frozen = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent.port}/x", connect_timeout_s=2)
        started = time.monotonic()
        with pytest.raises(OperationalError), frozen.connect() as connection:
            connection.execute(text("SELECT 1"))
        assert time.monotonic() - started < FROZEN_S  # the connect timeout, not the OS's minutes

        runtime = runtime_of(app)
        good_engine, good_sessions = runtime.engine, runtime.sessions
        runtime.engine, runtime.sessions = frozen, make_sessions(frozen)
        started = time.monotonic()
        answer = app.test_client().get("/health")
        assert answer.status_code == 503 and answer.json["status"] == "down"
        assert time.monotonic() - started < FROZEN_S
        runtime.engine, runtime.sessions = good_engine, good_sessions  # the database is back: so is /health
        assert app.test_client().get("/health").status_code == 200
    finally:
        silent.close()


def test_a_hanging_statement_is_cut_by_the_statement_timeout(pg_url):
    engine = make_engine(pg_url, connect_timeout_s=2, statement_timeout_ms=500)
    try:
        started = time.monotonic()
        with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as connection:
            connection.execute(text("SELECT pg_sleep(10)"))
        assert time.monotonic() - started < 2
        with engine.connect() as connection:  # and the next statement runs
            assert connection.execute(text("SELECT 1")).scalar_one() == 1
    finally:
        engine.dispose()


def test_a_stopped_database_server_ends_a_query_in_flight_and_the_pool_recovers(pg_url):
    """SIGSTOP the server process of our connection while its query runs: neither TCP nor the server's statement
    timeout can end it, the client's deadline (statement timeout + grace) does; the next use gets a fresh one."""
    engine = make_engine(pg_url, connect_timeout_s=2, statement_timeout_ms=1000)
    try:
        with engine.connect() as connection:
            backend_pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
            threading.Timer(0.3, os.kill, (backend_pid, signal.SIGSTOP)).start()
            started = time.monotonic()
            try:
                with pytest.raises(OperationalError, match="did not answer within 2 s"):
                    connection.execute(text("SELECT pg_sleep(0.6)"))
                took = time.monotonic() - started
            finally:
                time.sleep(0.4)  # the timer has fired by now
                os.kill(backend_pid, signal.SIGCONT)
        assert took < FROZEN_S
        with engine.connect() as connection:  # the dead connection left the pool; a new one answers
            assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend_pid
    finally:
        engine.dispose()


def test_a_frozen_database_answers_a_request_within_5_s_with_health_bounded(app, monkeypatch):
    """Even a probe stuck for good (a stopped server holding an open connection) gives /health its answer."""
    runtime = runtime_of(app)
    monkeypatch.setattr(type(runtime), "_ping_database", lambda self: time.sleep(30))
    started = time.monotonic()
    answer = app.test_client().get("/health")
    assert answer.status_code == 503 and "no answer" in answer.json["database"]
    assert time.monotonic() - started < FROZEN_S


def test_metrics_need_the_token_or_an_allowed_network_and_report_load(served, db, city, private_redis):
    server, base, _ = served
    runtime = runtime_of(server)
    creator = server.test_client()
    assert report(creator, city).status_code == 201
    local = server.test_client().get("/metrics")  # the test client comes from 127.0.0.1: allowed by default
    assert local.status_code == 200 and local.mimetype == "text/plain"
    body = local.get_data(as_text=True)
    for name in (
        "gridcommand_http_request_duration_seconds_bucket",
        "gridcommand_outbox_pending",
        "gridcommand_outbox_lag_seconds",
        "gridcommand_rq_queue_depth",
        "gridcommand_workers_alive",
        "gridcommand_connected_sockets",
        "gridcommand_osmand_fixes",
    ):
        assert name in body, name
    assert 'route="/api/v1/incidents"' in body  # by route pattern, never the raw path

    outside = {"REMOTE_ADDR": "203.0.113.9"}
    assert server.test_client().get("/metrics", environ_base=outside).status_code == 403
    settings = runtime.settings.model_copy(update={"metrics_token": SecretStr("s3cret-metrics-token-of-some-length")})
    runtime.settings = settings
    anonymous = server.test_client()
    wrong = {"Authorization": "Bearer nope"}
    assert anonymous.get("/metrics", environ_base=outside, headers=wrong).status_code == 403
    right = {"Authorization": "Bearer s3cret-metrics-token-of-some-length"}
    assert anonymous.get("/metrics", environ_base=outside, headers=right).status_code == 200


def test_a_worker_survives_redis_dropping_and_beats_again_soon_after_it_returns(served, private_redis, tmp_path):
    server, _, _ = served
    http = server.test_client()
    env = {
        **os.environ,
        "DATABASE_URL": runtime_of(server).settings.database_url,
        "REDIS_URL": private_redis.url,
        "GRIDCOMMAND_RELAY_INTERVAL_S": "0.5",
        "GRIDCOMMAND_VAR_DIR": str(tmp_path),
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "worker"], env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL
    )
    try:
        _wait_for(lambda: http.get("/health").json.get("workers", {}).get("alive") == 1, 30)
        private_redis.kill()
        time.sleep(4)  # RQ's loop, its scheduler and the ticker all lose Redis meanwhile
        assert worker.poll() is None, "the worker exited when Redis dropped"
        private_redis.start()
        back = time.monotonic()
        _wait_for(lambda: http.get("/health").json.get("workers", {}).get("alive") == 1, RESUME_S)
        assert worker.poll() is None
        print(f"\nworker beating again {time.monotonic() - back:.2f} s after Redis returned")
    finally:
        worker.kill()
        worker.wait(timeout=10)
