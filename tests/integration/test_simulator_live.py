"""The demo simulator against a real `gridcommand serve` process (SQLite file + real Redis), over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter

import pytest
import redis as redis_lib
import requests

from dispatcher.settings import REPO_ROOT
from tests.conftest import unavailable
from workers.simulator import SimStats, run_simulator

REDIS_URL = os.environ.get("GRIDCOMMAND_SIMULATOR_REDIS_URL", "redis://127.0.0.1:6379/13")
DEMO_GRIDS = REPO_ROOT / "data" / "demo_city" / "grids.geojson"
ROSTER = REPO_ROOT / "data" / "demo_city" / "officers.yaml"
RUN_S = 5.0

pytestmark = pytest.mark.redis


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _cli(env: dict, *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *args],
        env=env,
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        timeout=120,
    )


def _seed_roster(database_url: str) -> dict[str, str]:
    """Put the demo roster in the database and enrol a tracker for every officer (as `gridcommand demo` does);
    officer id -> the tracker's identifier, for the simulator."""
    from datetime import UTC, datetime

    from dispatcher.fleet.devices import issue
    from dispatcher.fleet.officers import load_roster
    from dispatcher.store.db import make_engine, make_sessions

    engine = make_engine(database_url)
    with make_sessions(engine).begin() as session:
        roster = load_roster(ROSTER)
        session.add_all(roster)
        session.flush()
        now = datetime.now(UTC)
        trackers = {o.id: issue(session, o.id, label="simulator", actor="tests", now=now).identifier for o in roster}
    engine.dispose()
    return trackers


TOKENS: dict[str, str] = {}  # the simulator's bearer tokens: "leader" (command center) and "dept" (departments)
TRACKERS: dict[str, str] = {}  # officer id -> identifier of the tracker enrolled for them


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real `gridcommand serve` on a free port with the demo city and its roster, every officer with a tracker."""
    client = redis_lib.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:
        unavailable("Redis", exc)
    client.flushdb()
    tmp = tmp_path_factory.mktemp("simulator")
    database_url = f"sqlite:///{tmp / 'demo.sqlite'}"
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": REDIS_URL, "GRIDCOMMAND_VAR_DIR": str(tmp)}
    _cli(env, "db", "upgrade")
    _cli(env, "import-grids", str(DEMO_GRIDS))
    TRACKERS.update(_seed_roster(database_url))
    for who, (username, role) in {"leader": ("sim-center", "shift_leader"), "dept": ("sim-dept", "dept_head")}.items():
        _cli(env, "accounts", "create", username, "--name", username, "--role", role, "--region", "330199")
        TOKENS[who] = subprocess.run(
            [
                sys.executable,
                "-m",
                "dashboard.cli",
                "accounts",
                "token",
                username,
                "--name",
                "simulator",
                "--kind",
                "service",
            ],
            env=env,
            cwd=REPO_ROOT,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    port = _free_port()
    log = open(tmp / "serve.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(port)],
        env=env,
        cwd=REPO_ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            if requests.get(f"{base}/health", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            log.close()
            pytest.fail(
                f"gridcommand serve did not come up:\n{(tmp / 'serve.log').read_text(errors='replace')[-3000:]}"
            )
        time.sleep(0.3)
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()
    client.flushdb()


@pytest.fixture(scope="module")
def run(server):
    """Run the simulator for a few seconds at 600 incidents/min with a fast lifecycle; report stats and stop time."""
    stats, stop = SimStats(), threading.Event()
    thread = threading.Thread(
        target=run_simulator,
        args=(server,),
        name="simulator",
        kwargs=dict(
            officers=300,
            incident_rate_per_min=600,
            seed=7,
            stop=stop,
            fix_interval_s=5.0,
            lifecycle_time_scale=0.02,
            stats=stats,
            tokens=TOKENS,
            devices=TRACKERS,
        ),
    )
    thread.start()
    time.sleep(RUN_S)
    stopped = time.monotonic()
    stop.set()
    thread.join(timeout=10)
    return {"stats": stats, "stop_s": time.monotonic() - stopped, "alive": thread.is_alive()}


def test_simulator_stops_within_a_second(run):
    assert not run["alive"]
    assert run["stop_s"] < 1.0


def test_incidents_arrive_over_several_channels_and_move_through_the_lifecycle(server, run):
    stats = run["stats"]
    assert stats.incidents_created > 0, stats
    page = requests.get(
        f"{server}/api/v1/incidents",
        params={"page_size": 500},
        timeout=10,
        headers={"Authorization": f"Bearer {TOKENS['leader']}"},
    ).json()
    assert page["total"] == stats.incidents_created  # every 201 is one incident (idempotency keys are unique)
    channels = Counter(item["channel"] for item in page["items"])
    assert len(channels) >= 3, channels
    assert set(channels) <= {"grid_worker", "hotline", "public", "video", "sensor"}
    statuses = Counter(item["status"] for item in page["items"])
    assert stats.actions_done > 0 and len(statuses) >= 3, statuses
    for item in page["items"][:20]:
        assert item["description"]
    assert stats.incidents_rejected <= max(2, stats.incidents_created // 10), stats


def test_officers_send_fixes_that_the_server_accepts(server, run):
    response = requests.get(
        f"{server}/api/v1/officers", timeout=10, headers={"Authorization": f"Bearer {TOKENS['leader']}"}
    )
    items = response.json()["items"]
    assert items, "the demo roster was loaded, so officers must be listed"
    stats = run["stats"]
    assert stats.roster_size > 0
    assert stats.fixes_sent > 0 and stats.fixes_rejected <= stats.fixes_sent // 20, stats
    positioned = [o for o in items if o.get("position")]
    assert positioned, "no officer has a position after the run"
    assert all(o["status"] != "offline" for o in positioned)
