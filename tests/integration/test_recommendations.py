"""Recommended officers end to end, both backends: only officers of the department the case goes to (the routed one
or `department=`), ranked by status, distance and load; the drawer's rows show name, department and post, follow the
dispatch form's department, dispatch in one click and then show the assignee by name."""

from __future__ import annotations

import json

import pytest
import redis as redis_lib

from dashboard.runtime import runtime_of
from dispatcher.cases.incident import Incident
from dispatcher.fleet.officers import Officer
from tests.integration.helpers import act, inside, report
from tests.integration.test_positions_api import _ts, enrol
from tests.integration.test_scope_matrix import _walk, bearer, dash_server, make_account  # noqa: F401
from tests.integration.test_work_page import Desk, _call, _spec, v

UNIT = 10
OFFICERS = {  # id: (name, role, department, on duty, metres east of the case)
    "ZF1": ("李强", "enforcement", "CGZF", True, 20),  # the nearest of all, another department
    "GW1": ("王芳", "grid_worker", None, True, 10),  # no department at all
    "HW1": ("张伟", "handler", "HW", True, 400),
    "HW2": ("刘洋", "handler", "HW", True, 150),
    "HWOFF": ("赵敏", "handler", "HW", False, 5),  # off duty
    "HWSILENT": ("孙丽", "handler", "HW", True, None),  # never sent a fix: offline
}


@pytest.fixture
def fleet(app, client, db, redis_url, city):
    """A real Redis position store, the officers above with trackers, each reporting a fix east of the case's spot,
    and a filed case of category 020101 routed to HW."""
    _, _, sessions = db
    runtime_of(app).redis = redis_lib.Redis.from_url(redis_url)
    community = city.grids.path_of(city.grids.by_level("unit")[UNIT].code).community
    with sessions.begin() as session:
        session.add_all(
            Officer(
                id=oid,
                name=name,
                role=role,
                department_code=dept,
                grid_community=community,
                device_id=f"d-{oid}",
                on_duty=on,
            )
            for oid, (name, role, dept, on, _) in OFFICERS.items()
        )
    lon, lat = inside(city.grids.by_level("unit")[UNIT])
    trackers = {oid: enrol(sessions, oid) for oid in OFFICERS}
    runtime_of(app).forget_devices()
    for oid, (*_, metres) in OFFICERS.items():
        tracker = trackers[oid]
        if metres is not None:  # ~ 1e-5 degree of longitude ≈ 0.96 m at this latitude
            got = client.get(f"/osmand?id={tracker}&lat={lat}&lon={lon + metres / 96000}&timestamp={_ts()}")
            assert got.status_code == 200 and got.json["accepted"] is True
    incident = report(client, city, unit_index=UNIT).json
    assert act(client, incident["id"], "file").status_code == 200
    return {"id": incident["id"], "sessions": sessions}


def _recs(client, incident_id, **query):
    response = client.get(f"/api/v1/incidents/{incident_id}/recommendations", query_string=query)
    assert response.status_code == 200, response.json
    return response.json["items"]


def _department_of(sessions, incident_id) -> str | None:
    with sessions() as session:
        return session.get(Incident, incident_id).department_code


def test_only_the_routed_departments_officers_nearest_first(fleet, client):
    assert _department_of(fleet["sessions"], fleet["id"]) == "HW"
    items = _recs(client, fleet["id"])
    assert [i["officer"]["id"] for i in items] == ["HW2", "HW1"]  # not ZF1 / GW1 (closer), not off duty or offline
    first = items[0]
    assert first["officer"]["name"] == "刘洋" and first["officer"]["role"] == "handler"
    assert first["department"]["code"] == "HW" and first["department"]["name_zh"]
    assert first["status"] == "on_duty" and first["load"] == 0 and first["assigned"] is False
    assert 120 < first["distance_m"] < 180
    assert all(i["officer"]["department_code"] == "HW" for i in items)


def test_the_department_chosen_in_the_form_replaces_the_routed_one(fleet, client):
    items = _recs(client, fleet["id"], department="CGZF")
    assert [i["officer"]["id"] for i in items] == ["ZF1"]
    assert items[0]["department"]["code"] == "CGZF"
    assert _recs(client, fleet["id"], department="YL") == []  # nobody of that department has a position
    unknown = client.get(f"/api/v1/incidents/{fleet['id']}/recommendations?department=NOPE")
    assert unknown.status_code == 422


def test_load_and_status_rank_and_the_assignee_is_marked(fleet, client, city):
    assert act(client, fleet["id"], "dispatch", department="HW", assignee="HW2").status_code == 200
    items = _recs(client, fleet["id"])
    assert [i["officer"]["id"] for i in items] == ["HW1", "HW2"]  # on duty before busy
    assert items[1]["status"] == "busy" and items[1]["load"] == 1 and items[1]["assigned"] is True
    other = report(client, city, unit_index=UNIT).json
    again = _recs(client, other["id"])
    assert [i["officer"]["id"] for i in again] == ["HW1", "HW2"] and not any(i["assigned"] for i in again)


def test_scope_as_for_the_case_itself(fleet, client, db):
    _, _, sessions = db
    _, far_token = make_account(sessions, "grid_worker", "330199007001", None)  # another street's grid worker
    hidden = client.get(f"/api/v1/incidents/{fleet['id']}/recommendations", headers=bearer(far_token))
    assert hidden.status_code == 404
    assert client.get("/api/v1/incidents/no-such-case/recommendations").status_code == 404


def _rows(actions) -> dict[str, dict]:
    """The recommendation rows of a drawer's action area: officer id → {"text": ..., "disabled": ...}."""
    rows = {}
    for node in _walk(actions):
        if "gc-rec" not in (node.get("props", {}).get("className") or "").split():
            continue
        button = next(b for b in _walk(node["props"]["children"]) if isinstance(b["props"].get("id"), dict))
        rows[button["props"]["id"]["officer"]] = {
            "text": json.dumps(node, ensure_ascii=False),
            "disabled": bool(button["props"].get("disabled")),
        }
    return rows


def _drawer(desk, incident_id):
    spec = _spec(desk.client, desk.h, lambda c: c["output"].startswith("..cc-drawer-body.children"))
    answer = _call(
        desk.client,
        desk.h,
        spec,
        [v("cc-selected", "data", incident_id), v("cc-seq", "data", 0)],
        [v("cc-drawer-ver", "data", None), v("gc-lang", "data", desk.lang)],
    )
    return answer["response"]


def test_the_drawer_rows_follow_the_department_and_dispatch_by_name(dash_server, fleet, client, db):  # noqa: F811
    _, _, sessions = db
    _, token = make_account(sessions, "shift_leader", "330199", None)
    desk = Desk(client, bearer(token), lang="zh")
    response = _drawer(desk, fleet["id"])
    rows = _rows(response["cc-drawer-actions"]["children"])
    assert list(rows) == ["HW2", "HW1"]
    assert (
        "刘洋" in rows["HW2"]["text"]
        and "区环境卫生管理中心" in rows["HW2"]["text"]
        and "部门处置人员" in rows["HW2"]["text"]
    )
    assert "在岗" in rows["HW2"]["text"] and not rows["HW2"]["disabled"]

    # the department dropdown moves to CGZF: the rows follow it
    spec = _spec(client, desk.h, lambda c: '"type":"cc-recs"' in c["output"])
    recs_id = {"incident": fleet["id"], "type": "cc-recs"}
    body = {  # an ALL output: the browser sends the list of matched components
        "output": spec["output"],
        "outputs": [{"id": recs_id, "property": "children"}],
        "inputs": [v("cc-dispatch-dept", "value", "CGZF")],
        "changedPropIds": ["cc-dispatch-dept.value"],
        "state": [v("cc-selected", "data", fleet["id"]), v("gc-lang", "data", "zh")],
    }
    followed = client.post("/_dash-update-component", json=body, headers=desk.h)
    assert followed.status_code == 200, followed.get_data(as_text=True)
    children = next(iter(followed.json["response"].values()))["children"]
    assert list(_rows(children)) == ["ZF1"]
    assert "李强" in json.dumps(children, ensure_ascii=False)

    # one click dispatches HW2 to HW
    spec = _spec(client, desk.h, lambda c: "cc-act-result.data" in c["output"] and "cc-rec" in json.dumps(c["inputs"]))
    clicked = _call(
        client,
        desk.h,
        spec,
        [
            [v({"action": "dispatch", "type": "cc-act"}, "n_clicks", 0)],
            [v({"officer": "HW2", "type": "cc-rec"}, "n_clicks", 1)],
        ],
        [
            v("cc-selected", "data", fleet["id"]),
            v("cc-act-note", "value", None),
            v("cc-act-public", "value", None),
            v("cc-dispatch-dept", "value", "HW"),
            v("cc-act-result", "data", 0),
            v("cc-drawer-ver", "data", response["cc-drawer-ver"]["data"]),
            v("gc-lang", "data", "zh"),
        ],
        changed='{"officer":"HW2","type":"cc-rec"}.n_clicks',
    )
    assert "cc-act-result" in json.dumps(clicked)
    with sessions() as session:
        case = session.get(Incident, fleet["id"])
        assert (case.status, case.department_code, case.assignee) == ("dispatched", "HW", "HW2")

    # the drawer shows the assignee by name; HW2's button is closed (re-dispatch before a claim stays possible)
    after = _drawer(desk, fleet["id"])
    body = json.dumps(after["cc-drawer-body"], ensure_ascii=False)
    assert "刘洋 (HW2)" in body
    rows = _rows(after["cc-drawer-actions"]["children"])
    assert rows["HW2"]["disabled"] and not rows["HW1"]["disabled"]
    assert "当前处置人：刘洋 (HW2)" in json.dumps(after["cc-drawer-actions"], ensure_ascii=False)
