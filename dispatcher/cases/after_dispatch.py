"""Effects of the actions after dispatch that change only the case itself: revoke, uphold, requests and refusals,
joint handling, verifier, callback, supervision, and the escalation handover. Side records (approvals, the
ledger, notifications) are the workflow's (dispatcher/handling)."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from dispatcher.cases.clocks import start_stage
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import CasePartner, Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.city.catalogue import Stage
from dispatcher.city.loader import City
from dispatcher.errors import Conflict, Invalid
from geo.grids import GridPath

T = TypeVar("T")


def require(value: T | None, name: str, action: Action) -> T:
    """The parameter's value, or Invalid naming the parameter and the action that needs it."""
    if value is None or value == []:
        raise Invalid(f"action '{action}' needs '{name}'", field=name)
    return value


def grid_path(incident: Incident) -> GridPath:
    """The recorded grid path of the incident."""
    return GridPath(incident.grid_unit, incident.grid_community, incident.grid_street, incident.grid_district)


def hand_over(city: City, incident: Incident, level: str) -> str | None:
    """上报 hands over: the next level's owner of the category becomes the case's department (None: nobody named)."""
    owner = city.router.owner(level, incident.category_code, grid_path(incident))
    incident.level = level
    if owner is not None:
        incident.department_code = owner
        incident.routing_rule = f"escalation:{level}"
        incident.routing_reason = f"escalated to level {level}: owner {owner}"
    incident.assignee = None
    return owner


def add_partners(city: City, incident: Incident, codes: list[str], now: datetime) -> None:
    """Add partner departments (会办/协办) to a joint case; the lead department cannot be its own partner."""
    known = {p.department_code for p in incident.partners}
    for code in codes:
        try:
            city.catalogue.department(code)
        except (KeyError, ValueError):
            raise Invalid(f"incident {incident.id}: unknown partner department {code!r}", field="partners") from None
        if code == incident.department_code:
            raise Invalid(f"incident {incident.id}: {code} leads the case and cannot be its partner", field="partners")
        if code not in known:
            incident.partners.append(CasePartner(department_code=code, added_at=now))
            known.add(code)


def open_parts(incident: Incident) -> list[str]:
    """The partner departments whose part is not done yet."""
    return [p.department_code for p in incident.partners if p.done_at is None]


def revoke(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """撤销: take back an unclaimed dispatch; the case is filed again and its dispatch clock restarts."""
    incident.assignee = None
    incident.partners.clear()
    start_stage(city, incident, Stage.DISPATCH, now)
    return require(req.reason, "reason", Action.REVOKE)


def uphold(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """审定维持: the return is refused; back to the same department with its clock still running."""
    incident.assignee = None
    return require(req.reason, "reason", Action.UPHOLD)


def request_suspend(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """申请挂账: asks the shift leader; nothing stops until it is approved."""
    return require(req.reason, "reason", Action.REQUEST_SUSPEND)


def request_extend(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """申请延期: asks the shift leader for a later deadline."""
    until = require(req.until, "until", Action.REQUEST_EXTEND)
    if incident.stage_deadline is not None and until <= incident.stage_deadline:
        raise Invalid(
            f"incident {incident.id}: requested deadline {until.isoformat()} is not after "
            f"{incident.stage_deadline.isoformat()}",
            field="until",
        )
    return require(req.reason, "reason", Action.REQUEST_EXTEND)


def refuse(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """不予批准: the request stays refused; the clock kept running all along."""
    return require(req.reason, "reason", Action.REFUSE)


def part_done(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """协办反馈: one partner department reports its part."""
    code = require(req.department, "department", Action.PART_DONE)
    part = next((p for p in incident.partners if p.department_code == code), None)
    if part is None:
        raise Invalid(f"incident {incident.id}: department {code} is not a partner", field="department")
    if part.done_at is not None:
        raise Conflict(
            f"incident {incident.id}: partner {code} already reported its part at {part.done_at.isoformat()}"
        )
    part.result = require(req.result, "result", Action.PART_DONE)
    part.done_at, part.done_by = now, actor
    return part.result


def assign_verifier(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """核查派遣: name the grid worker who verifies; the verification clock keeps running."""
    incident.verifier = require(req.verifier, "verifier", Action.ASSIGN_VERIFIER)
    return req.note


def callback(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """回访: reached or not; when reached, satisfied or not (the workflow turns unsatisfied into rework)."""
    reached = require(req.reached, "reached", Action.CALLBACK)
    if reached:
        satisfied = require(req.satisfied, "satisfied", Action.CALLBACK)
        incident.callback_outcome = "satisfied" if satisfied else "unsatisfied"
    else:
        incident.callback_outcome = "not_reached"
    return req.note


def supervise(city: City, incident: Incident, req: ActionRequest, actor: str, now: datetime) -> str | None:
    """督办: a leader flags the case; it shows on every desk until it is finished."""
    incident.supervised_at, incident.supervised_by = now, actor
    return require(req.reason, "reason", Action.SUPERVISE)
