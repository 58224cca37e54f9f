"""Receiving a report (受理): a new incident from any channel, located, routed and on its filing clock.

Machine detections always go to triage; a grid worker's self-handled report (自行处置) walks to closed in
one transaction. Like every handler, these change the aggregate and leave committing to the unit of work.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role
from dispatcher.cases.actions import EFFECTS, action_data, place
from dispatcher.cases.clocks import start_stage
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action, Status, next_status
from dispatcher.cases.scope import can_see
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.catalogue import Stage
from dispatcher.city.loader import City
from dispatcher.city.routing import NO_LOCATION, TriageReason
from dispatcher.errors import Forbidden, Invalid
from dispatcher.intake import callers, numbers
from dispatcher.intake.commands import CreateIncident
from geo.grids import Level

REPORTER = "system"


def create_incident(uow: UnitOfWork, city: City, cmd: CreateIncident, *, actor: str, now: datetime) -> Incident:
    """Receive a report (受理): locate it, route it, start the filing clock; unplaceable ones go to triage.

    A report without any point goes to triage as `no_location` (not `outside_grid`); in a city of one district
    it still belongs to that district (grid_district set, nothing below it), so the district's call-takers can
    open what they logged and find it in the caller's history."""
    incident = _received(city, cmd, actor=actor, now=now)
    decision = place(city, incident, cmd.lon, cmd.lat)
    if cmd.lon is None and isinstance(decision, TriageReason) and decision.code == "outside_grid":
        decision = _unlocated(city, incident)
    numbers.assign(uow.session, city, incident, now)
    start_stage(city, incident, Stage.FILE, now)
    if isinstance(decision, TriageReason):
        incident.transition(
            Action.TRIAGE, actor=REPORTER, now=now, note=decision.detail, data={"reason": decision.code}
        )
    uow.session.add(incident)
    return incident


def _unlocated(city: City, incident: Incident) -> TriageReason:
    """Mark a report with no point as `no_location`, in the city's district when it has only one."""
    incident.triage_reason, incident.triage_detail = NO_LOCATION.code, NO_LOCATION.detail
    districts = city.grids.by_level(Level.DISTRICT)
    incident.grid_district = districts[0].code if len(districts) == 1 else None
    return NO_LOCATION


def create_machine_incident(
    uow: UnitOfWork,
    city: City,
    cmd: CreateIncident,
    reason: TriageReason,
    *,
    actor: str,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> Incident:
    """Receive a camera's or sensor's detection: placed like any report, but always sent to triage for a person.

    The routing engine's own reason wins when it has one (unknown category, outside every grid, no department);
    otherwise `reason` (machine_detected / low_confidence). Like every triaged case it carries no department:
    filing re-routes it (see _file).
    """
    incident = _received(city, cmd, actor=actor, now=now, data=data)
    decision = place(city, incident, cmd.lon, cmd.lat)
    if not isinstance(decision, TriageReason):
        suggestion = f"; rules would route it to {decision.department} ({decision.reason})"
        reason = TriageReason(reason.code, reason.detail + suggestion)
        incident.department_code = incident.level = incident.routing_rule = incident.routing_reason = None
        incident.triage_reason, incident.triage_detail = reason.code, reason.detail
        decision = reason
    numbers.assign(uow.session, city, incident, now)
    start_stage(city, incident, Stage.FILE, now)
    incident.transition(Action.TRIAGE, actor=REPORTER, now=now, note=decision.detail, data={"reason": decision.code})
    uow.session.add(incident)
    return incident


def _received(
    city: City, cmd: CreateIncident, *, actor: str, now: datetime, data: dict[str, Any] | None = None
) -> Incident:
    """A new incident from a report, with its first timeline row ("from nothing to reported")."""
    category = city.catalogue.find_category(cmd.category_code) if cmd.category_code else None
    incident = Incident(
        channel=str(cmd.channel),
        category_code=cmd.category_code,
        description=cmd.description,
        address=cmd.address,
        reporter_name=cmd.reporter_name,
        reporter_phone=cmd.reporter_phone,
        reporter_phone_hash=callers.phone_hash(cmd.reporter_phone),
        call_nature=str(cmd.call_nature) if cmd.call_nature else None,
        callback_name=cmd.callback_name,
        callback_phone=cmd.callback_phone,
        external_id=cmd.external_id,
        urgency=cmd.urgency or (category.urgency if category else 1),
        created_at=now,
        updated_at=now,
    )
    incident.record(
        action="report", actor=actor, now=now, to=Status.REPORTED, data={"channel": str(cmd.channel), **(data or {})}
    )
    return incident


SELF_HANDLE_STEPS = (Action.FILE, Action.DISPATCH, Action.CLAIM, Action.HANDLE, Action.VERIFY, Action.CLOSE)
SELF_HANDLE_EVIDENCE = ("before", "after")


def self_handle(
    uow: UnitOfWork,
    city: City,
    cmd: CreateIncident,
    *,
    result: str,
    evidence: Collection[str],
    principal: Principal,
    now: datetime,
) -> Incident:
    """自行处置: a grid worker reports a small problem he has already fixed, and it is closed in one step.

    Only a grid worker may; he needs at least one photo before and one after the fix (`evidence` holds the
    kinds of the files that come with the report). The incident is reported, then filed, dispatched to the
    routed department, claimed, handled (with `result`), verified and closed — one timeline row per step,
    every one by the grid worker and marked `self_handled` — all in the caller's transaction. A report the
    engine cannot place or route (triage) cannot be self-handled: Invalid, and nothing is written.
    """
    if principal.role is not Role.GRID_WORKER:
        raise Forbidden(
            f"role '{principal.role}' may not self-handle reports; only a grid worker may (user {principal.username})"
        )
    missing = [kind for kind in SELF_HANDLE_EVIDENCE if kind not in evidence]
    if missing:
        raise Invalid(f"a self-handled report needs at least one '{missing[0]}' photo", field=missing[0])
    if not result or not result.strip():
        raise Invalid("a self-handled report needs 'result': what was done", field="result")
    actor = principal.username
    incident = create_incident(uow, city, cmd, actor=actor, now=now)
    if incident.state is Status.TRIAGE:
        raise Invalid(
            f"incident {incident.id} cannot be self-handled: {incident.triage_detail}", field=incident.triage_reason
        )
    if not can_see(principal, incident):
        raise Forbidden(f"incident {incident.id} is outside the scope of user {actor}; it cannot be self-handled")
    marker = {"self_handled": True}
    for action in SELF_HANDLE_STEPS:
        req = ActionRequest(
            note="自行处置" if action is not Action.HANDLE else None,
            result=result if action is Action.HANDLE else None,
            assignee=actor if action in (Action.DISPATCH, Action.CLAIM) else None,
        )
        next_status(incident.id, incident.state, action)
        note = EFFECTS[action](city, incident, req, actor, now)
        incident.transition(action, actor=actor, now=now, note=note, data={**action_data(req), **marker})
    return incident
