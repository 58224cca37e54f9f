"""Duplicate reports through the API on both backends: suggestion at create, merge / unmerge, call-back lists,
the triage queue, permissions and scope."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.helpers import act, count, inside
from tests.integration.test_scope_matrix import bearer, make_account

M_PER_DEG_LAT = 111_195.0


def point(city, unit_index=10, north_m=0.0):
    lon, lat = inside(city.grids.by_level("unit")[unit_index])
    return lon, lat + north_m / M_PER_DEG_LAT


def post(client, city, *, unit_index=10, north_m=0.0, category="020101", **extra):
    lon, lat = point(city, unit_index, north_m)
    body = {"description": "人行道上有暴露垃圾", "category_code": category, "lon": lon, "lat": lat, **extra}
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 201, response.json
    return response.json


def pair(client, city, clock):
    first = post(client, city, reporter_name="王小明", reporter_phone="13812345678", call_nature="callback")
    clock.now += timedelta(minutes=5)
    second = post(
        client,
        city,
        north_m=20,
        reporter_name="李四",
        reporter_phone="13900001111",
        call_nature="callback",
        callback_name="李大妈",
        callback_phone="13700002222",
    )
    return first, second


def test_a_second_report_20_m_away_lists_the_first(client, city, clock):
    first, second = pair(client, city, clock)
    assert first["duplicates"] == []
    assert [(d["id"], d["reason"]) for d in second["duplicates"]] == [(first["id"], "nearby")]
    assert abs(second["duplicates"][0]["distance_m"] - 20) < 1
    assert second["status"] == "reported"  # suggested, never merged by itself
    other = post(client, city, north_m=10, category="020201")
    assert other["duplicates"] == []
    listed = client.get(f"/api/v1/incidents/{second['id']}/duplicates").json
    assert [i["id"] for i in listed["items"]] == [first["id"]] and listed["items"][0]["status"] == "reported"


def test_merge_then_unmerge_keeps_both_timelines_and_outbox(client, city, clock, db):
    _, engine, _ = db
    first, second = pair(client, city, clock)
    merged = act(client, second["id"], "merge", parent_id=first["id"], note="同一处垃圾")
    assert merged.status_code == 200, merged.json
    assert merged.json["status"] == "merged" and merged.json["parent_id"] == first["id"]
    assert merged.json["allowed_actions"] == ["unmerge"] and merged.json["stage_deadline"] is None
    parent = client.get(f"/api/v1/incidents/{first['id']}").json
    assert parent["merged_count"] == 1 and parent["status"] == "reported"
    child_tl = client.get(f"/api/v1/incidents/{second['id']}/timeline").json["entries"]
    parent_tl = client.get(f"/api/v1/incidents/{first['id']}/timeline").json["entries"]
    assert [e["action"] for e in child_tl] == ["report", "merge"] and child_tl[-1]["data"]["parent_id"] == first["id"]
    assert [e["action"] for e in parent_tl] == ["report", "merged_in"]
    assert parent_tl[-1]["data"]["child_id"] == second["id"] and parent_tl[-1]["to_status"] == "reported"
    assert count(engine, "outbox", "incident_id = :i AND name = 'incident.merge'", i=second["id"]) == 1
    assert count(engine, "outbox", "incident_id = :i AND name = 'incident.merged_in'", i=first["id"]) == 1
    open_ids = {i["id"] for i in client.get("/api/v1/incidents?open=true").json["items"]}
    assert second["id"] not in open_ids and first["id"] in open_ids

    back = act(client, second["id"], "unmerge")
    assert back.status_code == 200, back.json
    assert back.json["status"] == "reported" and back.json["parent_id"] is None and back.json["stage"] == "file"
    assert back.json["grid"] == second["grid"] and back.json["department_code"] == second["department_code"]
    assert client.get(f"/api/v1/incidents/{first['id']}").json["merged_count"] == 0
    parent_tl = client.get(f"/api/v1/incidents/{first['id']}/timeline").json["entries"]
    assert [e["action"] for e in parent_tl] == ["report", "merged_in", "unmerged"]
    assert count(engine, "outbox", "incident_id = :i AND name = 'incident.unmerged'", i=first["id"]) == 1


def test_merge_refusals(client, city, clock):
    first, second = pair(client, city, clock)
    third = post(client, city, north_m=30)
    assert act(client, second["id"], "merge").json["error"]["field"] == "parent_id"
    itself = act(client, second["id"], "merge", parent_id=second["id"])
    assert itself.status_code == 422 and second["id"] in itself.json["error"]["message"]
    missing = act(client, second["id"], "merge", parent_id="no-such-id")
    assert missing.status_code == 404 and "no-such-id" in missing.json["error"]["message"]
    assert act(client, second["id"], "merge", parent_id=first["id"]).status_code == 200
    chain = act(client, third["id"], "merge", parent_id=second["id"])
    assert chain.status_code == 409 and first["id"] in chain.json["error"]["message"]
    assert act(client, third["id"], "void", reason="重复测试").status_code == 200
    voided = act(client, first["id"], "merge", parent_id=third["id"])
    assert voided.status_code == 409 and third["id"] in voided.json["error"]["message"]
    again = act(client, second["id"], "merge", parent_id=first["id"])
    assert again.status_code == 409 and again.json["error"]["code"] == "illegal_transition"


def test_callbacks_list_every_caller_masked_and_unmask_is_audited(client, city, clock, db):
    _, engine, _ = db
    first, second = pair(client, city, clock)
    act(client, second["id"], "merge", parent_id=first["id"])
    listed = client.get(f"/api/v1/incidents/{first['id']}/callbacks").json
    assert [(i["incident_id"], i["relation"], i["needs_callback"]) for i in listed["items"]] == [
        (first["id"], "self", True),
        (second["id"], "merged", True),
    ]
    assert [(i["reporter_name"], i["reporter_phone"]) for i in listed["items"]] == [
        ("王**", "138****5678"),
        ("李*", "139****1111"),
    ]
    assert (listed["items"][1]["callback_name"], listed["items"][1]["callback_phone"]) == ("李**", "137****2222")
    assert "13812345678" not in str(listed) and "13700002222" not in str(listed)
    full = client.post(f"/api/v1/incidents/{first['id']}/callbacks/unmask").json
    assert [i["reporter_phone"] for i in full["items"]] == ["13812345678", "13900001111"]
    assert full["items"][1]["callback_phone"] == "13700002222"
    assert count(engine, "audit_log", "action = 'unmask' AND target = :t", t=f"incident:{second['id']}") == 1


def test_roles_without_merge_get_403_and_out_of_scope_ids_404(client, city, clock, db, tokens):
    _, _, sessions = db
    first, second = pair(client, city, clock)
    dept = client.post(
        f"/api/v1/incidents/{second['id']}/actions/merge",
        json={"parent_id": first["id"]},
        headers=bearer(tokens["dept"]),
    )
    assert dept.status_code == 403 and "merge" in dept.json["error"]["message"]
    street = city.grids.path_of(first["grid"]["unit"]).street
    elsewhere = next(u for u in city.grids.by_level("unit") if city.grids.path_of(u.code).street != street)
    _, outsider = make_account(sessions, "dispatcher", city.grids.path_of(elsewhere.code).street, None)
    h = bearer(outsider)
    for method, path, body in [
        ("GET", f"/api/v1/incidents/{second['id']}/duplicates", None),
        ("GET", f"/api/v1/incidents/{first['id']}/callbacks", None),
        ("POST", f"/api/v1/incidents/{second['id']}/actions/merge", {"parent_id": first["id"]}),
    ]:
        response = client.open(path, method=method, json=body, headers=h)
        assert response.status_code == 404, (path, response.json)
    # a parent outside the merging dispatcher's scope is as unknown as a missing one
    lon, lat = inside(elsewhere)
    theirs = client.post(
        "/api/v1/incidents", json={"description": "x", "category_code": "020101", "lon": lon, "lat": lat}, headers=h
    ).json
    refused = client.post(f"/api/v1/incidents/{theirs['id']}/actions/merge", json={"parent_id": first["id"]}, headers=h)
    assert refused.status_code == 404 and first["id"] in refused.json["error"]["message"]
    assert client.get(f"/api/v1/incidents/{first['id']}").json["merged_count"] == 0
    own = client.get("/api/v1/triage", headers=h).json["items"]
    assert first["id"] not in {i["incident"]["id"] for i in own}


def test_triage_lists_unplaced_and_suspected_duplicates_with_reasons(client, city, clock):
    outside = client.post(
        "/api/v1/incidents", json={"description": "某处井盖缺失", "category_code": "010101", "lon": 116.39, "lat": 39.9}
    ).json
    clock.now += timedelta(minutes=1)
    first, second = pair(client, city, clock)
    lonely = post(client, city, unit_index=3000)
    queue = client.get("/api/v1/triage")
    assert queue.status_code == 200, queue.json
    items = queue.json["items"]
    assert [i["incident"]["id"] for i in items] == [outside["id"], second["id"]]  # oldest first
    assert items[0]["reason"] == "outside_grid" and items[0]["detail"]
    assert items[1]["reason"] == "suspected_duplicate" and first["id"] in items[1]["detail"]
    assert [c["id"] for c in items[1]["candidates"]] == [first["id"]]
    assert lonely["id"] not in {i["incident"]["id"] for i in items}
    act(client, second["id"], "merge", parent_id=first["id"])
    assert [i["incident"]["id"] for i in client.get("/api/v1/triage").json["items"]] == [outside["id"]]


def test_a_merged_report_outside_the_callers_scope_is_withheld_and_cannot_be_unmasked(client, city, clock, db):
    """Issue 9, item 6: a report from another street merged into a case in mine does not hand me its caller."""
    _, engine, sessions = db
    units = city.grids.by_level("unit")
    mine = units[10]
    street = city.grids.path_of(mine.code).street
    other = next(i for i, u in enumerate(units) if city.grids.path_of(u.code).street != street)
    parent = post(client, city, reporter_name="王小明", reporter_phone="13812345678", call_nature="callback")
    child = post(
        client,
        city,
        unit_index=other,
        reporter_name="李四",
        reporter_phone="13900001111",
        call_nature="callback",
        callback_name="李大妈",
        callback_phone="13700002222",
    )
    assert act(client, child["id"], "merge", parent_id=parent["id"]).status_code == 200  # by the district
    principal, token = make_account(sessions, "dispatcher", street, None)
    h = bearer(token)
    assert client.get(f"/api/v1/incidents/{child['id']}", headers=h).status_code == 404  # not mine to see

    listed = client.get(f"/api/v1/incidents/{parent['id']}/callbacks", headers=h)
    assert listed.status_code == 200, listed.json
    for leak in ("李", "1111", "2222"):  # neither masked nor in full
        assert leak not in listed.get_data(as_text=True), leak
    own, withheld = listed.json["items"]
    assert (own["incident_id"], own["in_scope"], own["reporter_phone"]) == (parent["id"], True, "138****5678")
    assert (withheld["incident_id"], withheld["relation"], withheld["in_scope"]) == (child["id"], "merged", False)
    assert withheld["needs_callback"] is True
    personal = ("reporter_name", "reporter_phone", "callback_name", "callback_phone")
    assert [withheld[k] for k in personal] == [None] * 4

    full = client.post(f"/api/v1/incidents/{parent['id']}/callbacks/unmask", headers=h)
    assert full.status_code == 200, full.json
    assert [i["reporter_phone"] for i in full.json["items"]] == ["13812345678", None]
    assert "13900001111" not in full.get_data(as_text=True) and "13700002222" not in full.get_data(as_text=True)
    unmasked = f"action = 'unmask' AND actor = '{principal.username}'"
    assert count(engine, "audit_log", unmasked + " AND target = :t", t=f"incident:{parent['id']}") == 1
    assert count(engine, "audit_log", unmasked + " AND target = :t", t=f"incident:{child['id']}") == 0
    direct = client.post(f"/api/v1/incidents/{child['id']}/unmask", headers=h)
    assert direct.status_code == 404 and "13900001111" not in direct.get_data(as_text=True)

    district = client.post(f"/api/v1/incidents/{parent['id']}/callbacks/unmask").json  # the district sees both
    assert [i["reporter_phone"] for i in district["items"]] == ["13812345678", "13900001111"]
    assert [i["in_scope"] for i in district["items"]] == [True, True]
