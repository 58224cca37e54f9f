"""Returns (退单) through the API on both backends: reason codes and their evidence, the command center's
arbitration (uphold, re-dispatch, void), and returns counted per department and reason."""

from __future__ import annotations

import io
from datetime import timedelta

from tests.integration.helpers import count, jpeg
from tests.integration.test_boxes_api import Person, dispatched

DAY = {"from": "2026-12-02", "to": "2026-12-02"}  # T0 is 2026-12-02 10:00 in Shanghai


def head_of(tokens, department: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[f'dept:{department}']}"}


def returned(client, city, reason_code: str = "not_ours", **extra) -> dict:
    """A case dispatched to its routed department and returned by that department's head."""
    case = dispatched(client, city, **extra)
    response = client.post(
        f"/api/v1/incidents/{case['id']}/actions/return", json={"reason_code": reason_code, "reason": "不属本部门"}
    )
    assert response.status_code == 200, response.json
    return response.json


def test_a_return_needs_a_known_reason_code(client, city):
    case = dispatched(client, city)
    missing = client.post(f"/api/v1/incidents/{case['id']}/actions/return", json={"reason": "不归我们管"})
    assert missing.status_code == 422 and missing.json["error"]["field"] == "reason_code"
    unknown = client.post(
        f"/api/v1/incidents/{case['id']}/actions/return", json={"reason_code": "lazy", "reason": "不归我们管"}
    )
    assert unknown.status_code == 422 and "lazy" in unknown.json["error"]["message"]
    assert client.get(f"/api/v1/incidents/{case['id']}").json["status"] == "dispatched"


def test_an_evidence_bound_reason_needs_a_file_uploaded_at_stage_return(client, city, db, tokens):
    _, engine, _ = db
    case = dispatched(client, city)
    body = {"reason_code": "wrong_location", "reason": "现场地址不符"}
    bare = client.post(f"/api/v1/incidents/{case['id']}/actions/return", json=body)
    assert bare.status_code == 422 and bare.json["error"]["field"] == "media_ids"
    assert case["id"] in bare.json["error"]["message"] and "wrong_location" in bare.json["error"]["message"]
    upload = client.post(
        f"/api/v1/incidents/{case['id']}/media",
        data={"stage": "return", "photo": (io.BytesIO(jpeg("blue")), "site.jpg", "image/jpeg")},
        content_type="multipart/form-data",
        headers=head_of(tokens, "HW"),
    )
    assert upload.status_code == 201, upload.json
    done = client.post(f"/api/v1/incidents/{case['id']}/actions/return", json=body)
    assert done.status_code == 200, done.json
    assert done.json["status"] == "returned" and done.json["return_count"] == 1 and done.json["assignee"] is None
    row = client.get(f"/api/v1/incidents/{case['id']}/timeline").json["entries"][-1]
    assert row["action"] == "return" and row["data"]["reason_code"] == "wrong_location"
    assert row["data"]["department"] == "HW"  # counted per returning department
    assert count(engine, "notification", "incident_id = :i AND kind = 'return'", i=case["id"]) >= 1


def test_uphold_sends_it_back_to_the_same_department_with_its_clock(client, city, clock):
    case = returned(client, city)
    clock.now += timedelta(hours=1)
    upheld = client.post(f"/api/v1/incidents/{case['id']}/actions/uphold", json={"reason": "属环卫职责，请处置"})
    assert upheld.status_code == 200, upheld.json
    assert upheld.json["status"] == "dispatched" and upheld.json["department_code"] == "HW"
    assert upheld.json["stage_deadline"] == case["stage_deadline"]  # the clock kept running: no new time
    assert upheld.json["stage_started_at"] == case["stage_started_at"]
    bare = client.post(f"/api/v1/incidents/{case['id']}/actions/claim", json={})  # signed by the HW head
    assert bare.status_code == 200


def test_redispatch_to_another_department_restarts_the_clock(client, city, clock):
    case = returned(client, city)
    same = client.post(f"/api/v1/incidents/{case['id']}/actions/dispatch", json={"department": "HW"})
    assert same.status_code == 422 and same.json["error"]["field"] == "department"
    assert "HW" in same.json["error"]["message"]
    clock.now += timedelta(hours=1)
    moved = client.post(f"/api/v1/incidents/{case['id']}/actions/dispatch", json={"department": "CGZF"})
    assert moved.status_code == 200, moved.json
    assert moved.json["status"] == "dispatched" and moved.json["department_code"] == "CGZF"
    assert moved.json["stage_started_at"] == clock.now.isoformat()
    assert moved.json["stage_deadline"] > case["stage_deadline"]


def test_the_shift_leader_may_void_a_returned_case(client, city):
    case = returned(client, city, reason_code="duplicate")
    voided = client.post(f"/api/v1/incidents/{case['id']}/actions/void", json={"reason": "重复案件，作废"})
    assert voided.status_code == 200 and voided.json["status"] == "voided"


def test_returns_are_counted_per_department_and_reason(client, city, db, tokens, clock):
    first = returned(client, city)
    assert client.post(f"/api/v1/incidents/{first['id']}/actions/uphold", json={"reason": "请处置"}).status_code == 200
    again = client.post(
        f"/api/v1/incidents/{first['id']}/actions/return", json={"reason_code": "not_ours", "reason": "仍不属本部门"}
    )
    assert again.status_code == 200
    returned(client, city, reason_code="duplicate", unit_index=11)
    returned(client, city, reason_code="info_missing", unit_index=3000, category="020201")  # CGZF's
    clock.now += timedelta(days=1)
    returned(client, city, unit_index=13)  # the next day: outside the period

    stats = client.get("/api/v1/stats/returns", query_string=DAY)
    assert stats.status_code == 200, stats.json
    assert stats.json["items"] == [
        {"department": "HW", "reason_code": "not_ours", "count": 2},
        {"department": "CGZF", "reason_code": "info_missing", "count": 1},
        {"department": "HW", "reason_code": "duplicate", "count": 1},
    ]
    assert stats.json["total"] == 4
    both_days = client.get("/api/v1/stats/returns", query_string={"from": "2026-12-02", "to": "2026-12-03"})
    assert both_days.json["items"][0] == {"department": "HW", "reason_code": "not_ours", "count": 3}
    only_cgzf = client.get("/api/v1/stats/returns", query_string={**DAY, "department": "CGZF"}).json
    assert only_cgzf["items"] == [{"department": "CGZF", "reason_code": "info_missing", "count": 1}]

    own = client.get("/api/v1/stats/returns", query_string=DAY, headers=head_of(tokens, "HW")).json
    assert {i["department"] for i in own["items"]} == {"HW"} and own["total"] == 3
    foreign = client.get(
        "/api/v1/stats/returns", query_string={**DAY, "department": "HW"}, headers=head_of(tokens, "CGZF")
    )
    assert foreign.status_code == 403 and "HW" in foreign.json["error"]["message"]
    for role in ("hotline", "grid_worker", "dept_handler"):
        person = Person(db, role, "330199", "HW" if role == "dept_handler" else None)
        refused = person.get(client, "/stats/returns", **DAY)
        assert refused.status_code == 403 and role in refused.json["error"]["message"]
    elsewhere = Person(db, "shift_leader", "330199002")  # another street: none of these cases
    assert elsewhere.get(client, "/stats/returns", **DAY).json["items"] == []
    dispatcher = Person(db, "dispatcher", "330199")
    assert dispatcher.get(client, "/stats/returns", **DAY).json["total"] == 4


def test_returns_period_is_validated(client):
    backwards = client.get("/api/v1/stats/returns", query_string={"from": "2026-12-03", "to": "2026-12-02"})
    assert backwards.status_code == 422 and backwards.json["error"]["field"] == "to"
    missing = client.get("/api/v1/stats/returns", query_string={"to": "2026-12-02"})
    assert missing.status_code == 422 and missing.json["error"]["field"] == "from"
    bad = client.get("/api/v1/stats/returns", query_string={**DAY, "department": "NOPE"})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "department"
