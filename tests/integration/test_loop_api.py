"""The loop after dispatch played through the API on both backends: approvals (挂账/延期), joint handling, revoking
a dispatch, verification and the callback, spot checks, the closing path per level, the escalation handover,
区下派, the ledger and the notifications."""

from __future__ import annotations

import io
from datetime import timedelta

from dashboard.runtime import runtime_of
from tests.integration.helpers import before_and_after, count, jpeg, report
from tests.integration.test_boxes_api import Person, dispatched

COMMUNITY = "330199001001"  # the community of demo unit grid 10
SQ_COMMUNITY_UNIT = 1621  # a unit grid of community 330199003002, where the community clears garbage itself


def post(client, incident_id: str, action: str, **body):
    """An action signed as conftest's ActingClient picks (the shift leader; the department head for its steps)."""
    return client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json=body)


def ok(response) -> dict:
    assert response.status_code == 200, response.json
    return response.json


def timeline(client, incident_id: str) -> list[dict]:
    return client.get(f"/api/v1/incidents/{incident_id}/timeline").json["entries"]


def handled(client, city, handler: Person, **extra) -> dict:
    """A case dispatched to HW, claimed by `handler` and fed back with before and after photos."""
    case = dispatched(client, city, **extra)
    ok(handler.act(client, case["id"], "claim"))
    before_and_after(client, case["id"], **handler.headers)
    return ok(handler.act(client, case["id"], "handle", result="已清运"))


# --- approvals -------------------------------------------------------------------------------------------------


def test_a_suspension_request_keeps_the_clock_running_until_the_shift_leader_approves(client, city, db, clock):
    _, engine, _ = db
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    ok(handler.act(client, case["id"], "claim"))
    asked = ok(handler.act(client, case["id"], "request_suspend", reason="等待产权单位确认"))
    assert asked["status"] == "claimed" and asked["suspended_at"] is None
    assert asked["stage_deadline"] == case["stage_deadline"]
    again = handler.act(client, case["id"], "request_suspend", reason="再次申请")
    assert again.status_code == 409 and case["id"] in again.json["error"]["message"]
    direct = handler.act(client, case["id"], "suspend", reason="自己批准")
    assert direct.status_code == 403 and "dept_handler" in direct.json["error"]["message"]
    assert count(engine, "notification", "incident_id = :i AND kind = 'approval_request'", i=case["id"]) >= 1

    clock.now += timedelta(minutes=30)
    approved = ok(post(client, case["id"], "suspend", reason="同意挂账"))
    assert approved["status"] == "suspended" and approved["suspended_at"] == clock.now.isoformat()
    assert client.get("/api/v1/boxes/approval").json["items"] == []  # decided: out of the approval box
    with engine.connect() as conn:
        decided = conn.exec_driver_sql("SELECT status, decided_by, requested_by FROM approval").all()
    assert [tuple(r) for r in decided] == [("approved", "test-leader", handler.name)]
    mine = handler.get(client, "/notifications").json["items"]
    assert any(n["kind"] == "approval_decision" for n in mine)
    assert [e["action"] for e in timeline(client, case["id"])][-3:] == ["claim", "request_suspend", "suspend"]

    clock.now += timedelta(days=2)  # well past the working day it had: paused, it is not late
    assert handler.box(client, "overdue") == [] and case["id"] in handler.box(client)
    resumed = ok(handler.act(client, case["id"], "resume"))
    assert resumed["status"] == "claimed" and resumed["suspended_at"] is None
    assert resumed["stage_deadline"] > case["stage_deadline"]  # moved by the paused working time


def test_an_extension_is_refused_then_asked_again_and_approved_with_the_requested_date(client, city, db):
    _, engine, _ = db
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    ok(handler.act(client, case["id"], "claim"))
    deadline = case["stage_deadline"]
    direct = handler.act(client, case["id"], "extend", until="2026-12-09T02:00:00Z", reason="自己延期")
    assert direct.status_code == 403
    early = handler.act(client, case["id"], "request_extend", until=deadline, reason="需要更多时间")
    assert early.status_code == 422 and early.json["error"]["field"] == "until"
    ok(handler.act(client, case["id"], "request_extend", until="2026-12-09T02:00:00Z", reason="需调运大型设备"))

    no_reason = post(client, case["id"], "refuse")
    assert no_reason.status_code == 422 and no_reason.json["error"]["field"] == "reason"
    refused = ok(post(client, case["id"], "refuse", reason="一周太长，请三日内处置"))
    assert refused["status"] == "claimed" and refused["stage_deadline"] == deadline
    nothing = post(client, case["id"], "refuse", reason="没有待审批的申请")
    assert nothing.status_code == 422 and nothing.json["error"]["field"] == "request_id"

    ok(handler.act(client, case["id"], "request_extend", until="2026-12-04T02:00:00Z", reason="三日内完成"))
    extended = ok(post(client, case["id"], "extend", reason="同意延期"))
    assert extended["stage_deadline"] == "2026-12-04T02:00:00+00:00"
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT kind, status, decision_note FROM approval ORDER BY id").all()
    assert [tuple(r) for r in rows] == [
        ("extend", "refused", "一周太长，请三日内处置"),
        ("extend", "approved", "同意延期"),
    ]


def test_a_request_nobody_decided_lapses_when_the_case_leaves_its_handler(client, city, db):
    """Fed back while the extension request waited: it is closed as lapsed, so no later decision picks it up."""
    _, engine, _ = db
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    ok(handler.act(client, case["id"], "claim"))
    ok(handler.act(client, case["id"], "request_extend", until="2026-12-09T02:00:00Z", reason="需调运大型设备"))
    media = before_and_after(client, case["id"], **handler.headers)
    ok(handler.act(client, case["id"], "handle", result="已清运", media_ids=media))
    with engine.connect() as conn:
        rows = conn.exec_driver_sql("SELECT status, decided_by FROM approval").all()
    assert [tuple(r) for r in rows] == [("lapsed", handler.name)]
    assert client.get("/api/v1/boxes/approval").json["items"] == []


def test_feedback_photos_must_be_the_handling_steps_own(client, city, db):
    """A file named in media_ids counts for feedback only if it was uploaded at stage 'handle' (not 'return')."""
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    ok(handler.act(client, case["id"], "claim"))
    data = {"stage": "return", "before": (io.BytesIO(jpeg("grey")), "b.jpg"), "after": (io.BytesIO(jpeg()), "a.jpg")}
    uploaded = client.post(f"/api/v1/incidents/{case['id']}/media", data=data, content_type="multipart/form-data",
                           headers=handler.headers)  # fmt: skip
    ids = [m["id"] for m in uploaded.json["media"]]
    refused = handler.act(client, case["id"], "handle", result="已清运", media_ids=ids)
    assert refused.status_code == 422 and refused.json["error"]["field"] == "media_ids"
    assert (
        all(i in refused.json["error"]["message"] for i in ids) and "stage handle" in refused.json["error"]["message"]
    )


# --- joint handling and revoking -------------------------------------------------------------------------------


def test_a_partner_department_does_its_part_before_the_lead_may_feed_back(client, city, db, tokens):
    _, engine, _ = db
    cgzf = {"Authorization": f"Bearer {tokens['dept:CGZF']}"}
    created = report(client, city).json
    ok(post(client, created["id"], "file"))
    case = ok(post(client, created["id"], "dispatch", partners=["CGZF"]))
    assert case["department_code"] == "HW" and [p["department_code"] for p in case["partners"]] == ["CGZF"]
    assert client.get(f"/api/v1/incidents/{case['id']}", headers=cgzf).status_code == 200
    assert case["id"] in [i["id"] for i in client.get("/api/v1/boxes/todo", headers=cgzf).json["items"]]
    assert count(engine, "notification", "incident_id = :i AND kind = 'dispatch'", i=case["id"]) >= 2

    refused = client.post(f"/api/v1/incidents/{case['id']}/actions/claim", json={}, headers=cgzf)
    assert refused.status_code == 403  # a partner does its part; the lead department claims
    ok(post(client, case["id"], "claim"))  # the HW head
    before_and_after(client, case["id"], Authorization=f"Bearer {tokens['dept:HW']}")
    early = post(client, case["id"], "handle", result="已清运")
    assert early.status_code == 422 and "CGZF" in early.json["error"]["message"]

    photo = {"stage": "handle", "photo": (io.BytesIO(jpeg()), "part.jpg")}  # the partner documents its part
    added = client.post(f"/api/v1/incidents/{case['id']}/media", data=photo, content_type="multipart/form-data",
                        headers=cgzf)  # fmt: skip
    assert added.status_code == 201, added.json
    part = client.post(
        f"/api/v1/incidents/{case['id']}/actions/part_done", json={"result": "已查处乱倒垃圾行为"}, headers=cgzf
    )
    assert part.status_code == 200, part.json
    assert part.json["partners"][0]["done_at"] is not None and part.json["status"] == "claimed"
    twice = client.post(f"/api/v1/incidents/{case['id']}/actions/part_done", json={"result": "再报"}, headers=cgzf)
    assert twice.status_code == 409
    assert ok(post(client, case["id"], "handle", result="已清运"))["status"] == "handled"


def test_revoke_takes_back_an_unclaimed_dispatch_only(client, city):
    case = dispatched(client, city)
    assert post(client, case["id"], "revoke").status_code == 422  # needs a reason
    revoked = ok(post(client, case["id"], "revoke", reason="派错部门"))
    assert revoked["status"] == "filed" and revoked["stage"] == "dispatch" and revoked["assignee"] is None
    ok(post(client, case["id"], "dispatch"))
    ok(post(client, case["id"], "claim"))
    late = post(client, case["id"], "revoke", reason="已签收后撤销")
    assert late.status_code == 409 and late.json["error"]["code"] == "illegal_transition"


# --- verification and the callback ----------------------------------------------------------------------------


def test_the_reporting_grid_worker_verifies_unless_the_dispatcher_names_another(client, city, db):
    reporter = Person(db, "grid_worker", COMMUNITY)
    neighbour = Person(db, "grid_worker", COMMUNITY)
    dispatcher = Person(db, "dispatcher", "330199")
    handler = Person(db, "dept_handler", None, "HW")
    lon_lat = report(client, city).json["location"]
    created = client.post(
        "/api/v1/incidents",
        json={"description": "垃圾堆放", "category_code": "020101", **lon_lat},
        headers=reporter.headers,
    )
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    for action in ("file", "dispatch"):
        ok(post(client, incident_id, action))
    ok(handler.act(client, incident_id, "claim"))
    before_and_after(client, incident_id, **handler.headers)
    fed_back = ok(handler.act(client, incident_id, "handle", result="已清运"))
    assert fed_back["verifier"] == reporter.name
    assert incident_id in reporter.box(client) and incident_id not in neighbour.box(client)
    assert any(n["kind"] == "verification" for n in reporter.get(client, "/notifications").json["items"])
    stranger = neighbour.act(client, incident_id, "verify")
    assert stranger.status_code == 403 and reporter.name in stranger.json["error"]["message"]

    assert neighbour.act(client, incident_id, "assign_verifier", verifier=neighbour.name).status_code == 403
    assert ok(dispatcher.act(client, incident_id, "assign_verifier", verifier=neighbour.name))["verifier"] == (
        neighbour.name
    )
    assert reporter.act(client, incident_id, "verify").status_code == 403
    assert ok(neighbour.act(client, incident_id, "verify"))["status"] == "verified"


def test_a_caller_who_asked_to_be_called_back_is_before_the_case_closes(client, city, db):
    _, engine, _ = db
    hotline = Person(db, "hotline", "330199")
    handler = Person(db, "dept_handler", None, "HW")
    lon_lat = report(client, city).json["location"]
    created = client.post(
        "/api/v1/incidents",
        json={
            "description": "小区门口垃圾没人清",
            "category_code": "020101",
            "call_nature": "callback",
            "reporter_phone": "13700137000",
            **lon_lat,
        },
        headers=hotline.headers,
    )
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    for action in ("file", "dispatch"):
        ok(post(client, incident_id, action))
    ok(handler.act(client, incident_id, "claim"))
    before_and_after(client, incident_id, **handler.headers)
    ok(handler.act(client, incident_id, "handle", result="已清运"))
    verified = ok(post(client, incident_id, "verify"))
    assert verified["callback"] == {"required": True, "reason": "caller", "outcome": None}
    early = post(client, incident_id, "close")
    assert early.status_code == 422 and early.json["error"]["field"] == "callback"
    assert hotline.box(client, phone="13700137000") == [incident_id]  # the call-taker finds it by the number
    leader_done = [i["id"] for i in client.get("/api/v1/boxes/done").json["items"]]
    assert incident_id in leader_done  # the shift leader verified it; it waits for the call-taker now
    assert incident_id not in [i["id"] for i in client.get("/api/v1/boxes/todo").json["items"]]

    before = len(timeline(client, incident_id))
    unhappy = ok(hotline.act(client, incident_id, "callback", reached=True, satisfied=False, note="垃圾还在"))
    assert unhappy["status"] == "rework" and unhappy["rework_count"] == 1
    assert unhappy["callback"]["outcome"] is None  # the next fix needs its own callback
    rows = timeline(client, incident_id)
    assert [(e["action"], e["to_status"]) for e in rows[before:]] == [("callback", "verified"), ("reject", "rework")]
    assert count(engine, "outbox", "incident_id = :i AND name LIKE 'incident.%'", i=incident_id) == len(rows)
    assert incident_id in handler.box(client)  # back on the handler's desk
    assert incident_id not in hotline.box(client)

    ok(handler.act(client, incident_id, "claim"))
    before_and_after(client, incident_id, **handler.headers)
    ok(handler.act(client, incident_id, "handle", result="二次清运"))
    ok(post(client, incident_id, "verify"))
    ok(hotline.act(client, incident_id, "callback", reached=True, satisfied=True))
    closed = ok(post(client, incident_id, "close"))
    assert closed["status"] == "closed" and closed["callback"]["outcome"] == "satisfied"


def test_community_cases_are_spot_checked_at_the_configured_rate(app, client, city, db):
    runtime = runtime_of(app)
    runtime.settings = runtime.settings.model_copy(update={"spot_check_rate": 1.0})
    handler = Person(db, "dept_handler", None, "HW")
    case = handled(client, city, handler)
    assert case["level"] == "community"
    verified = ok(post(client, case["id"], "verify"))
    assert verified["callback"] == {"required": True, "reason": "spot_check", "outcome": None}
    assert post(client, case["id"], "close").status_code == 422
    ok(post(client, case["id"], "callback", reached=False, note="无人接听"))
    assert ok(post(client, case["id"], "close"))["status"] == "closed"  # not reached is a record too

    district = handled(client, city, handler, category="020108")  # district level: never sampled
    assert ok(post(client, district["id"], "verify"))["callback"]["required"] is False


# --- the closing path per level --------------------------------------------------------------------------------


def test_a_community_workstation_closes_its_own_case(client, city, db):
    station = Person(db, "dept_handler", "330199003002", "SQ")
    hw = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city, unit_index=SQ_COMMUNITY_UNIT)
    assert case["department_code"] == "SQ" and case["level"] == "community"
    assert case["routing"]["rule"] == "override:sq-community-3-2"
    ok(station.act(client, case["id"], "claim"))
    before_and_after(client, case["id"], **station.headers)
    ok(station.act(client, case["id"], "handle", result="社区保洁员已清理"))
    ok(post(client, case["id"], "verify"))
    assert case["id"] in station.box(client)  # the closing path makes the workstation the closer
    assert hw.act(client, case["id"], "close").status_code == 404  # not HW's: outside its scope
    closed = ok(station.act(client, case["id"], "close"))
    assert closed["status"] == "closed"
    assert ok(station.act(client, case["id"], "archive"))["status"] == "archived"


def test_a_district_case_is_closed_by_the_command_center_not_by_the_department(client, city, db, tokens):
    handler = Person(db, "dept_handler", None, "HW")
    case = handled(client, city, handler, category="020108")
    assert case["level"] == "district"
    ok(post(client, case["id"], "verify"))
    for who in (handler.headers, {"Authorization": f"Bearer {tokens['dept:HW']}"}):
        refused = client.post(f"/api/v1/incidents/{case['id']}/actions/close", json={}, headers=who)
        assert refused.status_code == 403 and "command_center" in refused.json["error"]["message"]
    assert ok(post(client, case["id"], "close"))["status"] == "closed"  # the shift leader


# --- escalation handover and 区下派 -----------------------------------------------------------------------------


def test_escalation_hands_the_case_to_the_next_levels_owner(client, city, db):
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    assert (case["level"], case["department_code"]) == ("community", "HW")
    ok(handler.act(client, case["id"], "claim"))
    head = Person(db, "dept_head", None, "HW")
    escalated = ok(head.act(client, case["id"], "escalate", reason="需街道协调保洁力量"))
    assert escalated["status"] == "escalated" and escalated["level"] == "street"
    assert escalated["department_code"] == "JD-330199001" and escalated["assignee"] is None
    assert escalated["escalation_count"] == 1
    assert case["id"] not in handler.box(client)
    street = Person(db, "dept_head", None, "JD-330199001")
    assert case["id"] in street.box(client)
    redispatched = ok(post(client, case["id"], "dispatch"))
    assert redispatched["department_code"] == "JD-330199001" and redispatched["status"] == "dispatched"


def test_down_dispatch_of_a_district_case_to_a_street_office(client, city):
    created = report(client, city, category="020108").json
    assert created["level"] == "district" and created["department_code"] == "HW"
    ok(post(client, created["id"], "file"))
    sent = ok(post(client, created["id"], "dispatch", department="JD-330199001"))
    assert sent["department_code"] == "JD-330199001" and sent["level"] == "street"
    assert sent["down_dispatch_street"] == "330199001"


# --- the ledger and the notifications --------------------------------------------------------------------------


def test_an_archived_case_is_in_the_ledger_and_the_handler_was_told_of_the_dispatch(client, city, db):
    _, engine, _ = db
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city, category="020108")
    inbox = handler.get(client, "/notifications").json
    assert [n["kind"] for n in inbox["items"] if n["incident_id"] == case["id"]] == ["dispatch"]
    assert inbox["unread"] >= 1
    ok(handler.act(client, case["id"], "claim"))
    before_and_after(client, case["id"], **handler.headers)
    ok(handler.act(client, case["id"], "handle", result="已清运"))
    for action in ("verify", "close", "archive"):
        ok(post(client, case["id"], action))
    assert count(engine, "ledger_entry", "incident_id = :i", i=case["id"]) == 1
    exported = client.get("/api/v1/ledger", query_string={"from": "2026-12-02", "to": "2026-12-02", "format": "csv"})
    assert exported.status_code == 200
    assert case["id"] in exported.data.decode("utf-8-sig")
