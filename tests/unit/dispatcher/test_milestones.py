"""Case milestones on the case row (issue 14): a case driven through its real lifecycle keeps, on its own row and
in the transaction of each step, who reported it, the last filing, the first dispatch, the last feedback and the
last verification, each with the stage deadline in force then, and its approved extensions (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timedelta

from dispatcher.cases.actions import perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action, Status
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.catalogue import Stage
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from tests.conftest import T0

UNIT = "330199001002001"  # 望江街道: the category below routes to a district department
CATEGORY = "010301"  # limits on every stage (file, dispatch, handle, verify)
MINUTE = timedelta(minutes=1)


def report(sessions, city, now: datetime, actor: str = "hotline-7") -> str:
    point = city.grids.get(UNIT).geometry.representative_point()
    cmd = CreateIncident(category_code=CATEGORY, description="里程碑测试", lon=point.x, lat=point.y)
    with UnitOfWork(sessions) as uow:
        incident = create_incident(uow, city, cmd, actor=actor, now=now)
        uow.commit(now)
        return incident.id


def act(sessions, city, incident_id: str, action: Action, actor: str, now: datetime, **params) -> Incident:
    with UnitOfWork(sessions) as uow:
        incident = perform_action(uow, city, incident_id, action, ActionRequest(**params), actor=actor, now=now)
        uow.commit(now)
        return incident


def stored(sessions, incident_id: str) -> Incident:
    """The row as another transaction reads it back."""
    with sessions() as session:
        incident = session.get(Incident, incident_id)
        assert incident is not None
        return incident


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at else None


def due(city, stage: Stage, started: datetime) -> datetime:
    return city.calendar.add(started, city.catalogue.category(CATEGORY).limits[stage])


def test_a_case_through_the_whole_loop_keeps_its_milestones_on_its_row(db, city):
    _, _, sessions = db
    case = report(sessions, city, T0)
    assert stored(sessions, case).reported_by == "hotline-7"
    assert stored(sessions, case).filed_at is None and stored(sessions, case).extension_count == 0

    filed = act(sessions, city, case, Action.FILE, "leader-1", T0 + 10 * MINUTE)
    first = act(sessions, city, case, Action.DISPATCH, "leader-1", T0 + 20 * MINUTE)
    row = stored(sessions, case)
    assert (row.filed_at, row.filed_by, row.file_due_at) == (T0 + 10 * MINUTE, "leader-1", due(city, Stage.FILE, T0))
    assert (row.dispatched_at, row.dispatched_by) == (T0 + 20 * MINUTE, "leader-1")
    assert row.dispatch_due_at == due(city, Stage.DISPATCH, T0 + 10 * MINUTE) == filed.stage_deadline
    routed = first.department_code
    other = "SW" if routed != "SW" else "HW"

    act(sessions, city, case, Action.RETURN, "handler-1", T0 + 30 * MINUTE, reason_code="not_ours", reason="非本部门")
    act(sessions, city, case, Action.DISPATCH, "leader-2", T0 + 40 * MINUTE, department=other)
    row = stored(sessions, case)
    assert (row.department_code, row.return_count) == (other, 1)
    assert (row.dispatched_at, row.dispatched_by) == (T0 + 20 * MINUTE, "leader-1")  # the FIRST dispatch stays

    claimed = act(sessions, city, case, Action.CLAIM, "handler-2", T0 + 50 * MINUTE)
    original = claimed.stage_deadline
    act(sessions, city, case, Action.SUSPEND, "leader-1", T0 + 60 * MINUTE, reason="等待物业配合")
    resumed = act(sessions, city, case, Action.RESUME, "leader-1", T0 + 3 * 60 * MINUTE)
    assert resumed.stage_deadline is not None and original is not None and resumed.stage_deadline > original
    until = resumed.stage_deadline + timedelta(days=1)
    act(sessions, city, case, Action.EXTEND, "leader-1", T0 + 190 * MINUTE, until=until, reason="需采购材料")
    assert stored(sessions, case).extension_count == 1

    act(sessions, city, case, Action.HANDLE, "handler-2", T0 + 200 * MINUTE, result="已清理")
    row = stored(sessions, case)
    assert (row.handled_at, row.handle_due_at) == (T0 + 200 * MINUTE, until)  # the deadline in force at feedback

    act(sessions, city, case, Action.REJECT, "inspector-1", T0 + 210 * MINUTE, reason="未清理干净")
    again = act(sessions, city, case, Action.CLAIM, "handler-2", T0 + 220 * MINUTE)
    assert again.stage_deadline == due(city, Stage.HANDLE, T0 + 220 * MINUTE)
    act(sessions, city, case, Action.HANDLE, "handler-2", T0 + 240 * MINUTE, result="已复查清理")
    row = stored(sessions, case)
    assert (row.handled_at, row.handle_due_at, row.rework_count) == (T0 + 240 * MINUTE, again.stage_deadline, 1)
    assert row.verified_at is None

    act(sessions, city, case, Action.VERIFY, "inspector-1", T0 + 250 * MINUTE)
    closed = act(sessions, city, case, Action.CLOSE, "leader-1", T0 + 260 * MINUTE)
    row = stored(sessions, case)
    assert (row.verified_at, row.verify_due_at) == (T0 + 250 * MINUTE, due(city, Stage.VERIFY, T0 + 240 * MINUTE))
    assert (row.closed_at, row.status, row.extension_count) == (T0 + 260 * MINUTE, Status.CLOSED, 1)
    assert (row.filed_at, row.dispatched_at, row.reported_by) == (T0 + 10 * MINUTE, T0 + 20 * MINUTE, "hotline-7")
    shown = closed.snapshot()["milestones"]
    assert shown["handled_at"] == row.handled_at.isoformat() and shown["handle_due_at"] == iso(again.stage_deadline)
    assert shown["dispatched_by"] == "leader-1" and shown["extension_count"] == 1 and shown["verify_due_at"]


def test_a_case_filed_again_after_an_unmerge_keeps_the_last_filing(db, city):
    _, _, sessions = db
    parent = report(sessions, city, T0)
    child = report(sessions, city, T0 + MINUTE, actor="grid-worker-3")
    act(sessions, city, child, Action.FILE, "leader-1", T0 + 5 * MINUTE)
    act(sessions, city, child, Action.MERGE, "leader-1", T0 + 6 * MINUTE, parent_id=parent)
    act(sessions, city, child, Action.UNMERGE, "leader-2", T0 + 30 * MINUTE)
    act(sessions, city, child, Action.FILE, "leader-2", T0 + 40 * MINUTE)
    row = stored(sessions, child)
    assert (row.filed_at, row.filed_by) == (T0 + 40 * MINUTE, "leader-2")
    assert row.file_due_at == due(city, Stage.FILE, T0 + 30 * MINUTE)  # the filing clock the unmerge restarted
    assert (row.reported_by, row.dispatched_at, row.dispatch_due_at) == ("grid-worker-3", None, None)
    assert stored(sessions, parent).filed_at is None  # the merge row on the parent reaches nothing
