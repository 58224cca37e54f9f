"""How the product is served (issue 12, items 1–2): trusted proxies through ProxyFix, the settings handed to the
gunicorn child, the server chosen per database, and a real `gridcommand serve --workers 2` (gunicorn + gevent on
PostgreSQL) answering from two processes and stopping cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import pytest
import sqlalchemy as sa
from flask import jsonify, request

from dashboard.cli.run import gunicorn_command, serving_settings, settings_environment
from dashboard.runtime import runtime_of
from dispatcher.settings import Settings
from tests.conftest import DEMO_GRIDS, _reset_pg_schema

FORWARDED = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https", "X-Forwarded-Host": "city.example.gov.cn"}


def _server(app, **updates):
    from dashboard.app import create_server

    runtime = runtime_of(app)
    server = create_server(runtime.settings.model_copy(update=updates), runtime)

    @server.get("/_whoami")
    def _whoami():
        return jsonify(ip=request.remote_addr, scheme=request.scheme, host=request.host, secure=request.is_secure)

    server.testing = True
    return server


def test_forwarded_headers_are_ignored_without_trusted_proxies(app):
    who = _server(app).test_client().get("/_whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert who == {"ip": "10.0.0.2", "scheme": "http", "host": "localhost", "secure": False}


def test_one_trusted_proxy_gives_the_client_address_scheme_and_host(app):
    server = _server(app, trusted_proxies=1)
    response = server.test_client().get("/_whoami", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"})
    assert response.json == {"ip": "203.0.113.9", "scheme": "https", "host": "city.example.gov.cn", "secure": True}
    assert "Strict-Transport-Security" in response.headers  # https as the client used it


def test_a_forged_hop_before_the_proxy_is_not_believed(app):
    """The client sends its own X-Forwarded-For; nginx appends the real peer; one trusted hop takes the last."""
    server = _server(app, trusted_proxies=1)
    headers = {"X-Forwarded-For": "198.51.100.1, 203.0.113.9"}
    who = server.test_client().get("/_whoami", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}).json
    assert who["ip"] == "203.0.113.9"


def test_csrf_accepts_the_public_origin_behind_the_proxy_and_cookies_are_secure(app):
    server = _server(app, trusted_proxies=1, public_url="https://city.example.gov.cn")
    assert server.config["SESSION_COOKIE_SECURE"] is True
    client = server.test_client()
    answer = client.post(
        "/api/v1/auth/login",
        json={"username": "nobody", "password": "wrong"},
        headers={**FORWARDED, "Origin": "https://city.example.gov.cn"},
    )
    assert answer.status_code == 401  # reached the sign-in check: not refused as cross-origin
    foreign = client.post(
        "/api/v1/auth/login",
        json={"username": "nobody", "password": "wrong"},
        headers={**FORWARDED, "Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403


def test_trusted_proxies_is_a_hop_count_from_the_environment(monkeypatch):
    monkeypatch.setenv("GRIDCOMMAND_TRUSTED_PROXIES", "2")
    assert Settings().trusted_proxies == 2
    monkeypatch.setenv("GRIDCOMMAND_TRUSTED_PROXIES", "-1")
    with pytest.raises(ValueError):
        Settings()


def test_the_worker_class_follows_the_database():
    sqlite = Settings(DATABASE_URL="sqlite:////tmp/x.sqlite")
    postgres = Settings(DATABASE_URL="postgresql+psycopg://u@h/db")
    assert sqlite.web_worker == "gthread" and postgres.web_worker == "gevent"
    command = gunicorn_command(postgres, "127.0.0.1", 8050)
    assert command[command.index("--worker-class") + 1] == "gevent"
    assert command[-1] == "dashboard.app:wsgi()" and "--no-control-socket" in command
    assert command[command.index("--forwarded-allow-ips") + 1] == ""  # ProxyFix alone decides
    forced = serving_settings(sqlite, workers=None, worker_class="gevent")
    assert forced.web_worker == "gevent"


def test_several_processes_accept_websocket_only():
    one = serving_settings(Settings(), workers=None, worker_class=None)
    two = serving_settings(Settings(), workers=2, worker_class=None)
    assert "polling" in one.socket_transports and two.socket_transports == ["websocket"]


def test_the_child_process_reads_back_every_setting(monkeypatch):
    chosen = Settings(DATABASE_URL="postgresql+psycopg://u@h/db", REDIS_URL="redis://127.0.0.1:1/0").model_copy(
        update={"demo_mode": True, "socket_transports": ["websocket"], "trusted_proxies": 1, "web_workers": 3}
    )
    env = settings_environment(chosen)
    for name in list(os.environ):
        monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert Settings() == chosen


# --- a real `gridcommand serve --workers 2` -----------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.redis
def test_serve_runs_two_gevent_processes_and_stops_on_sigterm(pg_url, tmp_path):
    """PostgreSQL: gunicorn + gevent, two processes on one port, bundled Redis and a worker; SIGTERM stops all."""
    url = sa.make_url(pg_url)
    database = url.set(database=f"{url.database}_serve").render_as_string(hide_password=False)
    from tests.conftest import _ensure_pg_database

    _ensure_pg_database(database)
    engine = sa.create_engine(database)
    _reset_pg_schema(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=database, GRIDCOMMAND_VAR_DIR=str(tmp_path / "var"))
    for command in (["db", "upgrade"], ["import-grids", str(DEMO_GRIDS)]):
        subprocess.run([sys.executable, "-m", "dashboard.cli", *command], env=env, check=True, capture_output=True)
    port = _free_port()
    log = open(tmp_path / "serve.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port), "--workers", "2"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        pids, deadline = set(), time.monotonic() + 120
        while len(pids) < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    health = json.load(response)
                    assert response.headers["Server"] == "GridCommand"
                if health["redis"] == "ok":
                    assert health["web"]["concurrency"] == "gevent"
                    pids.add(health["web"]["pid"])
            except OSError:
                time.sleep(0.2)
        assert len(pids) == 2, f"one port, two processes: saw {pids}"
        children = _descendants(proc.pid)
        assert len(children) >= 4  # gunicorn master + 2 workers, the RQ worker (and the bundled Redis)
        t0 = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
        stopped_in = time.monotonic() - t0
        time.sleep(0.5)
        assert [pid for pid in children if _alive(pid)] == [], "a child outlived `serve`"
        assert stopped_in < 20
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        child, parent = map(int, line.split())
        children.setdefault(parent, []).append(child)
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is gone in all but name
        return stat.read().split()[2] != "Z"
