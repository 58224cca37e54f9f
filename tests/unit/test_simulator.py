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

from dispatcher.access.roles import Role
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import TRANSITIONS, Action, Status
from dispatcher.cases.scope import ACTIONS as SCOPE_ACTIONS
from dispatcher.intake.commands import CreateIncident
from dispatcher.settings import REPO_ROOT, get_settings
from geo.distance import haversine_m
from geo.grids import Level
from workers.simulator import (
    CATEGORY_WEIGHTS,
    EBIKE_SPEED_MPS,
    GOALS,
    KNOTS_PER_MPS,
    POOR_ACCURACY_M,
    SENSOR_CLASSES,
    TEMPLATES,
    UNKNOWN_CATEGORY,
    VIDEO_CLASSES,
    WALK_SPEED_MPS,
    Actors,
    Evidence,
    Fix,
    LoopConfig,
    Patrol,
    Plan,
    SimStats,
    Simulator,
    Step,
    action_body,
    arrivals,
    choose_goal,
    describe,
    load_category_codes,
    next_gap_s,
    next_step,
    osmand_json,
    osmand_query,
    random_point_in,
    run_simulator,
    speed_for_role,
)
from workers.simulator.actors import ACTOR_ROLES
from workers.simulator.photos import photo

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


def test_goals_stop_plays_in_every_stage_of_the_loop():
    assert {"untouched", "filed", "dispatched", "claimed", "requested", "returned", "handled"} <= set(GOALS)
    assert {"verified", "closed", "archived"} <= set(GOALS)
    rng = random.Random(3)
    assert set(Counter(choose_goal(rng) for _ in range(3000))) == set(GOALS)


def test_single_action_bodies_are_valid_commands(sim):
    rng, staff = random.Random(8), {"HW": ["HW001", "HW002"]}
    actions = ["file", "dispatch", "claim", "handle", "verify", "close", "archive", "escalate", "return", "reject"]
    for action in actions + ["void", "revoke", "uphold", "refuse", "request_suspend", "request_extend", "supervise"]:
        body = action_body(action, Plan("x", category="020101", department="HW"), rng, sim.catalogue, staff)
        ActionRequest.model_validate(body)
    unknown = Plan("x", category=UNKNOWN_CATEGORY)
    filing = action_body("file", unknown, rng, sim.catalogue, staff)
    assert filing["category_code"] in sim.catalogue.class_codes.values() and unknown.category == filing["category_code"]


# --- the loop: who takes which step -------------------------------------------------------------------


COMMUNITY = "330199002003"
SQ_COMMUNITY = "330199001001"


def snapshot(status: str, **fields) -> dict:
    """An incident as the API returns it (the fields the simulator reads)."""
    base = {
        "id": "inc-1",
        "status": status,
        "category_code": "020101",  # 暴露垃圾: feedback needs before/after photos
        "department_code": "HW",
        "level": "district",
        "assignee": None,
        "grid": {"community": COMMUNITY, "street": COMMUNITY[:9]},
        "stage_deadline": "2025-03-12T09:00:00+00:00",
        "partners": [],
        "verifier": None,
        "callback": {"required": False, "reason": None, "outcome": None},
        "rework_count": 0,
        "return_count": 0,
        "triage": None,
    }
    return {**base, **fields}


def role_of(actor: str) -> Role:
    return Role(ACTOR_ROLES[actor.split(":", 1)[0]])


def assert_legal(step: Step, incident: dict) -> None:
    """The transition table allows the action from the status, the actor's role may take it, the body is valid."""
    action = Action(step.action)
    assert (Status(incident["status"]), action) in TRANSITIONS, (incident["status"], step)
    assert action in SCOPE_ACTIONS[role_of(step.actor)], step
    ActionRequest.model_validate(step.body)
    for evidence in step.evidence:
        assert evidence.stage in {"handle", "return"} and evidence.parts


def choices(sim, incident: dict, n: int = 200, *, seed: int = 1, **plan_fields) -> list[Step]:
    rng, steps = random.Random(seed), []
    for _ in range(n):
        plan = Plan("inc-1", **{"goal": "archived", **plan_fields})
        plan.update(incident)
        step = next_step(plan, rng, sim.catalogue, {"HW": ["HW001", "HW002"]}, config=LoopConfig(p_supervise=0.05))
        if step is not None:
            assert_legal(step, incident)
            steps.append(step)
    return steps


def test_every_status_gets_a_legal_step_by_the_right_person(sim):
    cases = {
        "reported": {"leader"},
        "filed": {"leader"},
        "escalated": {"leader"},
        "dispatched": {"dept:HW", "leader"},
        "claimed": {"dept:HW", "leader"},
        "suspended": {"dept:HW", "leader"},
        "returned": {"leader"},
        "rework": {"dept:HW", "leader"},
        "closed": {"leader"},
    }
    for status, actors in cases.items():
        steps = choices(sim, snapshot(status))
        assert steps and {s.actor for s in steps} <= actors, (status, Counter(s.actor for s in steps))
    # the department claims, sometimes returns; the leader occasionally revokes or supervises
    assert {s.action for s in choices(sim, snapshot("dispatched"), 400)} >= {"claim", "return"}
    claimed = Counter(s.action for s in choices(sim, snapshot("claimed"), 600))
    assert {"handle", "transfer", "request_extend", "request_suspend", "return", "supervise"} <= set(claimed)
    assert max(claimed, key=claimed.__getitem__) == "handle"
    returned = Counter(s.action for s in choices(sim, snapshot("returned"), 300))
    assert {"uphold", "dispatch", "void"} <= set(returned)
    redispatch = [s for s in choices(sim, snapshot("returned"), 300) if s.action == "dispatch"]
    assert all(s.body["department"] not in {"HW", "SQ"} for s in redispatch)


def test_feedback_and_returns_carry_the_evidence_the_rules_ask_for(sim):
    steps = choices(sim, snapshot("claimed"), 600)
    handles = [s for s in steps if s.action == "handle"]
    assert handles and all(s.evidence == (Evidence("handle", ("before", "after")),) for s in handles)
    assert all(s.body["result"] for s in handles)
    no_photos = [s for s in choices(sim, snapshot("claimed", category_code="010301")) if s.action == "handle"]
    assert no_photos and all(s.evidence == () for s in no_photos)  # 路灯: outside feedback_photos
    returns = [s for s in steps + choices(sim, snapshot("dispatched"), 600) if s.action == "return"]
    assert {s.body["reason_code"] for s in returns} <= set(sim.catalogue.return_reasons)
    for s in returns:
        needs = sim.catalogue.return_reasons[s.body["reason_code"]]
        assert s.evidence == ((Evidence("return", ("photo",)),) if needs else ())
    assert any(s.evidence for s in returns) and any(not s.evidence for s in returns)


def test_the_shift_leader_decides_requests_and_partners_report_their_part(sim):
    decisions = Counter(
        s.action for s in choices(sim, snapshot("claimed"), 300, pending="extend") if s.action != "supervise"
    )
    assert set(decisions) == {"extend", "refuse"} and decisions["extend"] > decisions["refuse"]
    joint = snapshot("claimed", partners=[{"department_code": "CGZF", "done_at": None}])
    parts = [s for s in choices(sim, joint) if s.action != "supervise"]
    assert {(s.action, s.actor, s.body["department"]) for s in parts} == {("part_done", "dept:CGZF", "CGZF")}
    filed = [s for s in choices(sim, snapshot("filed"), 400) if s.action == "dispatch"]
    partners = [s.body["partners"] for s in filed if s.body.get("partners")]
    assert partners and all(p[0] not in {"HW", "SQ"} for p in partners)
    extend = next(s for s in choices(sim, snapshot("claimed"), 400) if s.action == "request_extend")
    assert datetime.fromisoformat(extend.body["until"]) > datetime.fromisoformat("2025-03-12T09:00:00+00:00")


def test_grid_workers_verify_the_hotline_calls_back_and_the_right_body_closes(sim):
    ours = snapshot("handled", verifier=f"sim-grid-{COMMUNITY}")
    verdicts = Counter((s.action, s.actor) for s in choices(sim, ours, 400) if s.action != "supervise")
    assert set(verdicts) == {("verify", f"grid:{COMMUNITY}"), ("reject", f"grid:{COMMUNITY}")}
    theirs = snapshot("handled", verifier="gridworker")  # a person's: the leader names ours once, then checks
    named = choices(sim, theirs)
    assert {(s.action, s.body.get("verifier")) for s in named if s.action != "supervise"} == {
        ("assign_verifier", f"sim-grid-{COMMUNITY}")
    }
    assert {s.action for s in choices(sim, theirs, verifier_named=True)} <= {"verify", "supervise"}
    calling = snapshot("verified", callback={"required": True, "reason": "caller", "outcome": None})
    calls = [s for s in choices(sim, calling, 400) if s.action != "supervise"]
    assert {s.actor for s in calls} == {"hotline"} and {s.action for s in calls} == {"callback"}
    outcomes = Counter((s.body["reached"], s.body.get("satisfied")) for s in calls)
    assert set(outcomes) == {(True, True), (True, False), (False, None)}
    assert outcomes[(True, True)] > outcomes[(True, False)]
    done = snapshot("verified", callback={"required": True, "reason": "caller", "outcome": "satisfied"})
    assert {(s.action, s.actor) for s in choices(sim, done) if s.action != "supervise"} == {("close", "leader")}
    station = f"station:{SQ_COMMUNITY}"
    community_case = snapshot(
        "verified",
        department_code="SQ",
        level="community",
        assignee=f"sim-station-{SQ_COMMUNITY}",
        grid={"community": SQ_COMMUNITY},
    )
    assert {(s.action, s.actor) for s in choices(sim, community_case) if s.action != "supervise"} == {
        ("close", station)
    }
    assert {s.actor for s in choices(sim, {**community_case, "status": "closed"}) if s.action == "archive"} == {station}
    assert {s.actor for s in choices(sim, {**community_case, "status": "claimed"}) if s.action == "handle"} == {station}


def test_without_a_token_the_step_goes_to_someone_who_has_one(sim):
    actors = Actors({"leader", "dept"})  # no grid workers, no hotline
    plan = Plan("inc-1")
    plan.update(snapshot("handled", verifier=f"sim-grid-{COMMUNITY}"))
    cfg = LoopConfig(p_supervise=0)
    step = next_step(plan, random.Random(1), sim.catalogue, config=cfg, actors=actors)
    assert (step.action, step.actor) == ("verify", "leader")
    plan.update(snapshot("verified", callback={"required": True, "reason": "caller", "outcome": None}))
    step = next_step(plan, random.Random(1), sim.catalogue, config=cfg, actors=actors)
    assert (step.action, step.actor) == ("callback", "leader")


class FakeEngine:
    """Just enough of the server for a play: the transition table and the loop's side effects on the snapshot."""

    def __init__(self, category: str = "020101", call_nature: str | None = None):
        self.incident = snapshot("reported", category_code=category, department_code="HW")
        self.call_nature = call_nature

    def apply(self, step: Step) -> dict:
        inc, action = self.incident, Action(step.action)
        inc["status"] = str(TRANSITIONS[(Status(inc["status"]), action)])
        if action is Action.DISPATCH:
            inc["department_code"] = step.body.get("department", inc["department_code"])
            inc["partners"] = [{"department_code": d, "done_at": None} for d in step.body.get("partners", [])]
        elif action is Action.PART_DONE:
            for p in inc["partners"]:
                if p["department_code"] == step.body["department"]:
                    p["done_at"] = "2025-03-12T08:00:00+00:00"
        elif action is Action.HANDLE:
            inc["verifier"] = f"sim-grid-{COMMUNITY}"
        elif action is Action.VERIFY and self.call_nature == "callback":
            inc["callback"] = {"required": True, "reason": "caller", "outcome": None}
        elif action is Action.CALLBACK:
            satisfied = step.body.get("satisfied")
            outcome = "not_reached" if not step.body["reached"] else "satisfied" if satisfied else "unsatisfied"
            inc["callback"] = {**inc["callback"], "outcome": outcome}
            if outcome == "unsatisfied":
                inc["status"], inc["rework_count"] = "rework", inc["rework_count"] + 1
                inc["callback"]["outcome"] = None
        elif action is Action.REJECT:
            inc["rework_count"] += 1
        elif action is Action.RETURN:
            inc["return_count"] += 1
        return dict(inc)


@pytest.mark.parametrize("seed", range(12))
def test_plays_reach_their_goal_with_legal_steps_only(sim, seed):
    rng = random.Random(seed)
    for goal in GOALS:
        if goal == "untouched":
            continue
        engine = FakeEngine(call_nature=rng.choice([None, "callback"]))
        plan = Plan("inc-1", goal=goal)
        plan.update(engine.incident)
        while (step := next_step(plan, rng, sim.catalogue, {"HW": ["HW001"]})) is not None:
            assert_legal(step, plan.incident)
            plan.update(engine.apply(step))
            plan.done(step)
        status = plan.incident["status"]
        assert plan.steps < LoopConfig().max_steps
        if status == "voided":  # a return may be voided by the shift leader: that play ends there
            assert "return" in plan.actions
        elif goal == "requested":
            assert plan.pending in {"extend", "suspend"} and status == "claimed"
        else:
            assert status == goal, (goal, plan.actions)


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
    assert client.as_actor("grid:330199001001") == {}  # no such token and no "grid" fallback
    assert client.as_actor("dept:SZ") == {"Authorization": "Bearer t-any"}


class Recorder:
    """A stand-in for the requests session: records each request, answers 201."""

    def __init__(self):
        self.calls: list[tuple[str, str, dict]] = []

    def request(self, method, url, **kwargs):
        self.calls.append((method, url, kwargs))
        return type("R", (), {"status_code": 201, "text": "", "json": lambda self: {}})()


def test_evidence_uploads_are_small_jpegs_of_different_colours_as_multipart_parts():
    from io import BytesIO

    from PIL import Image

    from dispatcher.intake.media import Kind, identify
    from workers.simulator.protocol import Client

    session = Recorder()
    client = Client("http://sim", SimStats(), tokens={"dept:HW": "t-hw"}, session=session)
    client.upload("inc-1", "handle", ("before", "after"), actor="dept:HW", seed=4)
    ((method, url, kwargs),) = session.calls
    assert (method, url) == ("POST", "http://sim/api/v1/incidents/inc-1/media")
    assert kwargs["data"] == {"stage": "handle"} and kwargs["headers"] == {"Authorization": "Bearer t-hw"}
    parts = dict(kwargs["files"])
    assert set(parts) == {"before", "after"}
    colours = {}
    for part, (name, data, mime) in parts.items():
        assert name.endswith(".jpg") and mime == "image/jpeg" and len(data) < 20_000
        assert identify(Kind(part), BytesIO(data), mime, part=part).mime == "image/jpeg"  # what the server accepts
        with Image.open(BytesIO(data)) as image:
            colours[part] = image.convert("RGB").resize((1, 1)).getpixel((0, 0))
    assert colours["before"] != colours["after"]
    assert photo("before", 1) != photo("before", 2)


def test_a_refused_step_is_counted_and_the_case_read_again(demo_index):
    """A 409/422 is logged and skipped: the plan re-reads the incident and chooses again, never raising."""
    answers = {
        "POST": [(409, {"code": "conflict"}), (200, snapshot("claimed"))],
        "GET": [(200, snapshot("dispatched"))],
    }

    class Session:
        def __init__(self):
            self.calls = []

        def request(self, method, url, **kwargs):
            self.calls.append((method, url))
            status, body = answers[method].pop(0)
            return type("R", (), {"status_code": status, "text": str(body), "json": lambda self: body})()

    stats = SimStats()
    sim = Simulator(
        "http://sim", grids=demo_index, seed=5, stats=stats, session=Session(), loop=LoopConfig(p_supervise=0)
    )
    plan = Plan("inc-1", goal="claimed", next=Step("claim", "dept:HW", {"note": "已签收"}))
    plan.update(snapshot("dispatched"))
    sim._plans = 1
    sim._do_action(plan)
    assert stats.steps_rejected == {"claim": 1} and stats.actions_rejected == 1
    assert plan.retries == 1 and plan.next is not None  # chosen again after reading the case anew
    (event,) = sim.agenda.pending("action")
    plan.next = Step("claim", "dept:HW", {"note": "已签收"})
    sim._do_action(event.payload)
    assert stats.steps == {"claim": 1} and plan.incident["status"] == "claimed" and plan.actions == ["claim"]
    assert sim._plans == 0  # the goal is reached: the play ends
    assert "claim 1 (refused: claim 1)" in sim.status_line(0.0)
