"""Who may see and do what, decided in one place: the role's permissions and the account's scope."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, or_

from dispatcher.access.accounts import Principal
from dispatcher.access.roles import CASE_READERS, TRIAGE_ROLES, Role
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.rooms import TRIAGE, department_room, grid_room
from dispatcher.errors import Forbidden

R, A = Role, Action


# Lifecycle actions per role (one table; the transition table still decides what the status allows).
ACTIONS: dict[Role, frozenset[Action]] = {
    R.HOTLINE: frozenset(),
    R.GRID_WORKER: frozenset({A.VERIFY, A.REJECT}),
    R.DISPATCHER: frozenset({A.TRIAGE, A.FILE, A.DISPATCH, A.ESCALATE, A.VERIFY, A.REJECT, A.MERGE, A.UNMERGE}),
    R.SHIFT_LEADER: frozenset(
        {
            A.TRIAGE,
            A.FILE,
            A.DISPATCH,
            A.ESCALATE,
            A.VERIFY,
            A.REJECT,
            A.SUSPEND,
            A.RESUME,
            A.EXTEND,
            A.CLOSE,
            A.ARCHIVE,
            A.VOID,
            A.MERGE,
            A.UNMERGE,
        }
    ),
    R.DEPT_HANDLER: frozenset({A.CLAIM, A.TRANSFER, A.RETURN, A.HANDLE, A.SUSPEND, A.RESUME}),
    R.DEPT_HEAD: frozenset({A.CLAIM, A.TRANSFER, A.RETURN, A.HANDLE, A.SUSPEND, A.RESUME, A.EXTEND, A.ESCALATE}),
    R.ENFORCEMENT: frozenset({A.CLAIM, A.RETURN, A.HANDLE}),
    R.LEADER: frozenset(),
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
    if principal.role in TRIAGE_ROLES:
        parts.append(Incident.grid_district.is_(None) & Incident.department_code.is_(None))
    if not parts:
        return false()
    return or_(*parts) if len(parts) > 1 else parts[0]


def can_see(principal: Principal, incident: Incident) -> bool:
    """The same rule as `scope_clause`, for one loaded incident."""
    if principal.role not in CASE_READERS:
        return False
    path = {incident.grid_district, incident.grid_street, incident.grid_community, incident.grid_unit} - {None}
    in_region = principal.region_code is not None and principal.region_code in path
    in_department = principal.department_code is not None and principal.department_code == incident.department_code
    unplaced = not path and incident.department_code is None and principal.role in TRIAGE_ROLES
    return in_region or in_department or unplaced


def check_action(principal: Principal, action: Action, incident: Incident) -> None:
    """Forbidden unless the role may take `action` and the incident is in scope."""
    if action not in ACTIONS[principal.role]:
        raise Forbidden(f"role '{principal.role}' may not '{action}' incidents (user {principal.username})")
    if not can_see(principal, incident):
        raise Forbidden(f"incident {incident.id} is outside the scope of user {principal.username}")


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
