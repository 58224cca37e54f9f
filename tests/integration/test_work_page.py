"""The workbench (/work) and the drawer's action forms, through the Dash callbacks as the browser calls them:
each person's boxes and counts, filters and search, the buttons the drawer offers (exactly workflow.may_act), and
the forms turning into the right ActionRequest. Both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dashboard.pages.drawer_forms import build_request
from dashboard.pages.work_views import stable_order
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action, allowed_actions
from dispatcher.handling import workflow
from tests.integration.helpers import act, before_and_after, inside
from tests.integration.test_scope_matrix import _walk, bearer, dash_server, make_account  # noqa: F401

TZ = "Asia/Shanghai"
COMMUNITY = "330199001001"


# ---- the forms, without a server ------------------------------------------------------------------------------


def test_a_return_carries_its_reason_code_and_text():
    req = build_request(Action.RETURN, {"reason_code": "wrong_location", "reason": " 地址在隔壁街道 "}, tz=TZ)
    assert (req.reason_code, req.reason) == ("wrong_location", "地址在隔壁街道")


def test_an_extension_request_reads_a_local_date_and_time():
    req = build_request(Action.REQUEST_EXTEND, {"date": "2025-03-05", "time": "09:30", "reason": "等配件"}, tz=TZ)
    assert req.until == datetime(2025, 3, 5, 1, 30, tzinfo=UTC) and req.reason == "等配件"


def test_a_decision_names_the_request_it_decides():
    pending = {"id": 7, "reason": "施工期", "until": "2025-03-06T10:00:00+00:00"}
    approve = build_request(Action.EXTEND, {}, tz=TZ, pending=pending)
    assert approve.request_id == 7 and approve.reason == "施工期"
    assert approve.until == datetime(2025, 3, 6, 10, tzinfo=UTC)
    refuse = build_request(Action.REFUSE, {"reason": "无正当理由"}, tz=TZ, pending=pending)
    assert (refuse.request_id, refuse.reason) == (7, "无正当理由")


def test_dispatch_callback_verifier_and_feedback_forms():
    dispatch = build_request(
        Action.DISPATCH, {"partners": ["CGZF", "HW"], "assignee": " hw-li "}, tz=TZ, department="HW"
    )
    assert (dispatch.department, dispatch.partners, dispatch.assignee) == ("HW", ["CGZF"], "hw-li")
    called = build_request(Action.CALLBACK, {"reached": "yes", "satisfied": "no", "note": "仍有异味"}, tz=TZ)
    assert (called.reached, called.satisfied, called.note) == (True, False, "仍有异味")
    missed = build_request(Action.CALLBACK, {"reached": "no", "satisfied": "yes"}, tz=TZ)
    assert (missed.reached, missed.satisfied) == (False, None)
    assert build_request(Action.ASSIGN_VERIFIER, {"verifier": "gw-1"}, tz=TZ).verifier == "gw-1"
    handled = build_request(Action.HANDLE, {"result": "已清运"}, tz=TZ, public_note=" 已处理 ")
    assert (handled.result, handled.public_note) == ("已清运", "已处理")
    assert build_request(Action.SUPERVISE, {"reason": "群众反映强烈"}, tz=TZ).reason == "群众反映强烈"


def test_a_live_refresh_keeps_rows_in_place():
    assert stable_order(["a", "b", "c"], ["c", "d", "a"]) == ["a", "c", "d"]
    assert stable_order(None, ["c", "a"]) == ["c", "a"]


# ---- through the Dash callbacks ---------------------------------------------------------------------------------


def _spec(client, headers, predicate) -> dict:
    deps = client.get("/_dash-dependencies", headers=headers)
    assert deps.status_code == 200
    return next(c for c in deps.json if predicate(c))


def _call(client, headers, spec: dict, inputs: list, state: list, changed: str | None = None) -> dict:
    """POST one callback with values for its inputs and state, in the order the spec lists them."""

    def outputs(spec):
        text = spec["output"]
        parts = text.strip(".").split("...") if text.startswith("..") else [text]
        out = []
        for part in parts:
            component, prop = part.rsplit(".", 1)
            component = json.loads(component) if component.startswith("{") else component
            out.append({"id": component, "property": prop.split("@")[0]})
        return out

    outs = outputs(spec)
    if changed is None:
        first = inputs[0][0] if isinstance(inputs[0], list) else inputs[0]
        key = first["id"]
        key = json.dumps(key, sort_keys=True, separators=(",", ":")) if isinstance(key, dict) else key
        changed = f"{key}.{first['property']}"
    body = {
        "output": spec["output"],
        "outputs": outs if len(outs) > 1 else outs[0],
        "inputs": inputs,
        "changedPropIds": [changed],
        "state": state,
    }
    response = client.post("/_dash-update-component", json=body, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.json if response.status_code == 200 else {}


def v(id_, prop, value):
    return {"id": id_, "property": prop, "value": value}


class Desk:
    """One signed-in person at the workbench: the list callback, the drawer and its buttons and forms."""

    def __init__(self, client, headers, lang="en"):
        self.client, self.h, self.lang = client, headers, lang

    def box(self, box="todo", trigger="wk-tab", **filters) -> tuple[list[str], dict[str, str]]:
        spec = _spec(self.client, self.h, lambda c: "wk-list.children" in c["output"])
        values = {"stage": None, "category": None, "grid": None, "due": None, "q": None, "phone": None, **filters}
        inputs = [
            v("wk-tab", "value", box),
            *[v(f"wk-{k}", "value", values[k]) for k in ("stage", "category", "grid", "due", "q", "phone")],
            v("cc-seq", "data", 1),
            v("wk-tick", "n_intervals", 1),
            v("cc-selected", "data", None),
        ]
        prop = {"wk-tab": "value", "cc-seq": "data", "wk-tick": "n_intervals"}.get(trigger, "value")
        state = [v("wk-order", "data", None), v("gc-lang", "data", self.lang)]
        answer = _call(self.client, self.h, spec, inputs, state, changed=f"{trigger}.{prop}")
        response = answer["response"]
        order = response["wk-order"]["data"]
        labels = {k.removeprefix("wk-tab-"): val["label"] for k, val in response.items() if k.startswith("wk-tab-")}
        return order, labels

    def drawer(self, incident_id) -> tuple[set[str], str]:
        spec = _spec(self.client, self.h, lambda c: c["output"].startswith("..cc-drawer-body.children"))
        answer = _call(
            self.client,
            self.h,
            spec,
            [v("cc-selected", "data", incident_id), v("cc-seq", "data", 0)],
            [v("cc-drawer-ver", "data", None), v("gc-lang", "data", self.lang)],
        )
        response = answer["response"]
        acts = response["cc-drawer-actions"]["children"]
        buttons = {
            b["props"]["id"]["action"]
            for b in _walk(acts)
            if isinstance(b.get("props", {}).get("id"), dict) and b["props"]["id"].get("type") == "cc-act"
        }
        return buttons, json.dumps(response, ensure_ascii=False)

    def submit(self, incident_id, action: str, fields: dict, department=None) -> str:
        """Press a form's submit button with its fields filled in; the toast's text."""
        spec = _spec(
            self.client, self.h, lambda c: any(s["id"].startswith('{"action":["ALL"]') for s in c.get("state", []))
        )
        state_fields = [
            v({"action": action, "field": name, "type": "cc-f"}, "value", value) for name, value in fields.items()
        ]
        answer = _call(
            self.client,
            self.h,
            spec,
            [[v({"action": action, "type": "cc-act"}, "n_clicks", 1)]],
            [
                state_fields,
                v("cc-selected", "data", incident_id),
                v("cc-act-public", "value", None),
                v("cc-dispatch-dept", "value", department),
                v("cc-act-result", "data", 0),
                v("gc-lang", "data", self.lang),
            ],
        )
        return json.dumps(answer.get("response", {}), ensure_ascii=False)


@pytest.fixture
def loop(dash_server, client, db, city):  # noqa: F811
    """A case in the grid worker's community, dispatched to HW; two HW handlers, a grid worker, a shift leader."""
    _, _, sessions = db
    unit = next(u for u in city.grids.by_level("unit") if city.grids.path_of(u.code).community == COMMUNITY)
    lon, lat = inside(unit)
    created = client.post(
        "/api/v1/incidents",
        json={
            "description": "workbench 垃圾满溢",
            "category_code": "020101",
            "lon": lon,
            "lat": lat,
            "address": "云河路 8 号",
        },
    )
    assert created.status_code == 201, created.json
    incident_id = created.json["id"]
    assert act(client, incident_id, "file").status_code == 200
    assert act(client, incident_id, "dispatch", department="HW").status_code == 200
    people = {
        "hw1": make_account(sessions, "dept_handler", None, "HW"),
        "hw2": make_account(sessions, "dept_handler", None, "HW"),
        "grid": make_account(sessions, "grid_worker", COMMUNITY, None),
        "shift": make_account(sessions, "shift_leader", "330199", None),
        "cgzf": make_account(sessions, "dept_handler", None, "CGZF"),
    }
    desks = {name: Desk(client, bearer(token)) for name, (_, token) in people.items()}
    return {"id": incident_id, "people": people, "desks": desks, "sessions": sessions, "city": city}


def _incident(loop) -> Incident:
    with loop["sessions"]() as session:
        incident = session.get(Incident, loop["id"])
        session.expunge(incident)
        return incident


def _expected_buttons(loop, who) -> set[str]:
    principal, _ = loop["people"][who]
    incident = _incident(loop)
    return {str(a) for a in allowed_actions(incident.state) if workflow.may_act(loop["city"], principal, a, incident)}


def test_the_loop_through_the_workbench_boxes_counts_buttons_and_forms(loop, client):
    d, case = loop["desks"], loop["id"]
    for who in ("hw1", "grid", "shift"):  # the page itself, with the person's tabs
        page = _call(
            client,
            d[who].h,
            _spec(client, d[who].h, lambda c: c["output"] == "gc-page.children"),
            [v("gc-url", "pathname", "/work"), v("gc-lang", "data", "zh")],
            [v("gc-url", "search", "")],
        )
        text = json.dumps(page, ensure_ascii=False)
        assert "wk-tab-todo" in text and "待办" in text and "cc-drawer-body" in text
        assert "gc-nav-work" in text  # the header links the workbench for these roles
        tabs = {
            c["props"]["id"]: c["props"]
            for c in _walk(page["response"]["gc-page"]["children"])
            if str(c.get("props", {}).get("id", "")).startswith("wk-tab-")
        }
        assert (tabs["wk-tab-department"].get("disabled") is False) is (who == "hw1")  # 部门箱: departments only
    order, labels = d["hw1"].box("todo")
    assert case in order and labels["todo"].startswith("To do ") and int(labels["todo"].split()[-1]) >= 1
    assert "department" in labels  # a department account has the department box
    assert case in d["hw2"].box("todo")[0]
    assert case not in d["cgzf"].box("todo")[0] and case not in d["grid"].box("todo")[0]
    assert "department" not in d["grid"].box("todo")[1]

    for who in ("hw1", "cgzf", "shift", "grid"):  # the drawer offers exactly what the workflow lets them do
        buttons, _ = d[who].drawer(case)
        assert buttons == _expected_buttons(loop, who), who
    assert {"claim", "return", "escalate"} <= d["hw1"].drawer(case)[0]

    # filters and search narrow the box
    assert case in d["hw1"].box("todo", trigger="wk-q", q=case[:6])[0]
    assert case in d["hw1"].box("todo", trigger="wk-q", q="云河路")[0]
    assert case not in d["hw1"].box("todo", trigger="wk-q", q="no such street")[0]
    assert case not in d["hw1"].box("todo", trigger="wk-category", category="01")[0]
    assert case in d["hw1"].box("todo", trigger="wk-stage", stage="handle")[0]
    assert case not in d["hw1"].box("todo", trigger="wk-stage", stage="verify")[0]
    assert case in d["hw1"].box("todo", trigger="wk-phone", phone="13800000000")[0]  # ignored: may not see phones

    # a return with an evidence-bound reason needs its file: the engine's error reaches the toast
    refused = d["hw1"].submit(case, "return", {"reason_code": "wrong_location", "reason": "地址不对"})
    assert "needs evidence" in refused and _incident(loop).status == "dispatched"

    # the claim takes it out of the colleague's box
    assert "Done" not in d["hw1"].submit(case, "claim", {})  # a plain action: the forms' callback leaves it alone
    principal, token = loop["people"]["hw1"]
    assert client.post(f"/api/v1/incidents/{case}/actions/claim", json={}, headers=bearer(token)).status_code == 200
    assert case in d["hw1"].box("todo")[0] and case not in d["hw2"].box("todo")[0]

    # an extension request: in the requester's and the shift leader's approval box; refused with a reason
    asked = d["hw1"].submit(case, "request_extend", {"date": "2031-01-02", "time": "10:00", "reason": "等待配件"})
    assert "Done" in asked, asked
    assert case in d["hw1"].box("approval")[0] and case in d["shift"].box("approval")[0]
    buttons, text = d["shift"].drawer(case)
    assert {"extend", "refuse"} <= buttons and "等待配件" in text
    assert "Done" in d["shift"].submit(case, "refuse", {"reason": "理由不足"})
    assert case not in d["shift"].box("approval")[0]

    # feedback needs the before/after photos; then the grid worker verifies from their box
    no_photos = d["hw1"].submit(case, "handle", {"result": "已清运"})
    assert "photos" in no_photos and _incident(loop).status == "claimed"
    before_and_after(client, case, **bearer(token))
    assert "Done" in d["hw1"].submit(case, "handle", {"result": "已清运"})
    # the community may have other grid workers (accounts of other tests): name ours as the verifier
    grid_worker = loop["people"]["grid"][0].username
    assert "Done" in d["shift"].submit(case, "assign_verifier", {"verifier": grid_worker})
    assert case in d["grid"].box("todo")[0]
    assert {"verify", "reject"} <= d["grid"].drawer(case)[0] == _expected_buttons(loop, "grid")
    assert "Done" in d["grid"].submit(case, "verify", {"note": "现场已清理"})
    incident = _incident(loop)
    assert incident.status == "verified" and case in d["grid"].box("done")[0]
    assert case in d["shift"].box("todo")[0]  # no callback required: the shift leader closes
    assert "close" in d["shift"].drawer(case)[0]


def test_a_notifications_link_opens_its_case_in_the_drawer(dash_server, tokens):  # noqa: F811
    """`/work?incident=<id>` (the bell's link) renders the workbench with that case selected; the drawer then
    loads it in the reader's scope like a click would."""
    client = dash_server.test_client()
    headers = {"Authorization": f"Bearer {tokens['leader']}"}
    spec = _spec(client, headers, lambda c: c["output"] == "gc-page.children")
    page = _call(
        client,
        headers,
        spec,
        [v("gc-url", "pathname", "/work"), v("gc-lang", "data", "zh")],
        [v("gc-url", "search", "?incident=abc-123&lang=zh")],
    )
    stores = [
        n for n in _walk(page["response"]["gc-page"]["children"]) if n.get("props", {}).get("id") == "cc-selected"
    ]
    assert [s["props"]["data"] for s in stores] == ["abc-123"]
