"""Timers that act (催办): yellow, red, then escalation, each once and in order, telling the handler and the head;
no warning on a stopped clock; extend and resume re-arm; the top level is never escalated; the sweep takes only
due cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from dispatcher.access.accounts import Account, Principal
from dispatcher.access.roles import Role
from dispatcher.cases.clocks import escalate_at, yellow_at
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action, Status
from dispatcher.cases.uow import UnitOfWork
from dispatcher.handling import timers
from dispatcher.handling.workflow import perform
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from dispatcher.notify.model import Notification

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
UNIT = "330199001002001"
LEADER = Principal("id-leader-1", "leader-1", Role.SHIFT_LEADER, "330199", None)
HANDLER = Principal("id-hw-handler-1", "hw-handler-1", Role.DEPT_HANDLER, None, "HW")
PEOPLE = [
    (LEADER, "330199", None),
    (HANDLER, None, "HW"),
    (Principal("id-hw-head", "hw-head", Role.DEPT_HEAD, None, "HW"), None, "HW"),
    (Principal("id-qld-head", "qld-head", Role.DEPT_HEAD, None, "QLD"), None, "QLD"),
]


def accounts(sessions) -> None:
    with sessions() as session:
        for who, region, department in PEOPLE:
            session.add(
                Account(
                    id=who.account_id,
                    username=who.username,
                    display_name=who.username,
                    role=str(who.role),
                    region_code=region,
                    department_code=department,
                    password_hash="x",
                    disabled=False,
                    created_at=T0,
                )
            )
        session.commit()


def act(sessions, city, incident_id, action, who, now, **params) -> Incident:
    with UnitOfWork(sessions) as uow:
        incident = perform(
            uow, city, incident_id, action, ActionRequest(**params), actor=who.username, now=now, principal=who
        )
        uow.commit(now)
        return incident


def claimed_case(sessions, city, category: str = "010301") -> str:
    """A district HW case (公厕), filed, dispatched and claimed by hw-handler-1 at T0: 1wd to handle it."""
    accounts(sessions)
    point = city.grids.get(UNIT).geometry.representative_point()
    with UnitOfWork(sessions) as uow:
        incident = create_incident(
            uow, city, CreateIncident(category_code=category, description="公厕损坏", lon=point.x, lat=point.y),
            actor="hotline-1", now=T0,
        )  # fmt: skip
        uow.commit(T0)
        incident_id = incident.id
    act(sessions, city, incident_id, Action.FILE, LEADER, T0)
    act(sessions, city, incident_id, Action.DISPATCH, LEADER, T0)
    act(sessions, city, incident_id, Action.CLAIM, HANDLER, T0)
    return incident_id


def tick(sessions, city, incident_id, now) -> tuple[list[str], Incident]:
    with UnitOfWork(sessions) as uow:
        incident = uow.session.get(Incident, incident_id)
        done = timers.act(uow, city, incident, now)
        uow.commit(now)
        return done, incident


def notices(sessions, incident_id) -> list[tuple[str, str, str]]:
    with sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.incident_id == incident_id))
        return sorted((n.kind, n.recipient, n.channel) for n in rows)


def test_yellow_red_escalation_each_once_in_order_telling_the_handler_and_the_head(sessions, city):
    incident_id = claimed_case(sessions, city)
    with sessions() as session:
        incident = session.get(Incident, incident_id)
        yellow, deadline = yellow_at(city, incident), incident.stage_deadline
        escalation = escalate_at(city, incident)
        assert incident.timer_due_at == yellow and T0 < yellow < deadline < escalation
    before = set(notices(sessions, incident_id))

    assert tick(sessions, city, incident_id, yellow - timedelta(seconds=1))[0] == []
    done, incident = tick(sessions, city, incident_id, yellow)
    assert done == ["yellow"] and incident.warned == 1 and incident.timer_due_at == deadline
    assert incident.timeline[-1].action == "warn" and incident.timeline[-1].to_status == Status.CLAIMED
    warned = set(notices(sessions, incident_id)) - before
    assert warned == {("warning", "hw-handler-1", "in_app"), ("warning", "hw-head", "in_app")}
    assert tick(sessions, city, incident_id, yellow + timedelta(minutes=1))[0] == []  # once

    assert tick(sessions, city, incident_id, deadline)[0] == []  # due at, overdue only after
    done, incident = tick(sessions, city, incident_id, deadline + timedelta(seconds=1))
    assert done == ["red"] and incident.warned == 2 and incident.timer_due_at == escalation
    assert incident.overdue_flagged_at == deadline + timedelta(seconds=1) and incident.supervised_by == "system"
    red = set(notices(sessions, incident_id)) - before - warned
    assert red == {(k, who, ch) for k in ["overdue"] for who in ["hw-handler-1", "hw-head"] for ch in ["in_app", "sms"]}
    assert tick(sessions, city, incident_id, deadline + timedelta(hours=1))[0] == []  # once

    rows = len(incident.timeline)
    done, incident = tick(sessions, city, incident_id, escalation)
    assert done == ["escalate"]
    assert (incident.state, incident.level, incident.department_code) == (Status.ESCALATED, "city", "SCG")
    assert incident.assignee is None and incident.warned == 0 and incident.stage == "dispatch"
    assert incident.timer_due_at == yellow_at(city, incident) and incident.timer_due_at > escalation
    assert [e.action for e in incident.timeline[rows:]] == ["escalate"]
    assert incident.timeline[-1].actor == "system"
    assert [r for r in notices(sessions, incident_id) if r[0] == "escalation"]
    actions = [e.action for e in incident.timeline]
    assert actions.count("warn") == actions.count("overdue") == actions.count("escalate") == 1
    assert actions.index("warn") < actions.index("overdue") < actions.index("escalate")


def test_a_late_look_takes_the_steps_still_due_in_order(sessions, city):
    incident_id = claimed_case(sessions, city)
    with sessions() as session:
        escalation = escalate_at(city, session.get(Incident, incident_id))
    done, incident = tick(sessions, city, incident_id, escalation + timedelta(days=1))
    assert done == ["red", "escalate"]  # the yellow moment has passed: it is not sent after the red one
    assert [e.action for e in incident.timeline[-2:]] == ["overdue", "escalate"]


def test_a_suspended_case_gets_no_warning_and_resume_rearms(sessions, city):
    incident_id = claimed_case(sessions, city)
    act(sessions, city, incident_id, Action.REQUEST_SUSPEND, HANDLER, T0, reason="等待业主配合")
    paused = T0 + timedelta(minutes=30)
    suspended = act(sessions, city, incident_id, Action.SUSPEND, LEADER, paused, reason="同意挂账")
    assert suspended.timer_due_at is None and suspended.suspended_at == paused
    deadline = suspended.stage_deadline
    later = T0 + timedelta(days=20)
    rows = len(suspended.timeline)
    done, incident = tick(sessions, city, incident_id, later)
    assert done == [] and len(incident.timeline) == rows and incident.timer_due_at is None
    assert not [n for n in notices(sessions, incident_id) if n[0] in {"warning", "overdue"}]
    with UnitOfWork(sessions) as uow:
        assert incident_id not in {i.id for i in timers.due(uow, later, 10)}

    back = T0 + timedelta(days=1)  # Thursday 10:00: 7.5 working hours later
    resumed = act(sessions, city, incident_id, Action.RESUME, HANDLER, back)
    assert resumed.suspended_at is None and resumed.stage_deadline > deadline
    assert resumed.stage_deadline == city.calendar.shift(deadline, paused, back, "wd")
    assert resumed.timer_due_at == yellow_at(city, resumed) and resumed.timer_due_at > back - timedelta(hours=1)


def test_an_extension_rearms_and_warns_again(sessions, city):
    incident_id = claimed_case(sessions, city)
    with sessions() as session:
        deadline = session.get(Incident, incident_id).stage_deadline
    done, _ = tick(sessions, city, incident_id, deadline + timedelta(seconds=1))
    assert done == ["red"]
    until = city.calendar.add_working_seconds(deadline, 2 * city.calendar.day_seconds)
    act(sessions, city, incident_id, Action.REQUEST_EXTEND, HANDLER, deadline, reason="需采购配件", until=until)
    extended = act(sessions, city, incident_id, Action.EXTEND, LEADER, deadline + timedelta(minutes=5), reason="同意")
    assert extended.stage_deadline == until and extended.warned == 0 and extended.overdue_flagged_at is None
    assert extended.timer_due_at == yellow_at(city, extended)
    done, incident = tick(sessions, city, incident_id, until + timedelta(seconds=1))
    assert done == ["red"]  # a new deadline, a new red
    assert [e.action for e in incident.timeline].count("overdue") == 2


def test_a_case_at_the_top_level_is_never_auto_escalated(sessions, city):
    incident_id = claimed_case(sessions, city)
    act(sessions, city, incident_id, Action.ESCALATE, HANDLER, T0, reason="需协调")
    act(sessions, city, incident_id, Action.ESCALATE, LEADER, T0, reason="需领导协调")
    top = act(sessions, city, incident_id, Action.DISPATCH, LEADER, T0)
    assert (top.level, top.department_code) == ("leadership", "QLD") and escalate_at(city, top) is None
    done, incident = tick(sessions, city, incident_id, T0 + timedelta(days=60))
    assert done == ["red"] and incident.state is Status.DISPATCHED and incident.timer_due_at is None
    assert tick(sessions, city, incident_id, T0 + timedelta(days=120))[0] == []


def test_the_sweep_takes_only_due_cases(sessions, city):
    first = claimed_case(sessions, city)
    with sessions() as session:
        due_at = session.get(Incident, first).timer_due_at
    # a second case claimed a working day later: not due yet when the first one is
    point = city.grids.get(UNIT).geometry.representative_point()
    start = T0 + timedelta(days=1)
    with UnitOfWork(sessions) as uow:
        second = create_incident(
            uow, city, CreateIncident(category_code="010301", description="公厕", lon=point.x, lat=point.y),
            actor="hotline-1", now=start,
        ).id  # fmt: skip
        uow.commit(start)
    for action, who in [(Action.FILE, LEADER), (Action.DISPATCH, LEADER), (Action.CLAIM, HANDLER)]:
        act(sessions, city, second, action, who, start)
    with sessions() as session:
        rows = len(session.get(Incident, second).timeline)
        assert session.get(Incident, second).timer_due_at > due_at
    with UnitOfWork(sessions) as uow:
        assert [i.id for i in timers.due(uow, due_at, 10)] == [first]
        assert timers.sweep(uow, city, due_at) == 1
        uow.commit(due_at)
    with sessions() as session:
        assert session.get(Incident, first).timeline[-1].action == "warn"
        assert len(session.get(Incident, second).timeline) == rows


def test_a_late_report_nobody_may_escalate_yet_is_not_picked_up_again_and_again(sessions, city):
    """Red on a reported case (filing is late): no escalation applies before it is filed, so no timer stays armed
    and the sweep does not take it every round (it would crowd out the cases that are due)."""
    accounts(sessions)
    point = city.grids.get(UNIT).geometry.representative_point()
    with UnitOfWork(sessions) as uow:
        incident_id = create_incident(
            uow, city, CreateIncident(category_code="010301", description="公厕", lon=point.x, lat=point.y),
            actor="hotline-1", now=T0,
        ).id  # fmt: skip
        uow.commit(T0)
    late = T0 + timedelta(days=10)
    done, incident = tick(sessions, city, incident_id, late)
    assert done == ["red"] and incident.state is Status.REPORTED and incident.timer_due_at is None
    with UnitOfWork(sessions) as uow:
        assert timers.due(uow, late + timedelta(days=30), 10) == []
    filed = act(sessions, city, incident_id, Action.FILE, LEADER, late)
    assert filed.timer_due_at is not None  # a new stage: its clock and timers start again
