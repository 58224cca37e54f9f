"""The incident API on both backends: lifecycle through HTTP, timeline and outbox written together, filters."""

from datetime import timedelta

import pytest

from tests.integration.helpers import act, count, inside, report


def test_full_lifecycle_writes_one_timeline_row_and_one_outbox_row_per_step(client, city, db):
    _, engine, _ = db
    created = report(client, city)
    assert created.status_code == 201
    incident = created.json
    assert incident["status"] == "reported" and incident["grid"]["unit"] == city.grids.by_level("unit")[10].code
    steps = [
        ("file", {}),
        ("dispatch", {}),
        ("claim", {"assignee": "王师傅"}),
        ("handle", {"result": "已清运"}),
        ("reject", {"reason": "现场仍有垃圾"}),
        ("claim", {}),
        ("handle", {"result": "二次清运完成"}),
        ("verify", {}),
        ("close", {}),
        ("archive", {}),
    ]
    for action, body in steps:
        response = act(client, incident["id"], action, **body)
        assert response.status_code == 200, (action, response.json)
    final = response.json
    # each feedback carries its before/after photos: an `evidence` step before each `handle`
    expected = ["report"] + [step for a, _ in steps for step in (["evidence", a] if a == "handle" else [a])]
    assert final["status"] == "archived" and final["rework_count"] == 1 and final["version"] == len(expected)
    timeline = client.get(f"/api/v1/incidents/{incident['id']}/timeline").json["entries"]
    assert [e["action"] for e in timeline] == expected
    assert timeline[5]["note"] == "已清运" and timeline[6]["note"] == "现场仍有垃圾"
    events = "incident_id = :i AND name LIKE 'incident.%'"
    assert count(engine, "outbox", events, i=incident["id"]) == len(timeline)


def test_illegal_transition_is_409_naming_the_incident_and_writes_nothing(client, city, db):
    _, engine, _ = db
    incident = report(client, city).json
    response = act(client, incident["id"], "claim")
    assert response.status_code == 409
    assert response.json["error"]["code"] == "illegal_transition"
    assert incident["id"] in response.json["error"]["message"]
    assert count(engine, "timeline") == 1 and count(engine, "outbox") == 1


def test_routing_records_department_level_rule_and_reason(client, city):
    incident = report(client, city, category="020101").json
    category = city.catalogue.category("020101")
    assert incident["department_code"] in {category.default_department, "JD-" + incident["grid"]["street"]}
    assert incident["routing"]["rule"] and "020101" in incident["routing"]["reason"]
    assert incident["grid"]["version"] == client.get("/health").json["grid_version"]


def test_point_outside_every_grid_lands_in_triage_with_the_reason(client):
    response = client.post(
        "/api/v1/incidents", json={"description": "某处井盖缺失", "category_code": "010101", "lon": 116.39, "lat": 39.9}
    )
    assert response.status_code == 201
    body = response.json
    assert body["status"] == "triage" and body["triage"]["reason"] == "outside_grid"
    assert body["grid"]["unit"] is None and body["department_code"] is None
    listed = client.get("/api/v1/incidents?status=triage").json
    assert [i["id"] for i in listed["items"]] == [body["id"]]


def test_unknown_category_and_category_without_department_go_to_triage(client, city):
    unknown = report(client, city, category="999999").json
    assert unknown["status"] == "triage" and unknown["triage"]["reason"] == "unknown_category"
    orphan = next(c for c in city.catalogue.categories.values() if c.default_department is None)
    nobody = report(client, city, unit_index=3000, category=orphan.code).json
    assert nobody["status"] == "triage" and nobody["triage"]["reason"] == "no_department"


def test_triage_is_filed_after_correcting_location(client, city):
    outside = client.post(
        "/api/v1/incidents", json={"description": "x", "category_code": "020101", "lon": 116.39, "lat": 39.9}
    ).json
    refused = act(client, outside["id"], "file")
    assert refused.status_code == 422 and refused.json["error"]["field"] == "outside_grid"
    lon, lat = inside(city.grids.by_level("unit")[42])
    filed = act(client, outside["id"], "file", lon=lon, lat=lat)
    assert filed.status_code == 200, filed.json
    assert filed.json["status"] == "filed" and filed.json["grid"]["unit"] == city.grids.by_level("unit")[42].code
    assert filed.json["triage"] is None and filed.json["department_code"]


def test_dispatch_to_unknown_department_is_422_and_changes_nothing(client, city):
    incident = report(client, city).json
    act(client, incident["id"], "file")
    response = act(client, incident["id"], "dispatch", department="NOPE")
    assert response.status_code == 422 and "NOPE" in response.json["error"]["message"]
    assert client.get(f"/api/v1/incidents/{incident['id']}").json["status"] == "filed"


@pytest.mark.parametrize(("action", "field"), [("return", "reason_code"), ("transfer", "assignee")])
def test_actions_missing_their_required_field_are_422_naming_it(client, city, action, field):
    incident = report(client, city).json
    for step in ("file", "dispatch", "claim"):
        act(client, incident["id"], step)
    response = act(client, incident["id"], action)
    assert response.status_code == 422 and response.json["error"]["field"] == field


def test_escalation_climbs_the_ladder_and_stops_at_the_top(client, city):
    incident = report(client, city).json
    act(client, incident["id"], "file")
    levels = [incident["level"]]
    for _ in range(10):
        response = act(client, incident["id"], "escalate", reason="本级无法处置")
        if response.status_code != 200:
            break
        levels.append(response.json["level"])
    ladder = [lvl.code for lvl in city.router.escalation_ladder]
    assert levels == ladder[ladder.index(levels[0]) :]
    assert response.status_code == 422 and "top" in response.json["error"]["message"]


def test_suspension_stops_the_clock_and_resume_moves_the_deadline(client, city, clock):
    incident = report(client, city).json
    for step in ("file", "dispatch", "claim"):
        body = act(client, incident["id"], step).json
    deadline = body["stage_deadline"]
    act(client, incident["id"], "suspend", reason="等待产权单位确认")
    clock.now += timedelta(hours=2)  # two working hours on a Wednesday morning
    resumed = act(client, incident["id"], "resume").json
    from datetime import datetime

    moved = datetime.fromisoformat(resumed["stage_deadline"]) - datetime.fromisoformat(deadline)
    assert moved >= timedelta(hours=2)


def test_extension_needs_a_later_deadline(client, city):
    incident = report(client, city).json
    for step in ("file", "dispatch", "claim"):
        body = act(client, incident["id"], step).json
    earlier = act(client, incident["id"], "extend", until=body["stage_started_at"], reason="x")
    assert earlier.status_code == 422 and earlier.json["error"]["field"] == "until"
    later = act(client, incident["id"], "extend", until="2026-12-31T09:00:00+08:00", reason="需协调")
    assert later.status_code == 200 and later.json["stage_deadline"].startswith("2026-12-31T01:00")


def test_overdue_filter_and_traffic_light_follow_the_clock(client, city, clock):
    incident = report(client, city).json
    assert incident["light"] == "green" and incident["overdue"] is False
    clock.now += timedelta(days=3)
    late = client.get(f"/api/v1/incidents/{incident['id']}").json
    assert late["light"] == "red" and late["overdue"] is True
    assert [i["id"] for i in client.get("/api/v1/incidents?overdue=true").json["items"]] == [incident["id"]]
    assert client.get("/api/v1/incidents?overdue=false").json["total"] == 0


def test_list_filters_by_grid_at_any_level_category_time_and_paginates(client, city, clock):
    units = city.grids.by_level("unit")
    first_street = units[0].code[:9]
    other = next(i for i, u in enumerate(units) if not u.code.startswith(first_street))
    ids = [report(client, city, unit_index=0).json["id"]]
    clock.now += timedelta(minutes=5)
    ids.append(report(client, city, unit_index=1, category="020103").json["id"])
    clock.now += timedelta(minutes=5)
    report(client, city, unit_index=other)
    by_street = client.get(f"/api/v1/incidents?grid={first_street}").json
    assert {i["id"] for i in by_street["items"]} == set(ids)
    by_unit = client.get(f"/api/v1/incidents?grid={units[0].code}").json
    assert [i["id"] for i in by_unit["items"]] == ids[:1]
    assert client.get("/api/v1/incidents?category=0201").json["total"] == 3
    assert client.get("/api/v1/incidents?category=020103").json["total"] == 1
    since = (clock.now - timedelta(minutes=7)).isoformat()
    assert client.get("/api/v1/incidents", query_string={"created_from": since}).json["total"] == 2
    page = client.get("/api/v1/incidents?page_size=2&page=2").json
    assert page["total"] == 3 and len(page["items"]) == 1 and page["items"][0]["id"] == ids[0]
    statuses = client.get("/api/v1/incidents?status=reported&status=filed").json
    assert statuses["total"] == 3


def test_idempotency_key_replays_the_first_answer(client, city, db):
    _, engine, _ = db
    lon, lat = inside(city.grids.by_level("unit")[5])
    body = {"description": "占道经营", "category_code": "020502", "lon": lon, "lat": lat}
    first = client.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": "k-1"})
    again = client.post("/api/v1/incidents", json=body, headers={"Idempotency-Key": "k-1"})
    assert first.status_code == again.status_code == 201
    assert first.json == again.json and count(engine, "incident") == 1
    different = client.post(
        "/api/v1/incidents", json={**body, "description": "别的事"}, headers={"Idempotency-Key": "k-1"}
    )
    assert different.status_code == 409 and different.json["error"]["field"] == "Idempotency-Key"
    assert count(engine, "incident") == 1


BAD_BODIES = [
    ({}, "description"),
    ({"description": ""}, "description"),
    ({"description": "x", "lon": 120.1}, "lon and lat"),
    ({"description": "x", "lon": "east", "lat": 30.2}, "lon"),
    ({"description": "x", "lon": 30.2, "lat": 120.1}, "swapped"),
    ({"description": "x", "lon": 200, "lat": 30}, "lon"),
    ({"description": "x"}, "address"),
    ({"description": "x", "address": "a", "urgency": 9}, "urgency"),
    ({"description": "x", "address": "a", "channel": "carrier-pigeon"}, "channel"),
    ({"description": "x", "address": "a", "surprise": 1}, "surprise"),
    ({"description": "x" * 4001, "address": "a"}, "description"),
    ([1, 2, 3], "dict"),
]


@pytest.mark.parametrize(("body", "named"), BAD_BODIES)
def test_bad_create_bodies_are_422_naming_the_problem_and_write_nothing(client, db, body, named):
    _, engine, _ = db
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 422
    assert named in response.json["error"]["message"]
    assert count(engine, "incident") == 0 and count(engine, "outbox") == 0


def test_broken_json_huge_bodies_and_unknown_things_are_4xx(client, city, app):
    broken = client.post("/api/v1/incidents", data="{nope", content_type="application/json")
    assert broken.status_code == 400 and "JSON" in broken.json["error"]["message"]
    huge = client.post(
        "/api/v1/incidents", data="x" * (app.config["MAX_CONTENT_LENGTH"] + 1), content_type="application/json"
    )
    assert huge.status_code == 413
    assert client.get("/api/v1/incidents/no-such-id").status_code == 404
    incident = report(client, city).json
    unknown = act(client, incident["id"], "teleport")
    assert unknown.status_code == 404 and "teleport" in unknown.json["error"]["message"]
    assert client.get("/api/v1/incidents?page_size=100000").status_code == 422
    assert client.get("/api/v1/incidents?status=bogus").status_code == 422
    assert client.get("/api/v1/no-such-endpoint").status_code == 404


def test_stale_expected_version_is_409(client, city):
    incident = report(client, city).json
    act(client, incident["id"], "file")
    stale = act(client, incident["id"], "dispatch", expected_version=incident["version"])
    assert stale.status_code == 409 and stale.json["error"]["code"] == "concurrent_update"


def test_openapi_and_health(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {
        "/api/v1/incidents",
        "/api/v1/incidents/{incident_id}/actions/{action}",
        "/api/v1/locate",
        "/api/v1/grids",
    } <= set(paths)
    health = client.get("/health")
    assert health.status_code == 200 and health.json["database"] == "ok" and health.json["redis"] == "absent"


def test_category_without_department_is_filed_with_a_department_chosen_by_the_operator(client, city):
    orphan = next(c for c in city.catalogue.categories.values() if c.default_department is None)
    incident = report(client, city, unit_index=3000, category=orphan.code).json
    assert act(client, incident["id"], "file").status_code == 422
    filed = act(client, incident["id"], "file", department="CGZF")
    assert filed.status_code == 200, filed.json
    assert filed.json["department_code"] == "CGZF" and filed.json["routing"]["rule"] == "manual:test-leader"
    assert filed.json["triage"] is None
