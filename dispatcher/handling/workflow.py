"""The one entry point for acting on a case: the lifecycle action (dispatcher/cases/actions.py) wrapped with the
rules and side records of the loop after dispatch — who may close at which level, evidence for returns and
feedback, approvals, joint handling, the verifier, the callback, the ledger, and who is told."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.access.accounts import Account, Principal
from dispatcher.access.roles import Role
from dispatcher.cases.actions import get_incident, perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import DEPARTMENT_ROLES, check_action
from dispatcher.cases.scope import may_act as scope_may_act
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.catalogue import DepartmentKind
from dispatcher.city.loader import City
from dispatcher.errors import ConcurrentUpdate, Forbidden, Invalid
from dispatcher.handling import approvals, ledger, notices
from dispatcher.intake.media import Kind as MediaKind
from dispatcher.intake.media import Media

A = Action
LEVEL_BODIES = frozenset({DepartmentKind.COMMUNITY_STATION, DepartmentKind.STREET_OFFICE})
UNSATISFIED_NOTE = "回访不满意，返工 (the caller is not satisfied: rework)"


@dataclass(frozen=True)
class Policy:
    """Settings the loop reads (from dispatcher.settings, passed in by the adapters)."""

    spot_check_rate: float = 0.0


def perform(
    uow: UnitOfWork,
    city: City,
    incident_id: str,
    action: Action,
    req: ActionRequest,
    *,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
    policy: Policy = Policy(),
) -> Incident:
    """Apply one action with everything the loop after dispatch adds to it; the caller commits the unit of work."""
    session = uow.session
    incident = get_incident(uow, incident_id, for_update=True, principal=principal)
    if principal is not None:
        check_action(principal, action, incident)
    if req.expected_version is not None and req.expected_version != incident.version:
        raise ConcurrentUpdate(incident.id, req.expected_version, incident.version)  # before any other rule
    if principal is not None:
        if (reason := closer_refusal(city, principal, action, incident)) is not None:
            raise Forbidden(reason)
        req = _as_principal(principal, action, incident, req)
    if action is A.RETURN:
        req = req.model_copy(update={"department": incident.department_code})  # counted per returning department
    decided = _approval_to_decide(session, incident, action, req)
    if decided is not None:
        req = req.model_copy(update={"request_id": decided.id, "until": req.until or decided.until})
    _check_evidence(session, city, incident, action, req, actor)
    perform_action(uow, city, incident_id, action, req, actor=actor, now=now, principal=principal)
    _after(session, city, incident, action, req, decided, actor=actor, now=now, policy=policy)
    if action is A.CALLBACK and incident.callback_outcome == "unsatisfied":  # 返工, in the same transaction
        perform_action(uow, city, incident_id, A.REJECT, ActionRequest(reason=UNSATISFIED_NOTE), actor=actor, now=now)
        notices.rework(session, incident, now=now)
    return incident


def _as_principal(principal: Principal, action: Action, incident: Incident, req: ActionRequest) -> ActionRequest:
    """A partner reports its own department's part, whatever the body names."""
    if action is A.PART_DONE:
        return req.model_copy(update={"department": principal.department_code})
    return req


def closer_refusal(city: City, principal: Principal, action: Action, incident: Incident) -> str | None:
    """Departments close and archive only where the closing path (data/handling.yaml) makes them the closer."""
    if action not in {A.CLOSE, A.ARCHIVE} or principal.role not in DEPARTMENT_ROLES:
        return None
    closer = closer_of(city, incident)
    department = city.catalogue.departments.get(principal.department_code or "")
    if department is not None and department.kind is closer:
        return None
    return (
        f"incident {incident.id} (level {incident.level}) is closed by the {closer}, not by department "
        f"{principal.department_code or '(none)'} of user {principal.username}"
    )


def closer_of(city: City, incident: Incident) -> DepartmentKind:
    """Who closes this case: by its level when a level's own body handles it (data/handling.yaml), else — a
    district department's case — the district command center."""
    handler = city.catalogue.departments.get(incident.department_code or "")
    if handler is not None and handler.kind in LEVEL_BODIES:
        return city.rules.closer(incident.level)
    return DepartmentKind.COMMAND_CENTER


def may_act(city: City, principal: Principal, action: Action, incident: Incident) -> bool:
    """Whether to offer this action to this person on this case: the scope rule and the closing path."""
    return scope_may_act(principal, action, incident) and closer_refusal(city, principal, action, incident) is None


def _approval_to_decide(
    session: Session, incident: Incident, action: Action, req: ActionRequest
) -> approvals.Approval | None:
    if action in approvals.APPROVALS:
        return approvals.to_decide(session, incident.id, approvals.APPROVALS[action], req.request_id)
    if action is A.REFUSE:
        row = approvals.to_decide(session, incident.id, None, req.request_id)
        if row is None:
            raise Invalid(f"incident {incident.id} has no request waiting for a decision", field="request_id")
        return row
    return None


def _check_evidence(
    session: Session, city: City, incident: Incident, action: Action, req: ActionRequest, actor: str
) -> None:
    """A return with an evidence-bound reason, and feedback on a photo-bound category, carry their files."""
    reason = city.rules.return_reasons.get(req.reason_code or "") if action is A.RETURN else None
    if reason is not None and reason.evidence and not _files(session, incident, req, {"return"}):
        raise Invalid(
            f"incident {incident.id}: return reason {req.reason_code} needs evidence; upload a file at stage "
            "'return' or list it in media_ids",
            field="media_ids",
        )
    if action is A.HANDLE and city.rules.needs_photos(incident.category_code):
        kinds = {m.kind for m in _files(session, incident, req, {"handle"})}
        missing = sorted({MediaKind.BEFORE, MediaKind.AFTER} - kinds)
        if missing:
            raise Invalid(
                f"incident {incident.id}: feedback on category {incident.category_code} needs "
                f"{' and '.join(missing)} photos (stage 'handle')",
                field="media_ids",
            )


def _files(session: Session, incident: Incident, req: ActionRequest, stages: set[str]) -> list[Media]:
    """The case's files that back this step: those named in media_ids (NotFound-like 422 for a stranger's), else
    those uploaded at these stages since the case was last sent to its department."""
    if req.media_ids:
        rows = list(session.scalars(select(Media).where(Media.id.in_(req.media_ids))))
        strangers = sorted(set(req.media_ids) - {m.id for m in rows if m.incident_id == incident.id})
        if strangers:
            raise Invalid(f"media {', '.join(strangers)} are not files of incident {incident.id}", field="media_ids")
        elsewhere = sorted(m.id for m in rows if m.stage not in stages)
        if elsewhere:
            raise Invalid(
                f"media {', '.join(elsewhere)} of incident {incident.id} were not uploaded at stage "
                f"{' or '.join(sorted(stages))}",
                field="media_ids",
            )
        return rows
    since = max((e.at for e in incident.timeline if e.action in {"dispatch", "uphold", "reject"}), default=None)
    query = select(Media).where(Media.incident_id == incident.id, Media.stage.in_(stages))
    if since is not None:
        query = query.where(Media.created_at >= since)
    return list(session.scalars(query))


def _after(
    session: Session,
    city: City,
    incident: Incident,
    action: Action,
    req: ActionRequest,
    decided: approvals.Approval | None,
    *,
    actor: str,
    now: datetime,
    policy: Policy,
) -> None:
    """Side records and follow-ups of an action that has been applied."""
    if action in approvals.REQUESTS:
        kind = approvals.REQUESTS[action]
        row = approvals.request(session, incident.id, kind, by=actor, reason=req.reason or "", until=req.until, now=now)
        session.flush()
        notices.approval_requested(session, incident, row, now=now)
    elif decided is not None:
        decision = approvals.Decision.REFUSED if action is A.REFUSE else approvals.Decision.APPROVED
        approvals.decide(decided, decision, by=actor, note=req.reason or req.note, now=now)
        notices.approval_decided(session, incident, decided, now=now)
    elif action is A.HANDLE:
        incident.verifier = req.verifier or default_verifier(session, incident)
        notices.verification_due(session, incident, now=now)
    elif action is A.ASSIGN_VERIFIER:
        notices.verification_due(session, incident, now=now)
    elif action is A.VERIFY:
        _decide_callback(city, incident, policy)
        if incident.callback_required:
            notices.callback_due(session, incident, now=now)
    elif action is A.ARCHIVE:
        ledger.write_entry(session, incident, archiver=actor, now=now)
    if incident.state not in approvals.WHILE_HANDLING:  # fed back, returned, escalated …: nothing left to approve
        approvals.lapse(session, incident.id, by=actor, now=now)
    notices.after_action(session, incident, action, now=now)


def _decide_callback(city: City, incident: Incident, policy: Policy) -> None:
    """A caller who asked to be called back is; community-handled cases are spot-checked at the configured rate."""
    if incident.call_nature == "callback":
        incident.callback_required, incident.callback_reason = True, "caller"
    elif incident.level in city.rules.spot_check_levels and spot_checked(incident.id, policy.spot_check_rate):
        incident.callback_required, incident.callback_reason = True, "spot_check"


def spot_checked(incident_id: str, rate: float) -> bool:
    """Whether a case falls in the random spot-check sample: uniform on its id, so the choice is reproducible."""
    draw = int(hashlib.sha256(incident_id.encode()).hexdigest()[:8], 16) / 0x1_0000_0000
    return draw < rate


def default_verifier(session: Session, incident: Incident) -> str | None:
    """The grid worker who reported the case, else the grid worker of its grid (unit, then community, street)."""
    grid_workers = select(Account.username).where(Account.role == str(Role.GRID_WORKER), Account.disabled.is_(False))
    reporter = incident.timeline[0].actor if incident.timeline else None
    if reporter and session.scalar(grid_workers.where(Account.username == reporter)):
        return reporter
    for code in (incident.grid_unit, incident.grid_community, incident.grid_street):
        if code and (
            name := session.scalar(grid_workers.where(Account.region_code == code).order_by(Account.username))
        ):
            return name
    return None
