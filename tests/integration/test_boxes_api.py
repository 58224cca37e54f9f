"""The boxes (待办/已办/超时/待审批) through the API on both backends: who sees a case in which box as it moves,
the filters and searches, counts, and pending approvals."""

from __future__ import annotations

from datetime import timedelta

from tests.integration.helpers import before_and_after, report
from tests.integration.test_scope_matrix import bearer, make_account

COMMUNITY = "330199001001"  # the community of demo unit grid 10 (HW handles exposed garbage there)


class Person:
    """A signed-in account of the tests: its username and the headers that sign as it."""

    def __init__(self, db, role: str, region: str | None = None, department: str | None = None):
        principal, token = make_account(db[2], role, region, department)
        self.name, self.headers = principal.username, bearer(token)

    def act(self, client, incident_id: str, action: str, **body):
        return client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json=body, headers=self.headers)

    def get(self, client, path: str, **params):
        return client.get(f"/api/v1{path}", query_string=params, headers=self.headers)

    def box(self, client, box: str = "todo", **params) -> list[str]:
        response = self.get(client, f"/boxes/{box}", **params)
        assert response.status_code == 200, response.json
        return [i["id"] for i in response.json["items"]]


def dispatched(client, city, *, unit_index: int = 10, category: str = "020101", **extra) -> dict:
    """A case reported by the shift leader, filed and dispatched to its routed department."""
    created = report(client, city, unit_index=unit_index, category=category, **extra)
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    for action in ("file", "dispatch"):
        response = client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json={})
        assert response.status_code == 200, (action, response.json)
    return response.json


def test_a_dispatched_case_is_in_every_handlers_todo_until_one_claims_it(client, city, db):
    one, other = Person(db, "dept_handler", None, "HW"), Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    assert case["department_code"] == "HW" and case["status"] == "dispatched"
    assert case["id"] in one.box(client) and case["id"] in other.box(client)
    assert one.get(client, "/boxes").json["todo"] == 1

    claimed = one.act(client, case["id"], "claim")
    assert claimed.status_code == 200 and claimed.json["assignee"] == one.name
    assert case["id"] in one.box(client) and case["id"] not in other.box(client)  # at once, for the colleague
    assert other.get(client, "/boxes").json["todo"] == 0
    assert other.act(client, case["id"], "handle", result="抢着办").status_code == 403  # a claim is exclusive

    moved = one.act(client, case["id"], "transfer", assignee=other.name, note="请协助")
    assert moved.status_code == 200 and moved.json["assignee"] == other.name
    assert case["id"] in other.box(client)
    assert case["id"] not in one.box(client) and case["id"] in one.box(client, "done")
    assert one.get(client, "/boxes").json == {"todo": 0, "done": 1, "overdue": 0, "approval": 0, "department": 1}
    assert [e["action"] for e in client.get(f"/api/v1/incidents/{case['id']}/timeline").json["entries"]] == [
        "report",
        "file",
        "dispatch",
        "claim",
        "transfer",
    ]


def test_overdue_box_fills_when_the_clock_passes_the_deadline(client, city, db, clock):
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    assert handler.box(client, "overdue") == []
    clock.now += timedelta(days=2)  # 1 working day to handle, from a Wednesday morning
    assert handler.box(client, "overdue") == [case["id"]]
    assert handler.get(client, "/boxes").json["overdue"] == 1
    listed = handler.get(client, "/boxes/overdue").json["items"][0]
    assert listed["overdue"] is True and listed["light"] == "red"


def test_filters_stage_category_grid_and_due_before(client, city, db):
    handler = Person(db, "dept_handler", None, "HW")
    garbage = dispatched(client, city, category="020101")
    carcass = dispatched(client, city, unit_index=3000, category="020108")
    assert set(handler.box(client)) == {garbage["id"], carcass["id"]}
    assert set(handler.box(client, stage="handle")) == {garbage["id"], carcass["id"]}
    assert handler.box(client, stage="verify") == []
    assert handler.box(client, category="020101") == [garbage["id"]]
    assert set(handler.box(client, category="0201")) == {garbage["id"], carcass["id"]}
    assert handler.box(client, grid=COMMUNITY) == [garbage["id"]]
    assert handler.box(client, grid=carcass["grid"]["unit"]) == [carcass["id"]]
    (first, soon), (late, _) = sorted((c["stage_deadline"], c["id"]) for c in (garbage, carcass))
    assert soon == carcass["id"]  # 5 working hours to remove a carcass, a working day for garbage
    assert handler.box(client, due_before=first) == []  # strictly before
    assert handler.box(client, due_before=late.replace("+00:00", "Z")) == [soon]
    page = handler.get(client, "/boxes/todo", page_size=1, page=2).json
    assert page["total"] == 2 and len(page["items"]) == 1 and page["page"] == 2


def test_search_by_case_number_prefix_and_address(client, city, db):
    handler = Person(db, "dept_handler", None, "HW")
    on_the_avenue = dispatched(client, city, address="西湖大道88号")
    elsewhere = dispatched(client, city, unit_index=11, address="解放路12号")
    assert handler.box(client, q=on_the_avenue["id"][:8]) == [on_the_avenue["id"]]
    assert handler.box(client, q="西湖大道") == [on_the_avenue["id"]]
    assert handler.box(client, q="解放路") == [elsewhere["id"]]
    assert handler.box(client, q="不存在的路") == []


def test_phone_search_is_for_roles_that_see_numbers(client, city, db):
    dispatcher = Person(db, "dispatcher", "330199")
    hotline = Person(db, "hotline", "330199")
    handler = Person(db, "dept_handler", None, "HW")
    called = report(client, city, channel="hotline", reporter_phone="13800138000").json
    report(client, city, unit_index=11, channel="hotline", reporter_phone="13900139000")
    assert dispatcher.box(client, phone="13800138000") == [called["id"]]
    item = dispatcher.get(client, "/boxes/todo", phone="13800138000").json["items"][0]
    assert item["reporter_phone"] != "13800138000"  # listed masked; unmasking is its own audited call
    assert hotline.get(client, "/boxes/todo", phone="13800138000").status_code == 200
    refused = handler.get(client, "/boxes/todo", phone="13800138000")
    assert refused.status_code == 403
    assert "dept_handler" in refused.json["error"]["message"] and refused.json["error"]["field"] == "phone"


def test_unknown_box_is_404_naming_it_and_bad_filters_are_422(client, db):
    missing = client.get("/api/v1/boxes/inbox")
    assert missing.status_code == 404 and "inbox" in missing.json["error"]["message"]
    too_big = client.get("/api/v1/boxes/todo?page_size=501")
    assert too_big.status_code == 422 and too_big.json["error"]["field"] == "page_size"
    unknown = client.get("/api/v1/boxes/todo?colour=red")
    assert unknown.status_code == 422 and unknown.json["error"]["field"] == "colour"
    naive = client.get("/api/v1/boxes/todo?due_before=2026-12-02T10:00:00")
    assert naive.status_code == 422 and naive.json["error"]["field"] == "due_before"


def test_approval_box_and_pending_approvals(client, city, db):
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city)
    assert handler.act(client, case["id"], "claim").status_code == 200
    asked = handler.act(client, case["id"], "request_suspend", reason="等待业主配合")
    assert asked.status_code == 200 and asked.json["status"] == "claimed"
    assert client.get("/api/v1/boxes/approval").json["items"][0]["id"] == case["id"]  # the shift leader's
    assert client.get("/api/v1/boxes").json["approval"] == 1
    pending = client.get("/api/v1/approvals").json["items"]
    assert [(p["incident_id"], p["kind"], p["status"], p["requested_by"]) for p in pending] == [
        (case["id"], "suspend", "pending", handler.name)
    ]
    assert handler.get(client, "/approvals").json["items"][0]["id"] == pending[0]["id"]  # their own request
    colleague = Person(db, "dept_handler", None, "HW")
    assert colleague.get(client, "/approvals").json["items"] == []
    assert colleague.box(client, "approval") == []

    assert client.post(f"/api/v1/incidents/{case['id']}/actions/suspend", json={"reason": "同意"}).status_code == 200
    assert client.get("/api/v1/approvals").json["items"] == []
    assert client.get("/api/v1/boxes").json["approval"] == 0


def test_return_reasons_are_the_data_list(client):
    reasons = client.get("/api/v1/return-reasons").json["items"]
    by_code = {r["code"]: r for r in reasons}
    assert by_code["not_ours"] == {
        "code": "not_ours",
        "name_zh": "非本部门职责",
        "name_en": "Not our responsibility",
        "evidence": False,
    }
    assert by_code["wrong_location"]["evidence"] is True


def test_a_verified_case_leaves_the_department_unless_it_closes_it(client, city, db):
    handler = Person(db, "dept_handler", None, "HW")
    case = dispatched(client, city, category="020108")  # district level: the command center closes
    assert handler.act(client, case["id"], "claim").status_code == 200
    before_and_after(client, case["id"], **handler.headers)
    assert handler.act(client, case["id"], "handle", result="已清运").status_code == 200
    assert case["id"] not in handler.box(client)
    assert client.post(f"/api/v1/incidents/{case['id']}/actions/verify", json={}).status_code == 200
    assert case["id"] in [i["id"] for i in client.get("/api/v1/boxes/todo").json["items"]]  # the shift leader's
    assert case["id"] not in handler.box(client) and case["id"] in handler.box(client, "done")  # HW may not close it


def test_a_partner_that_did_its_part_finds_the_case_in_its_done_box(client, city, db):
    partner = Person(db, "dept_handler", None, "CGZF")
    created = report(client, city).json
    for action, body in (("file", {}), ("dispatch", {"partners": ["CGZF"]})):
        assert client.post(f"/api/v1/incidents/{created['id']}/actions/{action}", json=body).status_code == 200
    assert partner.box(client) == [created["id"]] and partner.box(client, "done") == []
    assert partner.act(client, created["id"], "part_done", result="已劝离").status_code == 200
    assert partner.box(client) == [] and partner.box(client, "done") == [created["id"]]  # nobody claimed it yet
    assert partner.get(client, "/boxes").json["done"] == 1
