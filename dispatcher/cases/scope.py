"""Who may see and do what, decided in one place: the role's permissions, the account's scope and, to act, whose
case it is."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_

from dispatcher.access.accounts import Principal
from dispatcher.access.roles import CASE_READERS, TRIAGE_ROLES, Role
from dispatcher.cases.incident import CasePartner, Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.rooms import TRIAGE, department_room, grid_room
from dispatcher.errors import Forbidden
from dispatcher.notify import user_room

R, A = Role, Action


# Lifecycle actions per role (one table; the transition table still decides what the status allows).
COMMAND_CENTER_ACTIONS = frozenset(
    {A.TRIAGE, A.FILE, A.DISPATCH, A.ESCALATE, A.VERIFY, A.REJECT, A.MERGE, A.UNMERGE}
    | {A.REVOKE, A.UPHOLD, A.ASSIGN_VERIFIER, A.CALLBACK}
)
HANDLER_ACTIONS = frozenset(
    {A.CLAIM, A.TRANSFER, A.RETURN, A.HANDLE, A.RESUME, A.ESCALATE, A.REQUEST_SUSPEND, A.REQUEST_EXTEND}
    | {A.PART_DONE, A.CLOSE, A.ARCHIVE}  # closing only where the closing path (data/handling.yaml) says so
)
ACTIONS: dict[Role, frozenset[Action]] = {
    R.HOTLINE: frozenset({A.CALLBACK, A.MERGE}),  # a repeated call is merged into the case it repeats
    R.GRID_WORKER: frozenset({A.VERIFY, A.REJECT, A.ESCALATE}),
    R.DISPATCHER: COMMAND_CENTER_ACTIONS,
    # the shift leader approves (挂账/延期 are requests from the departments) and closes
    R.SHIFT_LEADER: COMMAND_CENTER_ACTIONS
    | {A.SUSPEND, A.RESUME, A.EXTEND, A.REFUSE, A.CLOSE, A.ARCHIVE, A.VOID, A.SUPERVISE},
    R.DEPT_HANDLER: HANDLER_ACTIONS,
    R.DEPT_HEAD: HANDLER_ACTIONS,
    R.ENFORCEMENT: frozenset(
        {A.CLAIM, A.RETURN, A.HANDLE, A.ESCALATE, A.REQUEST_SUSPEND, A.REQUEST_EXTEND, A.PART_DONE}
    ),
    R.LEADER: frozenset({A.SUPERVISE}),
    R.ADMIN: frozenset(),
    R.AUDITOR: frozenset(),
}


def scope_clause(principal: Principal) -> ColumnElement[bool]:
    """The SQL condition selecting exactly the incidents this caller may see."""
    if principal.role not in CASE_READERS:
        return false()
    parts = []
    if principal.region_code:
        code = principal.region_code
        parts.append(
            or_(
                Incident.grid_district == code,
                Incident.grid_street == code,
                Incident.grid_community == code,
                Incident.grid_unit == code,
            )
        )
    if principal.department_code:
        parts.append(Incident.department_code == principal.department_code)
        parts.append(Incident.partners.any(CasePartner.department_code == principal.department_code))
    if principal.role in TRIAGE_ROLES:
        parts.append(Incident.grid_district.is_(None) & Incident.department_code.is_(None))
    if not parts:
        return false()
    return or_(*parts) if len(parts) > 1 else parts[0]


def in_grid(principal: Principal, incident: Incident) -> bool:
    """The incident lies in the caller's region (their grid at any level)."""
    path = {incident.grid_district, incident.grid_street, incident.grid_community, incident.grid_unit} - {None}
    return principal.region_code is not None and principal.region_code in path


def can_see(principal: Principal, incident: Incident) -> bool:
    """The same rule as `scope_clause`, for one loaded incident."""
    if principal.role not in CASE_READERS:
        return False
    in_department = principal.department_code is not None and (
        principal.department_code == incident.department_code or is_partner(principal, incident)
    )
    path = (incident.grid_district, incident.grid_street, incident.grid_community, incident.grid_unit)
    unplaced = (
        all(code is None for code in path) and incident.department_code is None and principal.role in TRIAGE_ROLES
    )
    return in_grid(principal, incident) or in_department or unplaced


# Who acts on what: the command center on every case it sees (its region, and unplaced reports in triage), grid
# workers in their own grid, departments only on what is dispatched to them. Seeing a case (a department's
# region scope, a street an officer patrols) never lets a department-side account act on it.
DEPARTMENT_ROLES = frozenset({R.DEPT_HANDLER, R.DEPT_HEAD, R.ENFORCEMENT})
GRID_ROLES = frozenset({R.GRID_WORKER})
CLAIM_EXCLUSIVE = frozenset({R.DEPT_HANDLER, R.ENFORCEMENT})  # a head may still act on (transfer) a colleague's case


def is_partner(principal: Principal, incident: Incident) -> bool:
    """The caller's department is a partner (会办/协办) of this joint case."""
    return principal.department_code is not None and any(
        p.department_code == principal.department_code for p in incident.partners
    )


def dispatched_to(principal: Principal, incident: Incident) -> bool:
    """The incident is dispatched to the caller's department, or assigned to the caller by name."""
    in_department = principal.department_code is not None and principal.department_code == incident.department_code
    return in_department or (incident.assignee is not None and incident.assignee == principal.username)


def refusal(principal: Principal, action: Action, incident: Incident) -> str | None:
    """Why the caller may not take `action` on this incident (naming user and incident), or None if they may.

    The one rule behind `may_act` and `check_action`; the status still decides whether the action applies."""
    who = f"user {principal.username}"
    if action not in ACTIONS[principal.role]:
        return f"role '{principal.role}' may not '{action}' incidents ({who})"
    if not can_see(principal, incident):
        return f"incident {incident.id} is outside the scope of {who}"
    if action is A.PART_DONE:
        if not is_partner(principal, incident):
            return (
                f"incident {incident.id}: department {principal.department_code or '(none)'} of {who} is not a partner"
            )
        return None
    if principal.role in DEPARTMENT_ROLES and not dispatched_to(principal, incident):
        assigned = f" and assigned to {incident.assignee}" if incident.assignee else ""
        return (
            f"incident {incident.id} is dispatched to department {incident.department_code or '(none)'}{assigned}, "
            f"not to department {principal.department_code or '(none)'} of {who}: seeing a case does not let you "
            f"'{action}' it"
        )
    if principal.role in CLAIM_EXCLUSIVE and incident.assignee not in (None, principal.username):
        return f"incident {incident.id} is claimed by {incident.assignee}, not by {who}: a claim is exclusive"
    if principal.role in GRID_ROLES and not in_grid(principal, incident):
        return f"incident {incident.id} is not in grid {principal.region_code or '(none)'} of {who}"
    if (
        action in {A.VERIFY, A.REJECT}
        and principal.role in GRID_ROLES
        and incident.verifier not in (None, principal.username)
    ):
        return f"incident {incident.id}: verification is dispatched to {incident.verifier}, not to {who}"
    return None


def may_act(principal: Principal, action: Action, incident: Incident) -> bool:
    """Whether the caller may take `action` on this incident (for offering buttons; acting goes through check_action)."""
    return refusal(principal, action, incident) is None


def check_action(principal: Principal, action: Action, incident: Incident) -> None:
    """Forbidden, naming why, unless the caller may take `action` on this incident: every path that acts calls this."""
    if (reason := refusal(principal, action, incident)) is not None:
        raise Forbidden(reason)


def rooms(principal: Principal) -> list[str]:
    """The Socket.IO rooms this caller may join (computed here, never taken from the client)."""
    if principal.role not in CASE_READERS:
        return []
    joined = []
    if principal.region_code:
        joined.append(grid_room(principal.region_code))
    if principal.department_code:
        joined.append(department_room(principal.department_code))
    if principal.role in TRIAGE_ROLES:
        joined.append(TRIAGE)
    joined.append(user_room(principal.username))  # their own notifications (dispatcher.notify)
    return joined


def can_see_officer(principal: Principal, officer_department: str | None, officer_path: list[str]) -> bool:
    """Officers' positions are personal data: visible inside one's region or department only."""
    if principal.role not in CASE_READERS:
        return False
    in_region = principal.region_code is not None and principal.region_code in officer_path
    return in_region or (principal.department_code is not None and principal.department_code == officer_department)


def can_see_event(principal: Principal, event_rooms: list[str]) -> bool:
    """Whether an outbox event (by the rooms of its scope) concerns this caller."""
    return bool(set(rooms(principal)) & set(event_rooms))
