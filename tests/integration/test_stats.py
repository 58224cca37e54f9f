"""Today's wall figures on both backends: exact counts for a scripted day, and event catch-up after a sequence number."""

from datetime import timedelta

from dispatcher.cases.incident import Incident
from dispatcher.cases.uow import UnitOfWork
from tests.conftest import T0
from tests.integration.helpers import act, report

CLOSE_STEPS = [("claim", {}), ("handle", {"result": "已清运"}), ("verify", {}), ("close", {})]


def _run_past_limit(sessions, incident_id: str, now) -> None:
    """The case's overall limit (总时限) is already past: it will close late (not 按期结案 by the indicator engine's
    rule, dispatcher/evaluation/counts.py, which /stats/today follows; a late stage alone no longer makes it late)."""
    with UnitOfWork(sessions) as uow:
        incident = uow.session.get(Incident, incident_id)
        incident.total_deadline = now - timedelta(minutes=1)
        uow.commit(now)


def test_today_summary_counts_a_scripted_day_exactly(client, city, clock, db):
    _, _, sessions = db
    clock.now = T0 - timedelta(days=1)  # yesterday: reported and filed, dispatched today
    yesterday = report(client, city, unit_index=5).json
    assert act(client, yesterday["id"], "file").status_code == 200

    clock.now = T0  # 10:00 Shanghai
    a = report(client, city, unit_index=100).json
    report(client, city, unit_index=2000)
    c = report(client, city, unit_index=4000, category="010101").json  # manhole cover: 30 min to file
    d = report(client, city, unit_index=6000).json

    clock.now = T0 + timedelta(minutes=10)
    for incident in (a, d):
        assert act(client, incident["id"], "file").status_code == 200
        assert act(client, incident["id"], "dispatch").status_code == 200
    seen = client.get(f"/api/v1/incidents/{a['id']}").json["version"]  # a deliberate re-dispatch names it
    assert act(client, a["id"], "dispatch", expected_version=seen).status_code == 200  # a re-dispatch counts once
    assert act(client, yesterday["id"], "dispatch").status_code == 200
    _run_past_limit(sessions, d["id"], clock.now)  # d ran past its overall limit: closed, but not on time
    for incident in (a, d):
        for action, body in CLOSE_STEPS:
            assert act(client, incident["id"], action, **body).status_code == 200, action

    clock.now = T0 + timedelta(minutes=90)  # 11:30: only c is past its (30 min) filing deadline
    summary = client.get("/api/v1/stats/today").json
    assert summary["day"] == "2026-12-02"
    assert {
        k: summary[k]
        for k in ("received", "filed", "dispatched", "in_handling", "overdue", "closed", "closed_on_time", "open")
    } == {
        "received": 4,
        "filed": 2,
        "dispatched": 3,
        "in_handling": 1,
        "overdue": 1,
        "closed": 2,
        "closed_on_time": 1,
        "open": 3,
    }
    assert summary["on_time_closure_rate"] == 0.5 and summary["due_to_close"] == 2
    assert summary["open_by_status"] == {"reported": 2, "dispatched": 1}
    assert summary["by_hour"][10] == 4 and sum(summary["by_hour"]) == 4
    assert [(i["code"], i["count"]) for i in summary["top_categories"]] == [("020101", 3), ("010101", 1)]
    assert summary["top_categories"][0]["name_zh"] == "暴露垃圾"
    streets = {s["code"]: s for s in summary["streets"]}
    assert sum(s["open"] for s in streets.values()) == 3
    assert streets[c["grid"]["street"]]["overdue"] == 1 and sum(s["overdue"] for s in streets.values()) == 1
    assert all(s["name_zh"].endswith("街道") for s in streets.values())


def test_nothing_closed_means_no_on_time_rate(client, city, clock):
    report(client, city)
    summary = client.get("/api/v1/stats/today").json
    assert summary["received"] == 1 and summary["closed"] == 0 and summary["on_time_closure_rate"] is None


def test_events_after_a_sequence_number_replay_in_order_once(client, city):
    incident = report(client, city).json
    act(client, incident["id"], "file")
    everything = client.get("/api/v1/events?after_seq=0").json
    names = [e["name"] for e in everything["items"]]
    assert names == ["incident.report", "incident.file"] and everything["complete"] is True
    seqs = [e["seq"] for e in everything["items"]]
    assert seqs == sorted(seqs) and everything["last_seq"] == seqs[-1]
    assert everything["items"][1]["data"]["incident"]["status"] == "filed"
    after = client.get(f"/api/v1/events?after_seq={seqs[0]}").json
    assert [e["seq"] for e in after["items"]] == seqs[1:]
    assert client.get(f"/api/v1/events?after_seq={seqs[-1]}").json == {
        "items": [],
        "last_seq": seqs[-1],
        "complete": True,
    }
    assert client.get("/api/v1/events?after_seq=-1").status_code == 422


def test_every_figure_counts_only_the_callers_scope(client, city, clock, db):
    """The wall's figures for a street (or a department) are the figures of its incidents only."""
    from sqlalchemy import true

    from dispatcher.access.accounts import Principal
    from dispatcher.access.roles import Role
    from dispatcher.cases import stats
    from dispatcher.cases.scope import scope_clause

    _, _, sessions = db
    units = city.grids.by_level("unit")
    first = report(client, city, unit_index=100).json
    other_street = next(
        i
        for i, u in enumerate(units)
        if city.grids.path_of(u.code).street not in (first["grid"]["street"], "330199003", "330199005")
    )
    second = report(client, city, unit_index=other_street, category="020201").json
    assert act(client, first["id"], "file").status_code == 200
    assert act(client, second["id"], "file").status_code == 200
    street = Principal("x", "x", Role.DISPATCHER, first["grid"]["street"], None)
    department = Principal("y", "y", Role.DEPT_HEAD, None, second["department_code"])
    nobody = Principal("z", "z", Role.AUDITOR, None, None)
    with sessions() as session:
        everything = stats.today_summary(session, now=clock.now, scope=true())
        mine = stats.today_summary(session, now=clock.now, scope=scope_clause(street))
        theirs = stats.today_summary(session, now=clock.now, scope=scope_clause(department))
        none = stats.today_summary(session, now=clock.now, scope=scope_clause(nobody))
        shading = stats.open_by_community(session, clock.now, scope_clause(street))
    assert everything["received"] == everything["filed"] == 2
    assert mine["received"] == mine["filed"] == mine["open"] == 1 and sum(mine["by_hour"]) == 1
    assert [s["code"] for s in mine["streets"]] == [first["grid"]["street"]]
    assert [c["code"] for c in mine["top_categories"]] == ["020101"]
    assert theirs["received"] == 1 and [c["code"] for c in theirs["top_categories"]] == ["020201"]
    assert none["received"] == none["filed"] == none["open"] == 0 and none["streets"] == []
    assert set(shading) == {first["grid"]["community"]}


def test_a_case_the_district_sends_down_counts_in_the_streets_column(client, city):
    """区下派: a district department's case dispatched to a street office is counted for that street."""
    units = city.grids.by_level("unit")
    index = next(i for i, u in enumerate(units) if city.grids.path_of(u.code).street == "330199002")  # no overrides
    down = report(client, city, unit_index=index, category="010205").json  # 道路破损: 区市政 (district level)
    kept = report(client, city, unit_index=index, category="010205").json
    street = down["grid"]["street"]
    for case in (down, kept):
        assert act(client, case["id"], "file").json["level"] == "district"
    sent = act(client, down["id"], "dispatch", department=f"JD-{street}").json
    assert sent["level"] == "street" and sent["down_dispatch_street"] == street
    assert act(client, kept["id"], "dispatch").json["down_dispatch_street"] is None
    streets = {s["code"]: s for s in client.get("/api/v1/stats/today").json["streets"]}
    assert streets[street]["open"] == 2 and streets[street]["down_dispatched"] == 1
