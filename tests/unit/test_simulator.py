"""The demo simulator's pure parts: patrol paths, speeds, OsmAnd encoding, Poisson arrivals, incident bodies,
and where it reads its data from."""

from __future__ import annotations

import math
import random
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime

import pytest
import shapely
from shapely.geometry import Point

from dispatcher.cases.commands import ActionRequest
from dispatcher.intake.commands import CreateIncident
from dispatcher.settings import REPO_ROOT, get_settings
from geo.distance import haversine_m
from geo.grids import Level
from workers.simulator import (
    CATEGORY_WEIGHTS,
    EBIKE_SPEED_MPS,
    KNOTS_PER_MPS,
    PLANS,
    POOR_ACCURACY_M,
    SENSOR_CLASSES,
    TEMPLATES,
    UNKNOWN_CATEGORY,
    VIDEO_CLASSES,
    WALK_SPEED_MPS,
    Fix,
    Patrol,
    Plan,
    SimStats,
    Simulator,
    action_body,
    arrivals,
    describe,
    load_category_codes,
    next_gap_s,
    osmand_json,
    osmand_query,
    random_point_in,
    run_simulator,
    speed_for_role,
)

# The trackers enrolled for the roster's officers (officer id -> identifier), as `gridcommand demo` hands them over.
TRACKERS = {f"GW{i:04d}": f"tracker-{i:04d}" for i in range(100)}


@pytest.fixture(scope="module")
def sim(demo_index) -> Simulator:
    return Simulator("http://127.0.0.1:9", grids=demo_index, seed=7, devices=TRACKERS)


def roster(sim: Simulator, n: int, *, role: str = "grid_worker", status: str = "offline") -> list[dict]:
    """Officers as GET /api/v1/officers lists them (no tracker ids)."""
    communities = sim.incidents.communities
    return [
        {
            "id": f"GW{i:04d}",
            "name": f"网格员{i}",
            "role": role,
            "department_code": "CGZF" if role == "enforcement" else None,
            "grid_community": communities[i % len(communities)].code,
            "status": status,
            "position": None,
            "load": 0,
        }
        for i in range(n)
    ]


# --- patrol paths -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["grid_worker", "enforcement"])
def test_patrol_track_stays_inside_the_home_community(demo_index, role):
    communities = demo_index.by_level(Level.COMMUNITY)
    for k, community in enumerate(communities[::7]):
        patrol = Patrol(f"d{k}", "张三", role, community.geometry, random.Random(k), now=0.0)
        for t in range(0, 3 * 3600, 5):
            fix = patrol.fix(float(t))
            assert community.geometry.covers(Point(patrol.lon, patrol.lat)), (community.code, t)
            if fix.accuracy < POOR_ACCURACY_M:  # ordinary fixes: a few metres of jitter around the true position
                assert 2.9 <= haversine_m(fix.lon, fix.lat, patrol.lon, patrol.lat) <= 8.1


def test_patrol_starts_at_its_reported_position_when_inside(demo_index):
    community = demo_index.by_level(Level.COMMUNITY)[0]
    start = random_point_in(community.geometry, random.Random(1))
    assert Patrol("d", "n", "grid_worker", community.geometry, random.Random(2), start=start).position == start
    outside = (community.geometry.bounds[0] - 0.01, community.geometry.bounds[1] - 0.01)
    moved = Patrol("d", "n", "grid_worker", community.geometry, random.Random(2), start=outside).position
    assert community.geometry.covers(Point(*moved))


@pytest.mark.parametrize(
    "role, bounds", [("grid_worker", WALK_SPEED_MPS), ("enforcement", EBIKE_SPEED_MPS), ("handler", WALK_SPEED_MPS)]
)
def test_speeds_are_plausible_for_walking_and_e_bikes(demo_index, role, bounds):
    community = demo_index.by_level(Level.COMMUNITY)[10]
    low, high = bounds
    for seed in range(5):
        patrol = Patrol("d", "n", role, community.geometry, random.Random(seed), now=0.0)
        assert low <= patrol.cruise <= high
        last = patrol.position
        reported = []
        for t in range(5, 3600, 5):
            fix = patrol.fix(float(t))
            step = haversine_m(*last, *patrol.position)
            assert step <= high * 1.1 * 5 + 1e-6  # never faster than the mode allows (straight segments)
            last = patrol.position
            if fix.is_moving:
                reported.append(fix.speed_mps)
        assert reported, "the officer never moved in an hour"
        assert low * 0.9 * 0.92 <= min(reported) and max(reported) <= high * 1.1 * 1.08
    assert speed_for_role("enforcement", random.Random(0))[1] == "ebike"
    assert speed_for_role("grid_worker", random.Random(0))[1] == "walk"


def test_fixes_include_some_poor_accuracy_ones(demo_index):
    community = demo_index.by_level(Level.COMMUNITY)[5]
    patrol = Patrol("d", "n", "grid_worker", community.geometry, random.Random(3), now=0.0)
    accuracies = [patrol.fix(float(t)).accuracy for t in range(0, 5 * 5000, 5)]
    poor = sum(a == POOR_ACCURACY_M for a in accuracies) / len(accuracies)
    assert 0.015 < poor < 0.05


# --- OsmAnd protocol --------------------------------------------------------------------------------

FIX = Fix(
    device_id="dev-gw0010011",
    lon=120.1651234,
    lat=30.2712345,
    timestamp=1796000000.0,
    speed_mps=1.5,
    bearing=92.5,
    altitude=12.3,
    accuracy=6.0,
    battery=81.4,
    is_moving=True,
)


def test_osmand_query_has_lat_lon_unix_seconds_and_knots():
    q = osmand_query(FIX)
    assert q["id"] == "dev-gw0010011"
    assert float(q["lat"]) == pytest.approx(30.2712345) and float(q["lon"]) == pytest.approx(120.1651234)
    assert q["timestamp"] == "1796000000"
    assert float(q["speed"]) == pytest.approx(1.5 * 1.943844, abs=0.005)
    assert pytest.approx(1 / 0.514444, rel=1e-5) == KNOTS_PER_MPS
    assert float(q["bearing"]) == pytest.approx(92.5)
    assert float(q["accuracy"]) == 6.0 and q["batt"] == "81" and float(q["altitude"]) == pytest.approx(12.3)


def test_osmand_json_form_uses_metres_per_second_and_iso_time():
    body = osmand_json(FIX)
    assert body["device_id"] == "dev-gw0010011"
    coords = body["location"]["coords"]
    assert (coords["latitude"], coords["longitude"]) == (pytest.approx(30.2712345), pytest.approx(120.1651234))
    assert coords["speed"] == 1.5 and coords["heading"] == 92.5 and coords["accuracy"] == 6.0
    assert datetime.fromisoformat(body["location"]["timestamp"].replace("Z", "+00:00")).timestamp() == 1796000000
    assert body["location"]["is_moving"] is True
    assert body["location"]["battery"] == {"level": 0.81, "is_charging": False}


# --- Poisson scheduling -----------------------------------------------------------------------------


@pytest.mark.parametrize("rate", [20, 600])
def test_poisson_gaps_match_the_rate(rate):
    rng = random.Random(11)
    gaps = [next_gap_s(rate, rng) for _ in range(20000)]
    assert statistics.mean(gaps) == pytest.approx(60.0 / rate, rel=0.03)
    assert statistics.stdev(gaps) == pytest.approx(60.0 / rate, rel=0.05)  # exponential: sd = mean


def test_poisson_count_in_an_hour_is_close_to_the_rate():
    times = arrivals(20, random.Random(5))
    count = 0
    for t in times:
        if t > 3600:
            break
        count += 1
    assert abs(count - 1200) < 4 * math.sqrt(1200)
    assert next_gap_s(0, random.Random(0)) == math.inf


# --- incident content -------------------------------------------------------------------------------


def test_every_template_names_a_small_class_of_the_catalogue():
    codes = load_category_codes()
    assert set(TEMPLATES) <= set(codes), set(TEMPLATES) - set(codes)
    assert set(CATEGORY_WEIGHTS) <= set(TEMPLATES)
    assert set(VIDEO_CLASSES) <= set(TEMPLATES) and set(SENSOR_CLASSES) <= set(TEMPLATES)
    for common in (
        "暴露垃圾",
        "道路不洁",
        "店外经营",
        "机动车乱停放",
        "污水井盖",
        "路灯",
        "违章建筑（施工）",
        "噪声扰民",
        "非法小广告",
        "共享单车乱停放",
    ):
        assert common in TEMPLATES
    assert UNKNOWN_CATEGORY not in codes.values()


def test_descriptions_render_without_placeholders():
    rng = random.Random(3)
    for name, templates in TEMPLATES.items():
        for _ in range(3 * len(templates)):
            text = describe(name, rng)
            assert "{" not in text and "}" not in text and 0 < len(text) <= 4000


def test_incident_bodies_are_valid_commands_with_mixed_channels(sim):
    rng = random.Random(21)
    bodies = [sim.make_incident(rng) for _ in range(3000)]
    channels = Counter(body["channel"] for body in bodies)
    assert set(channels) == {"grid_worker", "hotline", "public", "video", "sensor"}
    for body in bodies:
        CreateIncident.model_validate(body)  # what the server validates against
        if body["channel"] == "hotline":
            assert body["reporter_phone"].startswith("1") and len(body["reporter_phone"]) == 11
            assert body["address"] and body["reporter_name"]
    bait = [
        b
        for b in bodies
        if b.get("category_code") in (None, UNKNOWN_CATEGORY) or sim.grids.locate(b["lon"], b["lat"]) is None
    ]
    assert 0.015 < len(bait) / len(bodies) < 0.05
    inside = [b for b in bodies if b not in bait]
    communities = Counter(sim.grids.locate(b["lon"], b["lat"]).community for b in inside)
    assert communities.most_common(1)[0][1] > 2.5 * len(inside) / len(sim.incidents.communities)  # hotspots exist


def test_grid_worker_reports_come_from_near_an_officer(demo_index):
    sim = Simulator("http://127.0.0.1:9", grids=demo_index, seed=3, devices=TRACKERS)
    sim.install_roster(roster(sim, 20), now=0.0)
    rng = random.Random(4)
    for _ in range(300):
        body = sim.make_incident(rng)
        if body["channel"] != "grid_worker" or sim.grids.locate(body["lon"], body["lat"]) is None:
            continue
        near = [p for p in sim.roster.patrol_list if haversine_m(body["lon"], body["lat"], *p.position) <= 30.5]
        assert near and body["reporter_name"] in {p.name for p in near}


def test_action_bodies_are_valid_and_plans_reach_every_state(sim):
    seen = {action for _, plan in PLANS.values() for action in plan}
    assert {"file", "dispatch", "claim", "handle", "verify", "close", "escalate", "return", "reject"} <= seen
    assert any(not plan for _, plan in PLANS.values())  # some are left alone and go overdue
    rng, staff = random.Random(8), {"HW": ["HW001", "HW002"]}

    def body(action: str, plan: Plan) -> dict:
        return action_body(action, plan, rng, sim.catalogue, staff)

    for action in sorted(seen | {"void"}):
        ActionRequest.model_validate(body(action, Plan("x", [], category="020101", department="HW")))
    assert "result" in body("handle", Plan("x", [], category="020101", department="HW"))
    unknown = Plan("x", [], category=UNKNOWN_CATEGORY)
    filing = body("file", unknown)
    assert filing["category_code"] in sim.catalogue.class_codes.values() and unknown.category == filing["category_code"]
    dispatched = [Plan("x", [], category="020101", department="HW") for _ in range(50)]
    assignees = {body("dispatch", plan).get("assignee") for plan in dispatched}
    assert assignees - {None} <= {"HW001", "HW002"} and {p.handler for p in dispatched} == assignees


# --- roster -----------------------------------------------------------------------------------------


def test_roster_is_capped_skips_off_duty_and_staggers_fixes(demo_index):
    trackers = TRACKERS | {f"OFF{i}": f"off-{i}" for i in range(5)}
    sim = Simulator("http://127.0.0.1:9", grids=demo_index, seed=1, officers=30, fix_interval_s=5.0, devices=trackers)
    items = roster(sim, 40) + [{**o, "id": f"OFF{i}", "status": "off_duty"} for i, o in enumerate(roster(sim, 5))]
    items.append({"id": "X", "role": "grid_worker", "grid_community": None})  # no tracker
    assert sim.install_roster(items, now=100.0) == 30
    assert not any(d.startswith("off-") for d in sim.roster.patrols)
    starts = sorted(e.due for e in sim.agenda.pending("fix"))
    assert len(starts) == 30 and starts[0] == 100.0 and starts[-1] < 105.0
    assert max(b - a for a, b in zip(starts, starts[1:])) == pytest.approx(5.0 / 30)
    for patrol in sim.roster.patrol_list:
        code = next(o["grid_community"] for o in items if trackers.get(o["id"]) == patrol.device_id)
        assert shapely.equals(patrol.area, demo_index.get(code).geometry)
    assert sim.install_roster(items, now=200.0) == 0  # the refresh adds nobody twice


def test_only_officers_with_an_enrolled_tracker_move_and_they_report_with_its_identifier(demo_index):
    sim = Simulator("http://127.0.0.1:9", grids=demo_index, seed=2, devices={"GW0001": "tracker-one"})
    items = roster(sim, 3)
    items[2]["device_id"] = "dev-gw0002"  # a roster label from an old server is no credential: never used
    assert sim.install_roster(items, now=0.0) == 1
    (patrol,) = sim.roster.patrol_list
    assert (patrol.officer_id, patrol.device_id) == ("GW0001", "tracker-one")
    assert {osmand_query(fix)["id"] for fix, _ in sim.roster.reports(patrol, time.time())} == {"tracker-one"}
    nobody = Simulator("http://127.0.0.1:9", grids=demo_index, seed=2)  # no trackers handed over: nobody moves
    assert nobody.install_roster(items, now=0.0) == 0


def test_run_against_a_dead_server_counts_errors_and_stops_within_a_second(demo_index):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    stats, stop = SimStats(), threading.Event()
    thread = threading.Thread(
        target=run_simulator,
        args=(f"http://127.0.0.1:{port}",),
        kwargs=dict(incident_rate_per_min=600, stop=stop, grids=demo_index, stats=stats),
    )
    thread.start()
    time.sleep(1.5)
    assert thread.is_alive()
    stopped = time.monotonic()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive() and time.monotonic() - stopped < 1.0
    assert stats.errors > 0 and stats.incidents_created == 0


# --- data and entry point ---------------------------------------------------------------------------


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A copy of the shipped data folder that GRIDCOMMAND_DATA_DIR points at (settings cache restored after)."""
    data = tmp_path / "data"
    shutil.copytree(REPO_ROOT / "data", data)
    monkeypatch.setenv("GRIDCOMMAND_DATA_DIR", str(data))
    get_settings.cache_clear()
    yield data
    get_settings.cache_clear()


def test_the_simulator_reports_with_the_catalogue_of_the_configured_data_folder(data_copy, demo_index):
    categories = data_copy / "categories.yaml"
    text = categories.read_text(encoding="utf-8")
    old = '{code: "020101", name_zh: 暴露垃圾'
    assert old in text
    categories.write_text(text.replace(old, '{code: "020177", name_zh: 暴露垃圾'), encoding="utf-8")
    assert get_settings().data_dir == data_copy

    sim = Simulator("http://127.0.0.1:9", grids=demo_index, seed=2)
    assert sim.catalogue.class_codes["暴露垃圾"] == "020177"
    assert load_category_codes()["暴露垃圾"] == "020177"
    codes = {sim.make_incident(random.Random(i)).get("category_code") for i in range(400)}
    assert "020177" in codes and "020101" not in codes  # what it sends follows the configured catalogue


def test_the_command_line_entry_point_still_answers_help():
    result = subprocess.run(
        [sys.executable, "-m", "workers.simulator", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "--url" in result.stdout and "--lifecycle-time-scale" in result.stdout and "--devices" in result.stdout


def test_a_department_signs_its_own_cases_and_the_center_the_rest():
    from workers.simulator.protocol import Client
    from workers.simulator.stats import SimStats

    tokens = {"leader": "t-center", "dept": "t-any", "dept:HW": "t-hw"}
    client = Client("http://127.0.0.1:1", SimStats(), tokens=tokens)
    assert client.signed("claim", "HW") == {"Authorization": "Bearer t-hw"}
    assert client.signed("handle", "CGZF") == {"Authorization": "Bearer t-any"}  # no own token: the fallback
    assert client.signed("dispatch", "HW") == {"Authorization": "Bearer t-center"}
