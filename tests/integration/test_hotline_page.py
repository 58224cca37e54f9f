"""The hotline console (/hotline) and the triage page (/triage) through their Dash callbacks, as the browser
would call them (POST /_dash-update-component with a bearer token), on both backends: the caller's history
(audited and refused like the API), the grid path of a map click, duplicate suggestions from the engine,
stock phrases from the settings' data directory, saving a call as the signed-in user, role checks, triage filing."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import sqlalchemy as sa
from sqlalchemy import select

from dashboard.runtime import runtime_of
from dispatcher.access.accounts import Account, issue_token
from dispatcher.cases.incident import Incident
from dispatcher.settings import REPO_ROOT
from geo.distance import haversine_m
from tests.conftest import T0
from tests.integration.helpers import inside

DASH_ORIGIN = {"Origin": "http://localhost"}
PHONE = "13912345678"


@pytest.fixture
def dash_server(app):
    from dashboard.pages import mount_dash

    mount_dash(app, runtime_of(app).settings)
    return app


def account_token(db, role: str, region: str | None = "330199", department: str | None = None) -> str:
    return make_account(db, role, region, department)[1]


def make_account(db, role: str, region: str | None = "330199", department: str | None = None) -> tuple[str, str]:
    """A fresh account of `role`: (username, bearer token)."""
    _, _, sessions = db
    tag = uuid.uuid4().hex[:8]
    with sessions.begin() as session:
        account = Account(
            id=f"h{tag}",
            username=f"{role}-{tag}",
            display_name=f"{role} {tag}",
            role=role,
            region_code=region,
            department_code=department,
            password_hash="-",
            created_at=T0,
        )
        session.add(account)
        session.flush()
        return account.username, issue_token(session, account, name="tests", kind="service", now=T0)


def callback(client, token: str, output: str, inputs, state=(), changed: str | None = None):
    """POST /_dash-update-component for the callback whose output spec starts with `output`."""
    headers = {"Authorization": f"Bearer {token}", **DASH_ORIGIN}
    specs = client.get("/_dash-dependencies", headers=headers).json
    spec = next(c for c in specs if c["output"].startswith(output))
    parts = spec["output"].strip(".").split("...") if spec["output"].startswith("..") else [spec["output"]]
    outputs = [dict(zip(("id", "property"), p.rsplit(".", 1))) for p in parts]

    def entry(i, p, v):
        if isinstance(i, list):
            return [{"id": c, "property": p, "value": v} for c in i]
        return {"id": i, "property": p, "value": v}

    body = {
        "output": spec["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "inputs": [entry(i, p, v) for i, p, v in inputs],
        "changedPropIds": [changed or f"{inputs[0][0]}.{inputs[0][1]}"],
        "state": [entry(i, p, v) for i, p, v in state],
    }
    response = client.post("/_dash-update-component", json=body, headers=headers)
    assert response.status_code in (200, 204), response.get_data(as_text=True)
    return response.json["response"] if response.status_code == 200 else None


def text(component) -> str:
    return json.dumps(component, ensure_ascii=False)


def page(client, token, path: str, lang: str = "zh") -> str:
    out = callback(
        client,
        token,
        "gc-page.children",
        [("gc-url", "pathname", path), ("gc-lang", "data", lang)],
        [("gc-url", "search", "")],
    )
    return text(out)


def lookup(client, token, phone: str, *, submit: bool = True):
    return callback(
        client,
        token,
        "..hl-history.children",
        [("hl-phone", "n_submit", 1 if submit else 0), ("hl-phone", "value", phone)],
        [("gc-lang", "data", "zh")],
        changed="hl-phone.n_submit" if submit else "hl-phone.value",
    )


DUP_TRIGGERS = [("hl-desc", "n_blur", None), ("hl-phone", "n_blur", None)]  # leaving either field looks again
SAVE_STATE = [
    "hl-phone",
    "hl-caller-name",
    "hl-nature",
    "hl-cb-name",
    "hl-cb-phone",
    "hl-category",
    "hl-address",
    "hl-loc",
    "hl-urgency",
    "hl-desc",
    "hl-parent",
    "hl-saved",
]


def save(client, token, **form):
    props = {"hl-loc": "data", "hl-parent": "data", "hl-saved": "data"}
    state = [(i, props.get(i, "value"), form.get(i)) for i in SAVE_STATE] + [("gc-lang", "data", "zh")]
    return callback(
        client,
        token,
        "..hl-result.children",
        [("hl-save", "n_clicks", 1), ("hl-clear", "n_clicks", 0)],
        state,
        changed="hl-save.n_clicks",
    )


def test_hotline_page_is_for_call_takers_and_the_command_center(dash_server, client, db):
    assert "hl-phone" in page(client, account_token(db, "hotline"), "/hotline")
    assert "hl-phone" in page(client, account_token(db, "dispatcher"), "/hotline")
    refused = page(client, account_token(db, "dept_head", None, "HW"), "/hotline")
    assert "hl-phone" not in refused and "无权访问" in refused
    assert "tr-list" in page(client, account_token(db, "shift_leader"), "/triage")
    assert "tr-list" not in page(client, account_token(db, "hotline"), "/triage")
    assert "Hotline" in page(client, account_token(db, "hotline"), "/hotline", lang="en")


def test_history_shows_the_callers_earlier_case_and_new_callers(dash_server, client, db, city):
    token = account_token(db, "hotline")
    lon, lat = inside(city.grids.by_level("unit")[12])
    earlier = client.post(
        "/api/v1/incidents",
        json={
            "description": "早先来电：楼下垃圾没人清",
            "category_code": "020101",
            "lon": lon,
            "lat": lat,
            "reporter_phone": PHONE,
            "reporter_name": "王先生",
        },
    )
    assert earlier.status_code == 201, earlier.json
    out = lookup(client, token, PHONE)
    assert earlier.json["id"] in text(out["hl-history"]) and "早先来电" in text(out["hl-history"])
    assert out["hl-caller-name"]["value"] == "王先生" and out["hl-cb-phone"]["value"] == PHONE
    typed = lookup(client, token, "+86 139-1234-5678", submit=False)  # the 11th digit: the same caller
    assert earlier.json["id"] in text(typed["hl-history"])
    fresh = lookup(client, token, "13700000000")
    assert "新来电人" in text(fresh["hl-history"])


def test_a_map_click_shows_the_grid_path_and_leader(dash_server, client, db, city):
    token = account_token(db, "hotline")
    unit = city.grids.by_level("unit")[30]
    lon, lat = inside(unit)
    out = callback(
        client,
        token,
        "..hl-loc.data",
        [("hl-map", "clickData", {"latlng": {"lat": lat, "lng": lon}})],
        [("gc-lang", "data", "zh")],
    )
    assert out["hl-loc"]["data"] == {"lon": lon, "lat": lat}
    shown = text(out["hl-grid"])
    assert unit.code in shown and unit.properties["leader_name"] in shown
    outside = callback(
        client,
        token,
        "..hl-loc.data",
        [("hl-map", "clickData", {"latlng": {"lat": 40.0, "lng": 100.0}})],
        [("gc-lang", "data", "zh")],
    )
    assert "不在任何网格内" in text(outside["hl-grid"])


def test_category_search_ranks_by_code_name_and_keyword(dash_server, client, db):
    token = account_token(db, "hotline")
    for needle, code in (("020101", "020101"), ("暴露垃圾", "020101"), ("manhole", "010101")):
        out = callback(
            client,
            token,
            "hl-category.options",
            [("hl-category", "search_value", needle)],
            [("hl-category", "value", None), ("gc-lang", "data", "zh")],
        )
        options = out["hl-category"]["options"]
        assert options[0]["value"] == code, (needle, options[:3])


def test_saving_a_call_creates_a_hotline_incident_as_the_user(dash_server, client, db, city):
    token = account_token(db, "hotline")
    lon, lat = inside(city.grids.by_level("unit")[40])
    out = save(
        client,
        token,
        **{
            "hl-phone": PHONE,
            "hl-caller-name": "李女士",
            "hl-nature": "callback",
            "hl-cb-name": "李女士",
            "hl-cb-phone": "13800001111",
            "hl-category": "020302",
            "hl-loc": {"lon": lon, "lat": lat},
            "hl-urgency": "0",
            "hl-desc": "来电反映工地夜间施工噪声扰民",
            "hl-saved": 0,
        },
    )
    shown = text(out["hl-result"])
    assert "gc-hl-saved" in shown, shown
    _, _, sessions = db
    with sessions() as session:
        incident = session.scalars(select(Incident).where(Incident.description == "来电反映工地夜间施工噪声扰民")).one()
        assert shown.count(incident.id) >= 1
        assert incident.channel == "hotline" and incident.category_code == "020302"
        assert incident.reporter_phone == PHONE and incident.reporter_name == "李女士"
        assert incident.grid_unit == city.grids.locate(lon, lat).unit
        assert incident.timeline[0].actor.startswith("hotline-")
        if hasattr(Incident, "call_nature"):
            assert incident.call_nature == "callback" and incident.callback_phone == "13800001111"
    assert out["hl-phone"]["value"] == "" and out["hl-desc"]["value"] == ""  # ready for the next call


def test_a_consultation_without_category_makes_no_case_and_missing_place_is_refused(dash_server, client, db):
    token = account_token(db, "hotline")
    out = save(client, token, **{"hl-phone": PHONE, "hl-nature": "consultation", "hl-desc": "咨询办事时间"})
    assert "未建案件" in text(out["hl-result"])
    refused = save(client, token, **{"hl-nature": "callback", "hl-category": "020101", "hl-desc": "无地址"})
    assert "请填写地址" in text(refused["hl-result"])
    _, _, sessions = db
    with sessions() as session:
        assert session.scalars(select(Incident).where(Incident.description.in_(["咨询办事时间", "无地址"]))).all() == []


def test_a_role_that_takes_no_calls_cannot_save_through_a_replayed_callback(dash_server, client, db, city):
    token = account_token(db, "dept_head", None, "HW")
    lon, lat = inside(city.grids.by_level("unit")[41])
    out = save(client, token, **{"hl-category": "020101", "hl-loc": {"lon": lon, "lat": lat}, "hl-desc": "越权受理"})
    assert "无权访问" in text(out["hl-result"])
    _, _, sessions = db
    with sessions() as session:
        assert session.scalars(select(Incident).where(Incident.description == "越权受理")).all() == []


def test_triage_lists_an_unplaced_report_and_filing_with_a_location_moves_it_out(dash_server, client, db, city):
    token = account_token(db, "shift_leader")
    unplaced = client.post(
        "/api/v1/incidents",
        json={"description": "三角地附近暴露垃圾", "category_code": "020101", "lon": 100.0, "lat": 40.0},
    ).json
    listing = lambda: text(
        callback(
            client,
            token,
            "..tr-list.children",
            [
                ("tr-socket", "data-incident", None),
                ("tr-done", "data", 0),
                ("tr-tick", "n_intervals", 0),
                ("tr-selected", "data", None),
            ],
            [("gc-lang", "data", "zh")],
            changed="tr-done.data",
        )
    )
    assert unplaced["id"] in listing() and "不在网格内" in listing()
    lon, lat = inside(city.grids.by_level("unit")[50])
    out = callback(
        client,
        token,
        "..tr-toast.children",
        [("tr-file", "n_clicks", 1), ("tr-void", "n_clicks", 0), ([], "n_clicks", None)],
        [
            ("tr-selected", "data", unplaced["id"]),
            ("tr-category", "value", "020101"),
            ("tr-loc", "data", {"lon": lon, "lat": lat}),
            ("tr-void-reason", "value", None),
            ("tr-done", "data", 0),
            ("gc-lang", "data", "zh"),
        ],
        changed="tr-file.n_clicks",
    )
    assert "tr-ok" in text(out["tr-toast"]), text(out)
    assert client.get(f"/api/v1/incidents/{unplaced['id']}").json["status"] == "filed"
    assert unplaced["id"] not in listing()


def test_duplicates_are_suggested_and_merge_into_saves_a_child_of_that_case(dash_server, client, db, city):
    token = account_token(db, "dispatcher")
    lon, lat = inside(city.grids.by_level("unit")[60])
    original = client.post(
        "/api/v1/incidents",
        json={"description": "原案：路口暴露垃圾", "category_code": "020101", "lon": lon, "lat": lat},
    ).json
    shown = callback(
        client,
        token,
        "hl-dups.children",
        [("hl-category", "value", "020101"), ("hl-loc", "data", {"lon": lon, "lat": lat}), ("hl-parent", "data", None)]
        + DUP_TRIGGERS,
        [("hl-phone", "value", ""), ("hl-address", "value", ""), ("hl-desc", "value", ""), ("gc-lang", "data", "zh")],
    )
    assert original["id"] in text(shown) and "合并到此案件" in text(shown)
    form = {
        "hl-phone": "13600001234",
        "hl-nature": "callback",
        "hl-category": "020101",
        "hl-loc": {"lon": lon, "lat": lat},
        "hl-desc": "重复来电：路口垃圾",
        "hl-saved": 0,
    }
    forged = save(client, token, **form, **{"hl-parent": "not-a-suggestion"})
    assert "gc-toast-err" in text(forged["hl-result"])  # only a server-side suggestion can be the parent
    out = save(client, token, **form, **{"hl-parent": original["id"]})
    assert "gc-hl-saved" in text(out["hl-result"]), text(out["hl-result"])
    _, _, sessions = db
    with sessions() as session:
        child = session.scalars(select(Incident).where(Incident.description == "重复来电：路口垃圾")).one()
        assert child.status == "merged" and child.parent_id == original["id"]
        assert session.get(Incident, original["id"]).merged_count == 1


def audit_rows(engine, actor: str) -> list:
    with engine.connect() as conn:
        return conn.execute(
            sa.text("SELECT action, target, result, role FROM audit_log WHERE actor = :a ORDER BY id"), {"a": actor}
        ).all()


def test_a_caller_lookup_is_audited_with_the_number_masked_like_the_api(dash_server, client, db, city):
    _, engine, _ = db
    username, token = make_account(db, "hotline")
    report = {"description": "查询审计：路灯不亮", "category_code": "020101", "reporter_phone": "13955550001"}
    lon, lat = inside(city.grids.by_level("unit")[14])
    assert client.post("/api/v1/incidents", json={**report, "lon": lon, "lat": lat}).status_code == 201
    lookup(client, token, "13955550001")
    lookup(client, token, "13955550002")
    rows = audit_rows(engine, username)
    assert [(r.action, r.target, r.result, r.role) for r in rows] == [
        ("caller.lookup", "phone:139****0001", "ok", "hotline"),
        ("caller.lookup", "phone:139****0002", "ok", "hotline"),
    ]
    with engine.connect() as conn:
        leaked = conn.scalar(
            sa.text("SELECT count(*) FROM audit_log WHERE actor = :a AND CAST(detail AS TEXT) LIKE '%1395555%'"),
            {"a": username},
        )
    assert leaked == 0


def test_a_role_that_may_not_see_callers_gets_no_history_and_a_denied_audit_record(dash_server, client, db, city):
    _, engine, _ = db
    lon, lat = inside(city.grids.by_level("unit")[15])
    client.post(
        "/api/v1/incidents",
        json={
            "description": "越权查询：来电人历史",
            "category_code": "020101",
            "lon": lon,
            "lat": lat,
            "reporter_phone": "13955550003",
            "reporter_name": "钱女士",
        },
    )
    username, token = make_account(db, "dept_head", None, "HW")
    out = lookup(client, token, "13955550003")  # a replayed callback: the page itself is refused to this role
    shown = text(out)
    assert "无权访问" in shown and "钱" not in shown and "越权查询" not in shown and "13955550003" not in shown
    assert [(r.action, r.target, r.result) for r in audit_rows(engine, username)] == [
        ("caller.lookup", "phone:139****0003", "denied")
    ]


def duplicates_of(client, token, category: str, point: tuple[float, float], phone: str = "") -> str:
    return text(
        callback(
            client,
            token,
            "hl-dups.children",
            [
                ("hl-category", "value", category),
                ("hl-loc", "data", {"lon": point[0], "lat": point[1]}),
                ("hl-parent", "data", None),
                *DUP_TRIGGERS,
            ],
            [
                ("hl-phone", "value", phone),
                ("hl-address", "value", ""),
                ("hl-desc", "value", ""),
                ("gc-lang", "data", "zh"),
            ],
        )
    )


def test_duplicates_come_from_the_engine_same_caller_elsewhere_and_distance_by_haversine(dash_server, client, db, city):
    token = account_token(db, "dispatcher")
    here, far = inside(city.grids.by_level("unit")[70]), inside(city.grids.by_level("unit")[170])
    earlier = client.post(
        "/api/v1/incidents",
        json={
            "description": "同一来电人：别处的噪声",
            "category_code": "020302",
            "lon": far[0],
            "lat": far[1],
            "reporter_phone": "13955550004",
        },
    ).json
    shown = duplicates_of(client, token, "020101", here, phone="+86 139-5555-0004")
    assert earlier["id"] in shown and "同一来电人" in shown  # another category, far away: only the engine knows
    assert earlier["id"] not in duplicates_of(client, token, "020101", here)
    near = client.post(
        "/api/v1/incidents",
        json={"description": "附近同类：垃圾", "category_code": "020101", "lon": here[0], "lat": here[1]},
    ).json
    moved = (here[0] + 0.0002, here[1] + 0.0001)
    shown = duplicates_of(client, token, "020101", moved)
    assert near["id"] in shown and f"{haversine_m(*moved, *here):.0f} m" in shown


def test_stock_phrases_are_read_from_the_data_directory_of_the_settings(dash_server, client, db, tmp_path):
    (tmp_path / "hotline_phrases.yaml").write_text(
        'default: [测试惯用语甲]\n"020101": [测试惯用语乙]\n', encoding="utf-8"
    )
    runtime = runtime_of(dash_server)
    runtime.settings = runtime.settings.model_copy(update={"data_dir": tmp_path})
    token = account_token(db, "hotline")
    out = text(callback(client, token, "hl-phrases.children", [("hl-category", "value", "020101")]))
    assert out.index("测试惯用语乙") < out.index("测试惯用语甲") and "市民来电反映" not in out


def test_the_web_layer_measures_no_distance_and_the_hotline_queries_no_table_itself():
    """geo.distance.haversine_m is the product's one distance function (the engine measures, the pages show);
    the console's caller history and duplicate search are the engine's, never its own SQL."""
    trig = re.compile(r"\b(?:math|np|numpy)\.(?:radians|sin|cos|asin|acos|atan2|hypot)\b|haversine|6_?371")
    measuring = [str(p) for p in (REPO_ROOT / "dashboard").rglob("*.py") if trig.search(p.read_text("utf-8"))]
    assert measuring == []
    own_sql = re.compile(r"\bselect\(|session\.(?:scalars|execute|query)\(|import Incident\b|from sqlalchemy")
    hotline = sorted((REPO_ROOT / "dashboard" / "pages").glob("hotline*.py"))
    assert hotline and [str(p) for p in hotline if own_sql.search(p.read_text("utf-8"))] == []
