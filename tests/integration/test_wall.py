"""The leader's wall tells the truth at a glance: /api/v1/situation gives exact figures for a scripted day inside the
caller's scope, and the wall's refresh callback shows today's on-time closure with its numerator and denominator
next to the open overdue count, with its period in the label. Both backends."""

from __future__ import annotations

import json
from datetime import timedelta

from dashboard.pages.i18n_wall import CHANNEL
from dispatcher.cases.incident import Incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.fleet.officers import Officer, OfficerPosition
from tests.conftest import T0
from tests.integration.helpers import act, report
from tests.integration.test_scope_matrix import bearer, dash_server, replay  # noqa: F401

CLOSE_STEPS = [("claim", {}), ("handle", {"result": "已清运"}), ("verify", {}), ("close", {})]


def _run_past_limit(sessions, incident_id: str, now) -> None:
    """The case's overall limit (总时限) is already past: it will close late (not 按期结案, dispatcher/evaluation/
    counts.py; a late stage alone no longer makes a closure late: that stage's own rate counts it)."""
    with UnitOfWork(sessions) as uow:
        incident = uow.session.get(Incident, incident_id)
        incident.total_deadline = now - timedelta(minutes=1)
        uow.commit(now)


def scripted_day(client, city, clock, sessions) -> dict:
    """Yesterday one case closed on time; today four reports, two closed (one past its limit), one overdue open."""
    clock.now = T0 - timedelta(days=1)
    old = report(client, city, unit_index=5).json
    for action in ("file", "dispatch"):
        assert act(client, old["id"], action).status_code == 200
    for action, body in CLOSE_STEPS:
        assert act(client, old["id"], action, **body).status_code == 200, action

    clock.now = T0  # 10:00 in Shanghai
    a = report(client, city, unit_index=100).json
    b = report(client, city, unit_index=2000).json
    c = report(client, city, unit_index=4000, category="010101").json  # manhole cover: 30 min to file
    d = report(client, city, unit_index=6000).json
    clock.now = T0 + timedelta(minutes=10)
    for incident in (a, d):
        assert act(client, incident["id"], "file").status_code == 200
        assert act(client, incident["id"], "dispatch").status_code == 200
    _run_past_limit(sessions, d["id"], clock.now)
    for incident in (a, d):
        for action, body in CLOSE_STEPS:
            assert act(client, incident["id"], action, **body).status_code == 200, action
    clock.now = T0 + timedelta(minutes=90)  # 11:30: c is past its filing deadline
    return {"old": old, "a": a, "b": b, "c": c, "d": d}


def test_the_situation_counts_a_scripted_day_exactly(client, city, clock, db):
    _, _, sessions = db
    cases = scripted_day(client, city, clock, sessions)
    s = client.get("/api/v1/situation").json
    assert s["day"] == "2026-12-02" and s["timezone"] == "Asia/Shanghai"
    assert s["today"] == {
        "received": 4,
        "filed": 2,
        "dispatched": 2,
        "in_handling": 0,
        "closed": 2,
        "closed_on_time": 1,
    }
    assert (s["open"], s["open_overdue"]) == (2, 1)
    today = s["on_time_today"]
    assert (today["numerator"], today["denominator"], today["value"]) == (1, 2, 0.5)
    assert today["period"]["key"] == "today" and today["period"]["start"].startswith("2026-12-02T00:00:00+08:00")
    week = s["on_time_week"]
    assert (week["numerator"], week["denominator"], week["period"]["key"]) == (2, 3, "7d")
    assert (s["overdue_share"]["numerator"], s["overdue_share"]["denominator"]) == (1, 2)
    assert s["hourly"]["today"][10] == 4 and sum(s["hourly"]["today"]) == 4 and sum(s["hourly"]["yesterday"]) == 1
    assert s["daily"]["days"][-1] == "2026-12-02" and s["daily"]["received"][-2:] == [1, 4]
    assert s["daily"]["closed"][-2:] == [1, 2]
    assert sum(s["channels"]["today"].values()) == 4 and sum(s["channels"]["week"].values()) == 5
    streets = {r["code"]: r for r in s["streets"]}
    assert streets[cases["c"]["grid"]["street"]]["overdue"] == 1
    assert all(r["name_zh"].endswith("街道") for r in s["streets"])
    assert s["streets"][0]["overdue"] == 1  # worst first
    departments = {r["code"]: r for r in s["departments"]}
    closed_by = departments[cases["a"]["department_code"]]
    assert closed_by["on_time"]["denominator"] >= 1 and closed_by["name_zh"] != closed_by["code"]
    assert "/api/v1/situation" in client.get("/api/v1/openapi.json").json["paths"]


def test_a_department_sees_only_its_own_figures_and_strangers_nothing(client, anonymous, city, clock, db, tokens):
    _, _, sessions = db
    cases = scripted_day(client, city, clock, sessions)
    department = cases["a"]["department_code"]
    mine = client.get("/api/v1/situation", headers=bearer(tokens[f"dept:{department}"])).json
    assert [r["code"] for r in mine["departments"]] == [department]
    everyone = client.get("/api/v1/situation").json
    assert mine["on_time_week"]["denominator"] <= everyone["on_time_week"]["denominator"]
    assert anonymous.get("/api/v1/situation").status_code == 401


def test_staff_on_duty_comes_from_the_stored_positions_without_redis(client, city, clock, db):
    _, _, sessions = db
    home = city.grids.by_level("community")[0].code
    with sessions.begin() as session:
        for n, on_duty in enumerate([True, True, True, False]):
            session.add(
                Officer(
                    id=f"w{n}",
                    name=f"w{n}",
                    role="grid_worker",
                    device_id=f"wd{n}",
                    on_duty=on_duty,
                    grid_community=home,
                )
            )
        session.flush()
        session.add(OfficerPosition(officer_id="w0", at=T0 - timedelta(seconds=30), lon=120.1, lat=30.2))
        session.add(OfficerPosition(officer_id="w1", at=T0 - timedelta(minutes=5), lon=120.1, lat=30.2))
    staff = client.get("/api/v1/situation").json["staff"]
    assert staff["by_status"] == {"on_duty": 1, "busy": 0, "off_duty": 1, "stale": 1, "offline": 1}
    assert staff["total"] == 4 and staff["reporting"] == 2


def _refresh(client, lang: str = "zh") -> dict:
    response = replay(
        client,
        {},
        "wall-k-received.children",
        [("wall-refresh", "data", 1), ("wall-slow", "n_intervals", 1)],
        [("gc-lang", "data", lang)],
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())["response"]


def test_the_wall_shows_the_on_time_rate_with_its_denominator_beside_open_overdue(dash_server, client, city, clock, db):  # noqa: F811
    _, _, sessions = db
    cases = scripted_day(client, city, clock, sessions)
    page = replay(
        client,
        {},
        "gc-page.children",
        [("gc-url", "pathname", "/wall"), ("gc-lang", "data", "zh")],
        [("gc-url", "search", "")],
    )
    layout = page.get_data(as_text=True)
    labels = ["今日受理", "今日结案", "今日按期结案率", "在办超期", "近7日按期结案率"]
    assert all(label in layout for label in labels)
    assert layout.index("今日按期结案率") < layout.index("在办超期") < layout.index("近7日按期结案率")  # side by side
    r = _refresh(client)
    assert r["wall-k-received"]["children"] == "4" and r["wall-k-closed"]["children"] == "2"
    assert r["wall-k-on_time"]["children"] == "50.0%" and r["wall-s-on_time"]["children"] == "1/2"
    assert "按期结案 1 件 / 结案 2 件" in r["wall-tile-on_time"]["title"]
    assert r["wall-k-open_overdue"]["children"] == "1" and "（1/2）" in r["wall-s-open_overdue"]["children"]
    assert r["wall-s-on_time_week"]["children"] == "2/3"
    figs = r["wall-figs"]["data"]
    assert sum(figs["hours"]["data"][0]["y"][:11]) == 4 and len(figs["days"]["data"][0]["y"]) == 14
    outer = figs["channels"]["data"][0]  # the last 7 days, one slice per channel that had any
    assert sum(outer["values"]) == 5 and CHANNEL[cases["a"]["channel"]][0] in outer["labels"]
    rows = [row["props"]["title"] for row in r["wall-streets-rank"]["children"][1:]]
    street = city.grids.find(cases["c"]["grid"]["street"]).name
    assert rows[0].startswith(f"{street}：") and "超期 1 件" in rows[0]  # the street with the overdue case first
    english = _refresh(client, "en")
    assert "1 closed on time of 2 closed" in english["wall-tile-on_time"]["title"]


def test_with_nothing_closed_today_the_wall_says_so_instead_of_a_rate(dash_server, client, city):  # noqa: F811
    report(client, city)
    r = _refresh(client)
    assert r["wall-k-on_time"]["children"] == "—" and r["wall-s-on_time"]["children"] == "今日尚无结案"
    assert "按期结案 0 件 / 结案 0 件" in r["wall-tile-on_time"]["title"]
