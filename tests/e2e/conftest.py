"""A real GridCommand server (SQLite + bundled Redis + worker) and headless Debian Chromium for the browser tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from shapely.geometry import shape

from tests.conftest import DEMO_GRIDS, IN_CI

DEMO_ROSTER = DEMO_GRIDS.parent / "officers.yaml"
BUSY = Path(__file__).with_name("busy.py")  # seeds open cases and runs the simulator (also in another checkout)
# Who signs in: the browser as a command-center dispatcher, the API calls (reports, filing) as the shift leader.
E2E_PASSWORD = "e2e correct horse battery staple"
E2E_ACCOUNTS = {
    "dispatcher": dict(username="e2e-dispatcher", display_name="坐席 e2e", role="dispatcher", region_code="330199"),
    "dispatcher2": dict(username="e2e-dispatcher2", display_name="坐席二 e2e", role="dispatcher", region_code="330199"),
    "leader": dict(username="e2e-shiftleader", display_name="值班长 e2e", role="shift_leader", region_code="330199"),
    # the people after dispatch (tests/e2e/test_loop.py): two HW handlers and the grid worker of one community
    "hw-handler": dict(
        username="e2e-hw-handler", display_name="环卫处置员 e2e", role="dept_handler", department_code="HW"
    ),
    "hw-handler2": dict(
        username="e2e-hw-handler2", display_name="环卫处置员二 e2e", role="dept_handler", department_code="HW"
    ),
    "gridworker": dict(
        username="e2e-gridworker", display_name="网格员 e2e", role="grid_worker", region_code="330199001001"
    ),
    "hotline": dict(username="e2e-hotline", display_name="受理员 e2e", role="hotline", region_code="330199"),
}

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]
START_TIMEOUT_S = 90  # a loaded 2-core machine takes long to start the server


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(*args: str, env: dict, cwd: Path | None = None) -> None:
    subprocess.run([sys.executable, "-m", "dashboard.cli", *args], env=env, cwd=cwd, check=True, capture_output=True)


def _wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = START_TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gridcommand serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if json.load(response).get("redis") == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gridcommand serve did not become healthy within {timeout_s} s")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """Debian's Chromium; missing it fails in CI and skips elsewhere."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing (apt-get install -y chromium)"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return str(CHROMIUM)


class LiveServer(str):
    """The server's base URL, carrying the API token of the shift leader account (`.token`)."""

    token: str = ""
    env: dict[str, str] = {}  # the server's environment (for `gridcommand` commands against its database)


def _seed_accounts(database_url: str) -> str:
    """The e2e accounts, created straight in the server's database; returns the shift leader's API token."""
    from datetime import UTC, datetime

    from dispatcher.access.accounts import Account, issue_token
    from dispatcher.access.passwords import hash_password
    from dispatcher.store.db import make_engine, make_sessions

    engine = make_engine(database_url)
    now = datetime.now(UTC)
    password_hash = hash_password(E2E_PASSWORD)
    with make_sessions(engine).begin() as session:
        accounts = {}
        for key, fields in E2E_ACCOUNTS.items():
            accounts[key] = Account(id=f"e2e-{key}", password_hash=password_hash, created_at=now, **fields)
            session.add(accounts[key])
        session.flush()
        token = issue_token(session, accounts["leader"], name="e2e", kind="service", now=now)
    engine.dispose()
    return token


def _server_env(root: Path, tree: Path | None = None) -> dict[str, str]:
    """The environment of a test server over `root` (SQLite file, var dir; REDIS_URL unset: bundled); with `tree`,
    another checkout's packages come first on the path (the benchmark's baseline)."""
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL",)}
    env.update(
        DATABASE_URL=f"sqlite:///{root / 'e2e.sqlite'}",
        GRIDCOMMAND_VAR_DIR=str(root / "var"),
        GRIDCOMMAND_RELAY_INTERVAL_S="0.5",
        PYTHONUNBUFFERED="1",
        GRIDCOMMAND_RATE_LIMIT_LOGIN="1000/minute",
    )  # every browser context signs in through the form
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    return env


def _prepare_database(env: dict[str, str], *, cases: int = 0, tree: Path | None = None) -> str:
    """Migrate, load the demo city and roster, create the e2e accounts and seed `cases` open cases (tests/e2e/busy.py);
    returns the shift leader's API token. With `tree`, all of it runs with that checkout's packages."""
    _cli("db", "upgrade", env=env, cwd=tree)
    _cli("import-grids", str(DEMO_GRIDS), env=env, cwd=tree)
    if tree is None:  # the gazetteer (a baseline checkout may predate the command)
        _cli("import-addresses", str(DEMO_GRIDS.parent / "addresses.geojson"), env=env, cwd=tree)
    _cli("import-officers", str(DEMO_ROSTER), env=env, cwd=tree)
    if tree is None:
        token = _seed_accounts(env["DATABASE_URL"])
    else:
        code = f"from tests.e2e.conftest import _seed_accounts; print(_seed_accounts({env['DATABASE_URL']!r}))"
        token = _run([sys.executable, "-c", code], env=env, cwd=tree).strip().splitlines()[-1]
    if cases:
        _run([sys.executable, str(BUSY), "seed", "--count", str(cases)], env=env, cwd=tree)
    return token


def _run(command: list[str], *, env: dict[str, str], cwd: Path | None) -> str:
    """Run a helper process; its output, or an error carrying the end of its stderr."""
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True)
    if done.returncode != 0:
        raise RuntimeError(f"{command[1:3]} exited with {done.returncode}: {done.stderr.decode()[-2000:]}")
    return done.stdout.decode()


@contextmanager
def _serve(
    root: Path,
    env: dict[str, str],
    *,
    token: str = "",
    rate: float = 0,
    officers: int = 0,
    tree: Path | None = None,
    start_timeout_s: float = START_TIMEOUT_S,
) -> Iterator[LiveServer]:
    """`gridcommand serve` on a free port over a prepared database; with `rate` or `officers`, the demo simulator
    runs against it (tests/e2e/busy.py simulate) until the end."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = open(root / "serve.log", "wb")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)],
            env=env,
            cwd=tree,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ]  # own process group
    try:
        _wait_healthy(url, procs[0], start_timeout_s)
        if rate or officers:
            command = [sys.executable, str(BUSY), "simulate", "--url", url, "--rate", str(rate)]
            sim_log = open(root / "simulator.log", "wb")
            procs.insert(
                0,
                subprocess.Popen(
                    [*command, "--officers", str(officers)],
                    env=env,
                    cwd=tree,
                    stdout=sim_log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                ),
            )
            sim_log.close()
        live = LiveServer(url)
        live.token = token
        live.env = env
        yield live
    finally:
        for proc in procs:  # the simulator first, then the server
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        shutil.rmtree(root / "var", ignore_errors=True)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory):
    """`gridcommand serve` on a free port over a fresh SQLite file with the demo city and the e2e accounts;
    REDIS_URL unset (bundled)."""
    root = tmp_path_factory.mktemp("e2e")
    env = _server_env(root)
    token = _prepare_database(env)
    with _serve(root, env, token=token) as live:
        yield live


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=FLAGS)
        yield browser
        browser.close()


# Keep a handle on every WebSocket the page opens, so a test can cut the live connection.
TRACK_SOCKETS = """(() => {
  const Native = window.WebSocket; window.__gcSockets = [];
  function Tracked(...args) { const ws = new Native(...args); window.__gcSockets.push(ws); return ws; }
  Tracked.prototype = Native.prototype;
  Object.assign(Tracked, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
  window.WebSocket = Tracked;
})();"""


class Watched:
    """A page with everything it requested and every console error it logged."""

    def __init__(self, context, base_url: str):
        self.context = context
        context.add_init_script(TRACK_SOCKETS)
        self.page = context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.base_url = base_url

    def sign_in(self, path: str = "/", account: str = "dispatcher"):
        """Go to `path`, get sent to the sign-in page, fill the form, and land back on `path`."""
        page = self.page
        page.goto(self.base_url + path)
        page.wait_for_url("**/login?next=*", timeout=10_000)
        page.fill("#username", E2E_ACCOUNTS[account]["username"])
        page.fill("#password", E2E_PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
        return page

    def open(self, path: str = "/", timeout_ms: float = 15_000, account: str = "dispatcher"):
        if "/login" in self.page.url or self.page.url in ("", "about:blank"):
            self.sign_in(path, account)
        else:
            self.page.goto(self.base_url + path)
        self.page.wait_for_selector(".gc-conn.gc-conn-on", timeout=timeout_ms)  # Socket.IO connected
        return self.page


@contextmanager
def _page_opener(browser, server: str, timeout_ms: float = 15_000):
    """A function that opens pages of `server` in fresh browser contexts (waiting `timeout_ms` for Socket.IO to
    connect), closed on leaving."""
    contexts = []

    def _open(path: str = "/", width: int = 1600, height: int = 900, account: str = "dispatcher") -> Watched:
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        watched = Watched(context, server)
        watched.open(path, timeout_ms, account)
        return watched

    try:
        yield _open
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def open_page(browser, live_server):
    """Open pages in fresh browser contexts (separate storage, like separate operators)."""
    with _page_opener(browser, live_server) as _open:
        yield _open


@pytest.fixture(scope="session")
def community_points() -> list[tuple[float, float]]:
    """A point inside each community (far apart, so map markers never cluster together)."""
    features = json.loads(DEMO_GRIDS.read_text(encoding="utf-8"))["features"]
    points = []
    for f in features:
        if f["properties"]["level"] == "community":
            p = shape(f["geometry"]).representative_point()
            points.append((p.x, p.y))
    return points


BUSY_CASES = 1000  # open cases seeded before the busy server starts
BUSY_RATE = 20.0  # new incidents a minute from the simulator
BUSY_OFFICERS = 20  # officers moving (modest: one 2-core machine runs server, worker, simulator and Chromium)


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory):
    """Like `live_server`, with BUSY_CASES open cases seeded before start (tests/e2e/busy.py) and the demo simulator
    reporting BUSY_RATE incidents a minute and moving BUSY_OFFICERS officers while it runs; one per module, so the
    simulator stops when the module's tests end (it would slow every later test down)."""
    root = tmp_path_factory.mktemp("e2e-busy")
    env = _server_env(root)
    token = _prepare_database(env, cases=BUSY_CASES)
    with _serve(root, env, token=token, rate=BUSY_RATE, officers=BUSY_OFFICERS, start_timeout_s=120) as live:
        yield live


@pytest.fixture
def open_busy_page(browser, busy_server):
    """`open_page` for the busy server (a loaded test machine takes longer to show a busy command center)."""
    with _page_opener(browser, busy_server, timeout_ms=60_000) as _open:
        yield _open
