"""Lifecycle action handlers (立案, 派遣, 签收, 反馈, 核查, 结案 ...): each changes the aggregate, with the action's
effects on routing and clocks, and leaves committing to the unit of work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

import shapely
from sqlalchemy.orm import Session, object_session

from dispatcher.access.accounts import Principal
from dispatcher.cases import after_dispatch as after
from dispatcher.cases import merging
from dispatcher.cases.after_dispatch import require as _require
from dispatcher.cases.clocks import rearm, stage_limit, start_stage, start_total
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action, Status, next_status
from dispatcher.cases.scope import can_see, check_action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.catalogue import DepartmentKind, Stage
from dispatcher.city.loader import City
from dispatcher.city.routing import RoutingDecision, TriageReason
from dispatcher.errors import AlreadyDispatched, ConcurrentUpdate, Invalid, NotFound

MANUAL_LEVEL = "district"  # a case routed by hand belongs to the district command center
DOWN_DISPATCH_LEVELS = frozenset({"district", "city", "leadership"})  # 区下派: from these levels to a street

T = TypeVar("T")


def perform_action(
    uow: UnitOfWork,
    city: City,
    incident_id: str,
    action: Action,
    req: ActionRequest,
    *,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
) -> Incident:
    """Apply one lifecycle action to an incident, with the effects that action has on routing and clocks.

    With a principal (every call made for a person), the role and scope rules of dispatcher/cases/scope.py
    apply first; without one (the engine's own sweeps and the demo seeding) they do not.
    """
    incident = get_incident(uow, incident_id, for_update=True, principal=principal)
    if principal is not None:
        check_action(principal, action, incident)
        if action is Action.MERGE and req.parent_id is not None and req.parent_id != incident_id:
            get_incident(uow, req.parent_id, principal=principal)  # the parent must be in scope too (404 naming it)
    if req.expected_version is not None and req.expected_version != incident.version:
        raise ConcurrentUpdate(incident_id, req.expected_version, incident.version)
    if action is Action.DISPATCH and req.expected_version is None and incident.state is Status.DISPATCHED:
        raise AlreadyDispatched(incident.id, incident.department_code, incident.version)  # checked under the row lock
    next_status(incident.id, incident.state, action)  # fail fast before any effect
    note = EFFECTS[action](city, incident, req, actor, now)
    incident.transition(action, actor=actor, now=now, note=note, data=action_data(req))
    rearm(city, incident)
    return incident


def get_incident(
    uow: UnitOfWork, incident_id: str, *, for_update: bool = False, principal: Principal | None = None
) -> Incident:
    """The incident with this id, or NotFound naming it (also when it is outside the principal's scope)."""
    incident = uow.session.get(Incident, incident_id, with_for_update=for_update or None)
    if incident is None or (principal is not None and not can_see(principal, incident)):
        raise NotFound(f"incident {incident_id} does not exist", field="id")
    return incident


def place(city: City, incident: Incident, lon: float | None, lat: float | None) -> RoutingDecision | TriageReason:
    """Locate and route: record the grid path, the department, the level and why."""
    path = None
    if lon is not None and lat is not None:  # given together or not at all (commands.check_coordinates)
        incident.lon, incident.lat = lon, lat
        incident.location = shapely.Point(lon, lat)
        path = city.grids.locate(lon, lat)
    incident.grid_unit = path.unit if path else None
    incident.grid_community = path.community if path else None
    incident.grid_street = path.street if path else None
    incident.grid_district = path.district if path else None
    incident.grid_version = city.grids.version
    decision = city.router.route(incident.category_code, path, city.grids.version)
    if isinstance(decision, TriageReason):
        incident.triage_reason, incident.triage_detail = decision.code, decision.detail
        incident.routing_rule = incident.routing_reason = None
        incident.department_code = None
        return decision
    incident.triage_reason = incident.triage_detail = None
    incident.department_code, incident.level = decision.department, decision.level
    incident.routing_rule, incident.routing_reason = decision.rule, decision.reason
    return decision


def _known(lookup: Callable[[str], T], code: str, field: str) -> T:
    """Look a code up in the catalogue; an unknown one is a 422 naming it."""
    try:
        return lookup(code)
    except (KeyError, ValueError) as exc:
        raise Invalid(str(exc.args[0]) if exc.args else f"unknown {field} {code!r}", field=field) from None


def _file(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """立案: apply corrections from triage, re-route, and start the dispatch clock."""
    if req.category_code is not None:
        _known(city.catalogue.category, req.category_code, "category_code")
        incident.category_code = req.category_code
    corrected = req.category_code is not None or req.lon is not None
    if corrected or incident.state is Status.TRIAGE:
        lon, lat = (req.lon, req.lat) if req.lon is not None else (incident.lon, incident.lat)
        decision = place(city, incident, lon, lat)
        if isinstance(decision, TriageReason) and decision.code == "no_department" and req.department:
            _assign_by_hand(city, incident, req.department, actor)
        elif isinstance(decision, TriageReason) and decision.code != "near_border":
            raise Invalid(f"incident {incident.id} cannot be filed yet: {decision.detail}", field=decision.code)
    if incident.category_code is None:
        raise Invalid(f"incident {incident.id} has no category; give category_code", field="category_code")
    start_stage(city, incident, Stage.DISPATCH, now)
    start_total(city, incident, now)
    return req.note


def _assign_by_hand(city: City, incident: Incident, department: str, actor: str) -> None:
    """An operator names the department the rules could not find; the district command center owns the case."""
    _known(city.catalogue.department, department, "department")
    incident.department_code, incident.level = department, MANUAL_LEVEL
    incident.routing_rule = f"manual:{actor}"
    incident.routing_reason = f"no routing rule for category {incident.category_code}; {actor} chose {department}"
    incident.triage_reason = incident.triage_detail = None


def _dispatch(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """派遣: send to a department (default: the routed one, or the owner an escalation handed it to), with partner
    departments for a joint case; the handling clock starts at the first dispatch and again when a returned case
    goes to another department (审定改派). Sending a district case to a street office is 区下派."""
    department = req.department or incident.department_code
    if department is None:
        raise Invalid(f"incident {incident.id} has no routed department; give 'department'", field="department")
    target = _known(city.catalogue.department, department, "department")
    redispatch = incident.state is Status.RETURNED
    if redispatch and department == incident.department_code:
        raise Invalid(
            f"incident {incident.id} was returned by {department}: re-dispatch it to another department, or uphold",
            field="department",
        )
    if department != incident.department_code:
        incident.routing_rule = f"manual:{actor}"
        incident.routing_reason = f"dispatched by {actor} to {department} (routed: {incident.department_code})"
        # partners named again keep their row (a delete and an insert of one department would collide on the
        # unique key in the same flush) but start a fresh part for the new lead; the others leave
        incident.partners[:] = [p for p in incident.partners if p.department_code in req.partners]
        for part in incident.partners:
            part.added_at, part.done_at, part.done_by, part.result = now, None, None, None
    if target.kind is DepartmentKind.STREET_OFFICE and incident.level in DOWN_DISPATCH_LEVELS:
        incident.level, incident.down_dispatch_street = "street", target.region
    incident.department_code = department
    incident.assignee = req.assignee
    after.add_partners(city, incident, req.partners, now)
    if incident.stage != Stage.HANDLE or redispatch:
        start_stage(city, incident, Stage.HANDLE, now)
    return req.note


def _claim(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """签收: the claiming person becomes the handler."""
    incident.assignee = req.assignee or actor
    if incident.state is Status.REWORK:
        start_stage(city, incident, Stage.HANDLE, now)
    return req.note


def _transfer(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """批转: hand over to a named next handler."""
    incident.assignee = _require(req.assignee, "assignee", Action.TRANSFER)
    return req.note


def _return(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """退单: back to the command center with a reason code and a reason; the clock keeps running, it is counted."""
    code = _require(req.reason_code, "reason_code", Action.RETURN)
    _known(city.rules.return_reason, code, "reason_code")
    incident.return_count += 1
    incident.assignee = None
    return _require(req.reason, "reason", Action.RETURN)


def _escalate(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """上报: one level up the ladder, handing the case over to that level's owner, who must dispatch it in time."""
    if incident.level is None:
        raise Invalid(f"incident {incident.id} has no level yet; file it first", field="level")
    upper = city.router.next_level(incident.level)
    if upper is None:
        raise Invalid(f"incident {incident.id} is already at the top level '{incident.level}'", field="level")
    reason = _require(req.reason, "reason", Action.ESCALATE)
    after.hand_over(city, incident, upper.code)
    incident.escalation_count += 1
    start_stage(city, incident, Stage.DISPATCH, now)
    return reason


def _suspend(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """挂账: stop the clock (approved pause)."""
    incident.suspended_at = now
    return _require(req.reason, "reason", Action.SUSPEND)


def _resume(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """Restart the clock; the deadline moves by the working time the case was paused."""
    limit = stage_limit(city, incident, Stage(incident.stage)) if incident.stage else None
    if incident.stage_deadline is not None and limit is not None and incident.suspended_at is not None:
        incident.stage_deadline = city.calendar.shift(incident.stage_deadline, incident.suspended_at, now, limit.unit)
    total = stage_limit(city, incident, Stage.TOTAL)
    if incident.total_deadline is not None and total is not None and incident.suspended_at is not None:
        incident.total_deadline = city.calendar.shift(incident.total_deadline, incident.suspended_at, now, total.unit)
    incident.suspended_at = None
    return req.note


def _extend(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """延期: an approved new deadline, later than the current one."""
    until = _require(req.until, "until", Action.EXTEND).astimezone(UTC)
    if incident.stage_deadline is not None and until <= incident.stage_deadline:
        raise Invalid(
            f"incident {incident.id}: new deadline {until.isoformat()} is not after {incident.stage_deadline.isoformat()}",
            field="until",
        )
    incident.stage_deadline = until
    if incident.total_deadline is not None and until > incident.total_deadline:
        incident.total_deadline = until
    incident.overdue_flagged_at = None
    incident.warned = 0
    return _require(req.reason, "reason", Action.EXTEND)


def _handle(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """反馈: the department reports what it did, once every partner's part is done; verification starts."""
    result = _require(req.result, "result", Action.HANDLE)
    if waiting := after.open_parts(incident):
        raise Invalid(
            f"incident {incident.id}: partner departments {', '.join(waiting)} have not reported their part",
            field="partners",
        )
    start_stage(city, incident, Stage.VERIFY, now)
    return result


def _verify(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """核查通过: the fix is confirmed; no clock runs until closing."""
    start_stage(city, incident, None, now)
    return req.note


def _reject(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """核查不通过 or an unsatisfied caller: back to the department as rework (返工), counted."""
    incident.rework_count += 1
    incident.callback_outcome = None  # the next fix needs its own callback
    return _require(req.reason, "reason", Action.REJECT)


def _close(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """结案: verified, and called back where a callback is required."""
    if incident.callback_required and incident.callback_outcome not in {"satisfied", "not_reached"}:
        raise Invalid(
            f"incident {incident.id} needs a callback record ({incident.callback_reason}) before it is closed",
            field="callback",
        )
    incident.closed_at = now
    start_stage(city, incident, None, now)
    return req.note


def _void(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """作废: needs a reason; no clock runs any more."""
    incident.closed_at = now
    start_stage(city, incident, None, now)
    return _require(req.reason, "reason", Action.VOID)


def _triage(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """Send to the triage queue by hand, with the reason."""
    incident.triage_reason = "manual"
    incident.triage_detail = _require(req.reason, "reason", Action.TRIAGE)
    return incident.triage_detail


def _merge(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """合并: fold a duplicate report into an open case (req.parent_id); its clock stops, the parent carries it."""
    note = merging.attach(_session_of(incident), incident, req.parent_id, actor=actor, now=now)
    start_stage(city, incident, None, now)
    return req.note or note


def _unmerge(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """Split a merged report off again: back to reported, with its own grid and department and a new filing clock."""
    note = merging.detach(_session_of(incident), incident, actor=actor, now=now)
    start_stage(city, incident, Stage.FILE, now)
    return req.note or note


def _session_of(incident: Incident) -> Session:
    """The session the incident was loaded in: handlers only ever get incidents of the unit of work."""
    session = object_session(incident)
    if session is None:
        raise RuntimeError(f"incident {incident.id} is not attached to a session")
    return session


def _note_only(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    return req.note


Effect = Callable[[City, Incident, ActionRequest, str, datetime], str | None]
EFFECTS: dict[Action, Effect] = {
    Action.TRIAGE: _triage,
    Action.FILE: _file,
    Action.DISPATCH: _dispatch,
    Action.CLAIM: _claim,
    Action.TRANSFER: _transfer,
    Action.RETURN: _return,
    Action.ESCALATE: _escalate,
    Action.SUSPEND: _suspend,
    Action.RESUME: _resume,
    Action.EXTEND: _extend,
    Action.HANDLE: _handle,
    Action.VERIFY: _verify,
    Action.REJECT: _reject,
    Action.CLOSE: _close,
    Action.ARCHIVE: _note_only,
    Action.VOID: _void,
    Action.MERGE: _merge,
    Action.UNMERGE: _unmerge,
    Action.REVOKE: after.revoke,
    Action.UPHOLD: after.uphold,
    Action.REQUEST_SUSPEND: after.request_suspend,
    Action.REQUEST_EXTEND: after.request_extend,
    Action.REFUSE: after.refuse,
    Action.PART_DONE: after.part_done,
    Action.ASSIGN_VERIFIER: after.assign_verifier,
    Action.CALLBACK: after.callback,
    Action.SUPERVISE: after.supervise,
}


def action_data(req: ActionRequest) -> dict[str, Any]:
    """The parameters worth keeping on the timeline row."""
    fields = req.model_dump(exclude_none=True, exclude={"note", "expected_version"}, mode="json")
    return fields
