"""Evidence added to an existing case (handling, return, verification, callback): who may add it, and its timeline row.

The files themselves are checked, hashed and stored by the web layer exactly as at intake (dashboard/api/uploads.py);
this module decides whether the caller may add them and records the step on the incident, so the unit of work
writes the outbox row and the audit record in the same transaction as the media rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role
from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.cases.lifecycle import Status
from dispatcher.cases.scope import DEPARTMENT_ROLES, GRID_ROLES, can_see, dispatched_to, in_grid, is_partner
from dispatcher.errors import Conflict, Forbidden, Invalid

ACTION = "evidence"  # the timeline action of an evidence step (status-preserving)


class EvidenceStage(StrEnum):
    """The step of the case a file is evidence of (`media.stage`)."""

    INTAKE = "intake"  # sent with the report
    HANDLE = "handle"  # 处置: the department's fix
    RETURN = "return"  # 回退: why the department sends it back
    VERIFY = "verify"  # 核查: the grid worker's or the center's check
    CALLBACK = "callback"  # 回访: the reporter's call back


ADDABLE = frozenset({EvidenceStage.HANDLE, EvidenceStage.RETURN, EvidenceStage.VERIFY, EvidenceStage.CALLBACK})
FINISHED = frozenset({Status.CLOSED, Status.ARCHIVED, Status.VOIDED})
CENTER_ROLES = frozenset({Role.DISPATCHER, Role.SHIFT_LEADER, Role.HOTLINE})  # add to any case they see
NEVER = frozenset({Role.LEADER, Role.ADMIN, Role.AUDITOR})  # read only, or no case access at all


def may_add_evidence(principal: Principal, incident: Incident) -> str | None:
    """Why the caller may not add evidence to this incident (naming user and incident), or None if they may.

    The status is not judged here (see `check_open`): a finished case is a conflict, not a permission."""
    who = f"user {principal.username}"
    if principal.role in NEVER:
        return f"role '{principal.role}' may not add evidence to incidents ({who}, incident {incident.id})"
    if not can_see(principal, incident):
        return f"incident {incident.id} is outside the scope of {who}"
    if principal.role in DEPARTMENT_ROLES and not (
        dispatched_to(principal, incident) or is_partner(principal, incident)
    ):
        return (
            f"incident {incident.id} is dispatched to department {incident.department_code or '(none)'}, not to "
            f"department {principal.department_code or '(none)'} of {who}: only those handling it add evidence"
        )
    if principal.role in GRID_ROLES and not in_grid(principal, incident):
        return f"incident {incident.id} is not in grid {principal.region_code or '(none)'} of {who}"
    if principal.role in DEPARTMENT_ROLES | GRID_ROLES | CENTER_ROLES:
        return None
    return f"role '{principal.role}' may not add evidence to incidents ({who}, incident {incident.id})"


def check_evidence(principal: Principal, incident: Incident) -> None:
    """Forbidden naming why unless the caller may add evidence; Conflict when the case is finished."""
    if (reason := may_add_evidence(principal, incident)) is not None:
        raise Forbidden(reason)
    check_open(incident)


def check_open(incident: Incident) -> None:
    """Conflict (409) naming the incident and its status when it is closed, archived or voided."""
    if incident.state in FINISHED:
        raise Conflict(f"incident {incident.id} is {incident.status}: evidence can no longer be added", field="id")


def evidence_stage(value: str | None) -> EvidenceStage:
    """The stage a caller named (Invalid naming the field `stage` unless it is one evidence may be added at)."""
    allowed = ", ".join(sorted(ADDABLE))
    if not value:
        raise Invalid(f"field 'stage' is required: one of {allowed}", field="stage")
    try:
        stage = EvidenceStage(value)
    except ValueError:
        stage = None
    if stage not in ADDABLE:
        raise Invalid(f"unknown evidence stage {value!r}; one of {allowed}", field="stage")
    return EvidenceStage(value)


def record_evidence(
    incident: Incident,
    media: Sequence[dict[str, Any]],
    *,
    stage: str,
    actor: str,
    now: datetime,
    note: str | None = None,
) -> TimelineEntry:
    """Append the status-preserving timeline row of an evidence step (`media`: dicts with at least id and sha256)."""
    check_open(incident)
    step = evidence_stage(stage)
    if not media:
        raise Invalid(f"evidence for incident {incident.id} needs at least one file", field="media")
    entry = incident.record(
        action=ACTION,
        actor=actor,
        now=now,
        to=incident.state,
        note=note,
        data={"stage": str(step), "media": [m["id"] for m in media], "sha256": [m["sha256"] for m in media]},
    )
    flag_modified(incident, "updated_at")  # the case changed: its version moves even if no column did
    return entry
