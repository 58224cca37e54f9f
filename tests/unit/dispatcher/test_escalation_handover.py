"""上报 hands a case over: who owns it on each rung of the ladder (Router.owner), and escalating through the one entry
point, which moves the case to that owner with a fresh dispatch clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action, Status
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.catalogue import RoutingOverride, Stage
from dispatcher.city.routing import Router
from dispatcher.errors import Invalid, NotFound
from dispatcher.handling.workflow import perform
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from geo.grids import GridPath

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
HW_UNIT = "330199001002001"  # 望江街道, no override for the categories below
SQ_UNIT = "330199003002001"  # 湖滨街道, community with override sq-community-3-2 (020101 → SQ, level community)
LEADER = Principal("id-leader", "leader-1", Role.SHIFT_LEADER, "330199", None)


def path(unit: str) -> GridPath:
    return GridPath(unit, unit[:12], unit[:9], unit[:6])


# ------------------------------------------------------------------ Router.owner per level


def test_an_override_for_the_cases_region_with_that_level_wins(city):
    assert city.router.owner("community", "020101", path(SQ_UNIT)) == "SQ"  # sq-community-3-2
    assert city.router.owner("street", "020101", path(SQ_UNIT)) == "JD-330199003"  # hw-street-3
    # an override of another level says nothing about this one
    assert city.router.owner("district", "020101", path(SQ_UNIT)) == "QZH"
    # an override naming the level beats the level's owners and its department
    rule = RoutingOverride(id="t", region="330199003", category="0201", department="YL", level="city")
    router = Router(replace(city.catalogue, overrides=(*city.catalogue.overrides, rule)))
    assert router.owner("city", "020101", path(SQ_UNIT)) == "YL"
    assert router.owner("city", "020101", path(HW_UNIT)) == "SCG"  # outside the override's region


def test_owners_go_by_the_longest_category_prefix_then_the_level_department(city):
    owner = city.router.owner
    assert owner("city", "010101", path(HW_UNIT)) == "SCG-SZ"  # "0101"
    assert owner("city", "010201", path(HW_UNIT)) == "SCG-SZ"  # "0102"
    assert owner("city", "020108", path(HW_UNIT)) == "SCG"  # "02"
    assert owner("city", "010301", path(HW_UNIT)) == "SCG"  # no prefix: the level's department
    assert owner("city", None, None) == "SCG"
    ladder = list(city.catalogue.escalation)
    city_rung = next(r for r in ladder if r.code == "city")
    longer = replace(city_rung, owners={**city_rung.owners, "0201": "HW", "020101": "YL"})
    router = Router(replace(city.catalogue, escalation=tuple(longer if r is city_rung else r for r in ladder)))
    assert router.owner("city", "020101", path(HW_UNIT)) == "YL"
    assert router.owner("city", "020102", path(HW_UNIT)) == "HW"
    assert router.owner("city", "020201", path(HW_UNIT)) == "SCG"


def test_levels_with_a_department_and_the_street_acceptance_center(city):
    owner = city.router.owner
    assert owner("community", "010301", path(HW_UNIT)) == "SQ"
    assert owner("district", "010301", path(HW_UNIT)) == "QZH"
    assert owner("leadership", "010301", path(HW_UNIT)) == "QLD"
    assert owner("street", "010301", path(HW_UNIT)) == "JD-330199001"  # the incident street's acceptance center
    assert owner("street", "010301", path("330199005001001")) == "JD-330199005"
    assert owner("street", "010301", None) is None
    assert owner("grid_worker", "010301", path(HW_UNIT)) is None  # nobody is named there
    with pytest.raises(ValueError):
        owner("nowhere", "010301", path(HW_UNIT))


# ------------------------------------------------------------------ escalating through perform


def report(sessions, city, category: str, unit: str = HW_UNIT) -> str:
    point = city.grids.get(unit).geometry.representative_point()
    cmd = CreateIncident(category_code=category, description="上报测试", lon=point.x, lat=point.y)
    with UnitOfWork(sessions) as uow:
        incident = create_incident(uow, city, cmd, actor="hotline-1", now=T0)
        uow.commit(T0)
        return incident.id


def act(sessions, city, incident_id, action, who: Principal, now: datetime, **params) -> Incident:
    with UnitOfWork(sessions) as uow:
        incident = perform(
            uow, city, incident_id, action, ActionRequest(**params), actor=who.username, now=now, principal=who
        )
        uow.commit(now)
        return incident


@pytest.mark.parametrize(("category", "city_owner"), [("010301", "SCG"), ("010101", "SCG-SZ")])
def test_escalation_climbs_district_city_leadership_handing_the_case_over(sessions, city, category, city_owner):
    incident_id = report(sessions, city, category)
    routed = act(sessions, city, incident_id, Action.FILE, LEADER, T0)
    assert routed.level == "district" and routed.department_code in {"HW", "SW"}
    department = routed.department_code
    handler = Principal("id-h", "handler-1", Role.DEPT_HANDLER, None, department)
    act(sessions, city, incident_id, Action.DISPATCH, LEADER, T0)
    claimed = act(sessions, city, incident_id, Action.CLAIM, handler, T0 + timedelta(minutes=5))
    assert claimed.assignee == "handler-1" and claimed.stage == Stage.HANDLE

    expected = [("city", city_owner), ("leadership", "QLD")]
    who = [handler, LEADER]
    for step, ((level, owner), by) in enumerate(zip(expected, who), start=1):
        now = T0 + timedelta(hours=step)
        up = act(sessions, city, incident_id, Action.ESCALATE, by, now, reason="超出本级处置能力")
        assert (up.state, up.level, up.department_code, up.assignee) == (Status.ESCALATED, level, owner, None)
        assert up.routing_rule == f"escalation:{level}" and up.escalation_count == step
        assert (up.stage, up.stage_started_at, up.warned) == (Stage.DISPATCH, now, 0)
        limit = city.catalogue.category(category).limits[Stage.DISPATCH]
        assert up.stage_deadline == city.calendar.add(now, limit)
        assert up.timeline[-1].action == "escalate" and up.timeline[-1].actor == by.username
    with pytest.raises(Invalid) as err:
        act(sessions, city, incident_id, Action.ESCALATE, LEADER, T0 + timedelta(hours=3), reason="再上报")
    assert "top level" in str(err.value) and incident_id in str(err.value)

    sent = act(sessions, city, incident_id, Action.DISPATCH, LEADER, T0 + timedelta(hours=4))
    assert (sent.state, sent.department_code, sent.level) == (Status.DISPATCHED, "QLD", "leadership")
    assert sent.stage == Stage.HANDLE


def test_a_dispatch_after_escalation_goes_to_the_new_owner_who_alone_may_claim(sessions, city):
    incident_id = report(sessions, city, "010301")
    act(sessions, city, incident_id, Action.FILE, LEADER, T0)
    act(sessions, city, incident_id, Action.DISPATCH, LEADER, T0)
    hw = Principal("id-hw", "hw-handler-1", Role.DEPT_HANDLER, None, "HW")
    act(sessions, city, incident_id, Action.CLAIM, hw, T0)
    act(sessions, city, incident_id, Action.ESCALATE, hw, T0 + timedelta(hours=1), reason="需市级协调")
    sent = act(sessions, city, incident_id, Action.DISPATCH, LEADER, T0 + timedelta(hours=2))
    assert (sent.department_code, sent.level, sent.assignee) == ("SCG", "city", None)
    with pytest.raises(NotFound):  # the case is no longer HW's: out of its scope altogether
        act(sessions, city, incident_id, Action.CLAIM, hw, T0 + timedelta(hours=3))
    scg = Principal("id-scg", "scg-handler", Role.DEPT_HANDLER, None, "SCG")
    assert act(sessions, city, incident_id, Action.CLAIM, scg, T0 + timedelta(hours=3)).assignee == "scg-handler"


def test_a_community_case_escalates_to_its_streets_override_owner(sessions, city):
    incident_id = report(sessions, city, "020101", SQ_UNIT)
    filed = act(sessions, city, incident_id, Action.FILE, LEADER, T0)
    assert (filed.department_code, filed.level) == ("SQ", "community")
    up = act(sessions, city, incident_id, Action.ESCALATE, LEADER, T0 + timedelta(hours=1), reason="社区无法处置")
    assert (up.level, up.department_code) == ("street", "JD-330199003")
    up = act(sessions, city, incident_id, Action.ESCALATE, LEADER, T0 + timedelta(hours=2), reason="街道无法处置")
    assert (up.level, up.department_code) == ("district", "QZH")
