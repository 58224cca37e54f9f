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
from tests.conftest import per_worker, unavailable
from workers.simulator import LoopConfig, SimStats, run_simulator

REDIS_URL = per_worker(os.environ.get("GRIDCOMMAND_SIMULATOR_REDIS_URL", "redis://127.0.0.1:6379/13"))
DEMO_GRIDS = REPO_ROOT / "data" / "demo_city" / "grids.geojson"
ROSTER = REPO_ROOT / "data" / "demo_city" / "officers.yaml"
RUN_S = 20.0  # long enough for a verify on a loaded 2-core runner (the suite runs in two processes)
# More of the rarer turns than the demo takes, so that one short run shows them all.
LOOP = LoopConfig(
    p_partners=0.25,
    p_return=0.1,
    p_request_extend=0.2,
    p_request_suspend=0.15,
    p_supervise=0.1,
    resume_after_s=(30, 60),
    archive_after_s=(30, 60),
)

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


TOKENS: dict[str, str] = {}  # the simulator's bearer tokens, as `gridcommand demo` issues them (dashboard/cli/demo.py)
TRACKERS: dict[str, str] = {}  # officer id -> identifier of the tracker enrolled for them


def _simulator_tokens(database_url: str) -> dict[str, str]:
    """The simulator's accounts and tokens exactly as `gridcommand demo` makes them: the shift leader, the hotline,
    a head per department, a grid worker and a workstation per community (token key -> token)."""
    from dashboard.cli.demo import simulator_tokens
    from dispatcher.settings import get_settings

    return simulator_tokens(get_settings().model_copy(update={"database_url": database_url}))


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
    TOKENS.update(_simulator_tokens(database_url))
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
    """Run the simulator for RUN_S seconds at 240 incidents/min with a fast loop; report stats and stop time."""
    stats, stop = SimStats(), threading.Event()
    thread = threading.Thread(
        target=run_simulator,
        args=(server,),
        name="simulator",
        kwargs=dict(
            officers=100,
            incident_rate_per_min=240,
            seed=7,
            stop=stop,
            fix_interval_s=5.0,
            lifecycle_time_scale=0.006,
            loop=LOOP,
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


def _get(server: str, path: str, **params) -> dict:
    response = requests.get(
        f"{server}/api/v1{path}", params=params, timeout=10, headers={"Authorization": f"Bearer {TOKENS['leader']}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_the_whole_loop_is_played_by_the_right_people(server, run):
    stats = run["stats"]
    steps = stats.steps
    for action in ("file", "dispatch", "claim", "handle", "verify", "close"):
        assert steps.get(action), (action, stats.step_line())
    assert steps.get("extend", 0) + steps.get("suspend", 0) + steps.get("refuse", 0) > 0, stats.step_line()
    assert stats.uploads > 0 and stats.uploads_rejected <= max(2, stats.uploads // 10), stats
    assert stats.actions_rejected <= max(5, stats.actions_done // 10), stats.step_line()  # races only, few
    items = _get(server, "/incidents", page_size=500)["items"]
    statuses = Counter(item["status"] for item in items)
    assert statuses["verified"] + statuses["closed"] + statuses["archived"] > 0, statuses
    actors: dict[str, set[str]] = {}
    for item in items:
        if item["status"] in {"reported", "triage", "filed"}:
            continue
        for entry in _get(server, f"/incidents/{item['id']}/timeline")["entries"]:
            actors.setdefault(entry["action"], set()).add(entry["actor"])
    assert actors["claim"] and all(a.startswith(("sim-dept-", "sim-station-")) for a in actors["claim"]), actors
    assert actors["handle"] <= {a for a in actors["claim"]} | {a for a in actors.get("transfer", set())}
    assert any(a.startswith("sim-grid-") for a in actors["verify"]), actors["verify"]
    assert all(a.startswith("sim-grid-") or a == "sim-center" for a in actors["verify"]), actors["verify"]
    assert actors["dispatch"] == {"sim-center"} and actors["close"] <= {"sim-center"} | {
        a for a in actors["close"] if a.startswith("sim-station-")
    }
    decided = actors.get("extend", set()) | actors.get("suspend", set()) | actors.get("refuse", set())
    assert decided == {"sim-center"}, actors
    assert actors.get("evidence") and all(a.startswith(("sim-dept-", "sim-station-")) for a in actors["evidence"])
