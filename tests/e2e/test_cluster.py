"""The scale-out shape end to end: `gridcommand cluster` = nginx in front of two web processes (gunicorn + gevent),
two RQ workers, PostgreSQL + PostGIS and a Redis, as plain processes. A browser and python-socketio clients go
through the proxy; an incident created on web process A reaches clients connected to web process B.

nginx is Debian's (`apt-get install -y nginx`; scripts/test installs it): missing, it fails in CI and skips
elsewhere, like PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
import sqlalchemy as sa
import yaml

from dispatcher.settings import REPO_ROOT
from tests.conftest import IN_CI, PG_URL, _ensure_pg_database, _reset_pg_schema, unavailable
from tests.e2e.conftest import (
    DEMO_GRIDS,
    DEMO_ROSTER,
    E2E_ACCOUNTS,
    E2E_PASSWORD,
    Watched,
    _cli,
    _free_port,
    _seed_accounts,
)

pytestmark = [pytest.mark.browser, pytest.mark.postgres]
START_TIMEOUT_S = 180  # two web processes, two workers and nginx on a loaded 2-core machine
PUSH_S = 5.0  # an event created on A reaches clients on B (and through the proxy) within this


def _cluster_database() -> str:
    url = sa.make_url(PG_URL)
    return url.set(database=f"{url.database}_cluster").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """`gridcommand cluster` (2 web, 2 workers, nginx, bundled Redis) over a fresh PostGIS database with the demo
    city and the e2e accounts; yields its state (proxy URL, web URLs, pids) with the shift leader's token."""
    if shutil.which("nginx") is None and shutil.which("nginx", path="/usr/sbin:/sbin") is None:
        message = "nginx is missing (apt-get install -y nginx)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    database = _cluster_database()
    try:
        _ensure_pg_database(database)
        engine = sa.create_engine(database)
        _reset_pg_schema(engine)
        engine.dispose()
    except Exception as exc:
        unavailable("PostgreSQL", exc)
    root = tmp_path_factory.mktemp("cluster")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "GRIDCOMMAND_PUBLIC_URL")}
    env.update(
        DATABASE_URL=database,
        GRIDCOMMAND_VAR_DIR=str(root / "var"),
        GRIDCOMMAND_RELAY_INTERVAL_S="0.5",
        GRIDCOMMAND_RATE_LIMIT_LOGIN="1000/minute",
        PYTHONUNBUFFERED="1",
    )
    _cli("db", "upgrade", env=env)
    _cli("import-grids", str(DEMO_GRIDS), env=env)
    _cli("import-officers", str(DEMO_ROSTER), env=env)
    token = _seed_accounts(database)
    port, state_file = _free_port(), root / "cluster.json"
    log = open(root / "cluster.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "cluster", "--port", str(port), "--state-file", str(state_file)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not state_file.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                tail = (root / "cluster.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"gridcommand cluster did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.3)
        state = json.loads(state_file.read_text())
        state["token"] = token
        yield state
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def _get(url: str, headers: dict | None = None) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return json.load(response)


def _report(base: str, token: str, description: str, point: tuple[float, float]) -> dict:
    body = {"description": description, "category_code": "020101", "lon": point[0], "lat": point[1]}
    request = urllib.request.Request(
        base + "/api/v1/incidents",
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _sign_in(base: str) -> str:
    import requests

    r = requests.post(
        f"{base}/api/v1/auth/login",
        headers={"Origin": base},
        json={"username": E2E_ACCOUNTS["dispatcher"]["username"], "password": E2E_PASSWORD},
        timeout=10,
    )
    assert r.status_code == 200, r.text
    return r.cookies["session"]


class Listener:
    """A python-socketio client signed in as the e2e dispatcher, recording the incident ids pushed to it."""

    def __init__(self):
        import socketio

        self.seen: set[str] = set()
        self.arrived = threading.Condition()
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.sio.on("incident", self._incident)

    def _incident(self, message) -> None:
        with self.arrived:
            if isinstance(message, dict):
                self.seen.add(str(message.get("incident_id")))
            self.arrived.notify_all()

    def connect(self, base: str, cookie: str, transports: list[str] | None = None) -> None:
        self.sio.connect(
            base, headers={"Cookie": f"session={cookie}"}, transports=transports or ["websocket"], wait_timeout=10
        )

    def wait_for(self, incident_id: str, timeout_s: float) -> bool:
        with self.arrived:
            return self.arrived.wait_for(lambda: incident_id in self.seen, timeout=timeout_s)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.sio.disconnect()


def test_the_proxy_spreads_requests_over_both_gevent_web_processes(cluster):
    direct = {_get(url + "/health")["web"]["pid"] for url in cluster["web"]}
    assert len(direct) == 2
    seen = set()
    for _ in range(12):
        health = _get(cluster["proxy"] + "/health")
        assert health["status"] == "ok" and health["web"]["concurrency"] == "gevent"
        seen.add(health["web"]["pid"])
    assert seen == direct  # round robin: no stickiness needed with WebSocket-only sockets


def test_an_event_created_on_process_a_reaches_clients_on_process_b_and_through_the_proxy(cluster, community_points):
    web_a, web_b = cluster["web"]
    cookie = _sign_in(cluster["proxy"])  # sessions live in the database: valid on every process
    on_b, via_proxy = Listener(), Listener()
    try:
        on_b.connect(web_b, cookie)
        via_proxy.connect(cluster["proxy"], cookie)
        incident = _report(web_a, cluster["token"], "e2e 集群：A 上报，B 收到", community_points[4])
        assert on_b.wait_for(incident["id"], PUSH_S), "the client on web process B missed the event"
        assert via_proxy.wait_for(incident["id"], PUSH_S), "the client behind nginx missed the event"
    finally:
        on_b.close()
        via_proxy.close()


def test_long_polling_is_refused_when_several_processes_serve(cluster):
    import socketio

    listener = Listener()
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            listener.connect(cluster["proxy"], _sign_in(cluster["proxy"]), transports=["polling"])
    finally:
        listener.close()


def test_the_proxy_is_trusted_for_one_hop_only(cluster):
    """Behind nginx the web process sees the client's address (nginx overwrites X-Forwarded-For), so a forged
    header changes nothing; direct callers' forged headers are believed for one hop, which is why web processes
    listen on loopback only."""
    forged = {"X-Forwarded-Proto": "https"}
    request = urllib.request.Request(cluster["proxy"] + "/health", headers=forged)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert "Strict-Transport-Security" not in response.headers  # nginx sent its own scheme: http
        proxy_host = urlparse(cluster["proxy"]).netloc
        assert f"ws://{proxy_host}" in response.headers["Content-Security-Policy"]  # the host people use


def test_a_browser_through_the_proxy_connects_over_websocket_and_gets_live_events(cluster, browser, community_points):
    proxy = cluster["proxy"]
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    try:
        watched = Watched(context, proxy)
        page = watched.open("/", timeout_ms=30_000)
        page.evaluate(
            """() => { window.__gcMessages = [];
                 for (const ws of window.__gcSockets) ws.addEventListener('message', e => window.__gcMessages.push(String(e.data))); }"""
        )
        sockets = page.evaluate("() => window.__gcSockets.map(ws => ws.url)")
        assert sockets and all(urlparse(u).netloc == urlparse(proxy).netloc for u in sockets), sockets
        assert all("transport=websocket" in u for u in sockets), sockets
        assert not [u for u in watched.requests if "transport=polling" in u]  # WebSocket only: nothing to stick
        incident = _report(cluster["web"][0], cluster["token"], "e2e 集群：浏览器经代理收到", community_points[9])
        page.wait_for_function(
            "id => window.__gcMessages.some(m => m.includes(id))", arg=incident["id"], timeout=PUSH_S * 1000
        )
        assert watched.errors == []
        assert {urlparse(u).hostname for u in watched.requests if urlparse(u).scheme.startswith(("http", "ws"))} == {
            "127.0.0.1"
        }
    finally:
        context.close()


def test_docker_compose_describes_the_same_shape():
    compose = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["web"]["deploy"]["replicas"] >= 2 and services["worker"]["deploy"]["replicas"] >= 2
    proxy = services["nginx"]
    assert proxy["image"].startswith("nginx:") and proxy["depends_on"]["web"]["condition"] == "service_healthy"
    web_env = services["web"]["environment"]
    assert web_env["GRIDCOMMAND_TRUSTED_PROXIES"] == "1" and json.loads(web_env["GRIDCOMMAND_SOCKET_TRANSPORTS"]) == [
        "websocket"
    ]
    assert "ports" not in services["web"]  # reachable through nginx only: forwarded headers cannot be forged
    mounted = [v.split(":")[0] for v in proxy["volumes"]]
    config = (REPO_ROOT / Path(mounted[0])).read_text(encoding="utf-8")
    for needed in ("proxy_set_header Upgrade $http_upgrade", "X-Forwarded-For $remote_addr", "location /socket.io/"):
        assert needed in config


def test_without_nginx_the_cluster_command_says_how_to_get_it(tmp_path):
    env = {**os.environ, "DATABASE_URL": _cluster_database(), "GRIDCOMMAND_VAR_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "cluster", "--nginx", "no-such-nginx-binary"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and "apt-get install -y nginx" in done.stderr
