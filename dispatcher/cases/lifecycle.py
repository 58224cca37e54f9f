"""The case lifecycle (GB/T 30428 stages): statuses, actions, the one transition table, and the milestones the
actions reach.

Milestones (issue 14) are kept on the case row, set by the transition that reaches them, in its transaction: the
indicator engine counts over these columns of `incident` alone. Each is reached in one place, `reach`, which
`Incident.record` calls before the status moves. A stage's deadline is read as it stood when the stage was left:
`clocks.start_stage` keeps the left stage and its deadline in `incident.stage_left` for the action being recorded
(the handlers start the next stage before the timeline row is written). A NULL *_due_at means "no limit known" (the
stage had none, or the row predates migration 0017): on time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from dispatcher.city.catalogue import Stage
from dispatcher.errors import Conflict


class Status(StrEnum):
    """Where an incident is in its lifecycle."""

    REPORTED = "reported"  # 受理
    TRIAGE = "triage"  # 待甄别: the engine could not place it
    FILED = "filed"  # 立案
    DISPATCHED = "dispatched"  # 派遣
    CLAIMED = "claimed"  # 签收 / 办理
    SUSPENDED = "suspended"  # 挂账 (clock stopped)
    RETURNED = "returned"  # 回退 by the department
    ESCALATED = "escalated"  # 上报 one level up
    HANDLED = "handled"  # 反馈
    REWORK = "rework"  # 返工
    VERIFIED = "verified"  # 核查通过
    CLOSED = "closed"  # 结案
    ARCHIVED = "archived"  # 归档
    VOIDED = "voided"  # 作废
    MERGED = "merged"  # 合并: a duplicate report folded into another case (its parent); can be un-merged


class Action(StrEnum):
    """What a person (or the engine) does to an incident."""

    TRIAGE = "triage"
    FILE = "file"
    DISPATCH = "dispatch"
    CLAIM = "claim"
    TRANSFER = "transfer"  # 批转 to another handler
    RETURN = "return"
    ESCALATE = "escalate"
    SUSPEND = "suspend"
    RESUME = "resume"
    EXTEND = "extend"  # 延期: approved new deadline
    HANDLE = "handle"  # feedback with result
    VERIFY = "verify"  # 核查通过
    REJECT = "reject"  # 核查不通过 -> rework
    CLOSE = "close"
    ARCHIVE = "archive"
    VOID = "void"
    MERGE = "merge"  # fold a duplicate report into an open case (parent_id)
    UNMERGE = "unmerge"  # split it off again, back to reported
    REVOKE = "revoke"  # 撤销: take back a dispatch nobody has claimed
    UPHOLD = "uphold"  # 审定维持: a return is refused, the case goes back to the same department, clock kept
    REQUEST_SUSPEND = "request_suspend"  # 申请挂账: the handler asks; SUSPEND is the shift leader's approval
    REQUEST_EXTEND = "request_extend"  # 申请延期: the handler asks; EXTEND is the shift leader's approval
    REFUSE = "refuse"  # 不予批准: the shift leader refuses a pending request, with a reason
    PART_DONE = "part_done"  # 协办反馈: a partner department's part of a joint case is done
    ASSIGN_VERIFIER = "assign_verifier"  # 核查派遣: name the grid worker who verifies
    CALLBACK = "callback"  # 回访: reached or not, satisfied or not (unsatisfied → REJECT → rework)
    SUPERVISE = "supervise"  # 督办: a leader's flag on a case; the status does not change


S, A = Status, Action

TRANSITIONS: dict[tuple[Status, Action], Status] = {
    (S.REPORTED, A.FILE): S.FILED,
    (S.REPORTED, A.TRIAGE): S.TRIAGE,
    (S.REPORTED, A.VOID): S.VOIDED,
    (S.TRIAGE, A.FILE): S.FILED,
    (S.TRIAGE, A.VOID): S.VOIDED,
    (S.FILED, A.DISPATCH): S.DISPATCHED,
    (S.FILED, A.ESCALATE): S.ESCALATED,
    (S.FILED, A.VOID): S.VOIDED,
    (S.ESCALATED, A.DISPATCH): S.DISPATCHED,
    (S.ESCALATED, A.ESCALATE): S.ESCALATED,
    (S.ESCALATED, A.VOID): S.VOIDED,
    (S.DISPATCHED, A.CLAIM): S.CLAIMED,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.DISPATCHED, A.ESCALATE): S.ESCALATED,
    (S.DISPATCHED, A.DISPATCH): S.DISPATCHED,  # re-dispatch before anyone claimed it
    (S.RETURNED, A.DISPATCH): S.DISPATCHED,
    (S.RETURNED, A.ESCALATE): S.ESCALATED,
    (S.RETURNED, A.VOID): S.VOIDED,
    (S.CLAIMED, A.HANDLE): S.HANDLED,
    (S.CLAIMED, A.TRANSFER): S.CLAIMED,
    (S.CLAIMED, A.RETURN): S.RETURNED,
    (S.CLAIMED, A.SUSPEND): S.SUSPENDED,
    (S.CLAIMED, A.EXTEND): S.CLAIMED,
    (S.CLAIMED, A.ESCALATE): S.ESCALATED,
    (S.SUSPENDED, A.RESUME): S.CLAIMED,
    (S.HANDLED, A.VERIFY): S.VERIFIED,
    (S.HANDLED, A.REJECT): S.REWORK,
    (S.REWORK, A.CLAIM): S.CLAIMED,
    (S.REWORK, A.RETURN): S.RETURNED,
    (S.VERIFIED, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.ARCHIVE): S.ARCHIVED,
    (S.REPORTED, A.MERGE): S.MERGED,
    (S.TRIAGE, A.MERGE): S.MERGED,
    (S.FILED, A.MERGE): S.MERGED,
    (S.MERGED, A.UNMERGE): S.REPORTED,
    # after dispatch (issue 10)
    (S.DISPATCHED, A.REVOKE): S.FILED,
    (S.RETURNED, A.UPHOLD): S.DISPATCHED,
    (S.CLAIMED, A.REQUEST_SUSPEND): S.CLAIMED,
    (S.CLAIMED, A.REQUEST_EXTEND): S.CLAIMED,
    (S.CLAIMED, A.REFUSE): S.CLAIMED,
    (S.DISPATCHED, A.PART_DONE): S.DISPATCHED,
    (S.CLAIMED, A.PART_DONE): S.CLAIMED,
    (S.REWORK, A.ESCALATE): S.ESCALATED,
    (S.HANDLED, A.ASSIGN_VERIFIER): S.HANDLED,
    (S.VERIFIED, A.CALLBACK): S.VERIFIED,
    (S.VERIFIED, A.REJECT): S.REWORK,  # the caller is not satisfied: 返工
}
# 督办 may be flagged on any open case, by hand or by the timers; the status stays.
TRANSITIONS.update(
    {(status, A.SUPERVISE): status for status in frozenset(Status) - {S.CLOSED, S.ARCHIVED, S.VOIDED, S.MERGED}}
)

# Finished: out of every queue and clock. MERGED is finished (its parent carries the case) but not terminal.
OPEN_STATUSES = frozenset(Status) - {S.CLOSED, S.ARCHIVED, S.VOIDED, S.MERGED}
TERMINAL_STATUSES = frozenset({S.ARCHIVED, S.VOIDED})


class IllegalTransition(Conflict):
    """An action that the lifecycle does not allow from the incident's current status."""

    code = "illegal_transition"

    def __init__(self, incident_id: str, status: Status, action: Action):
        allowed = ", ".join(sorted(allowed_actions(status))) or "none"
        super().__init__(
            f"incident {incident_id}: action '{action}' is not allowed in status '{status}' (allowed: {allowed})"
        )
        self.incident_id, self.current, self.action = incident_id, status, action


def allowed_actions(status: Status) -> set[Action]:
    """The actions the table allows from a status."""
    return {action for (source, action) in TRANSITIONS if source == status}


def next_status(incident_id: str, status: Status, action: Action) -> Status:
    """The status an action leads to, or IllegalTransition."""
    try:
        return TRANSITIONS[(status, action)]
    except KeyError:
        raise IllegalTransition(incident_id, status, action) from None


class Milestoned(Protocol):
    """What the milestones read and write of `dispatcher.cases.incident.Incident` (which imports this module)."""

    stage: str | None
    stage_deadline: datetime | None
    stage_left: tuple[str | None, datetime | None] | None
    reported_by: str | None
    filed_at: datetime | None
    filed_by: str | None
    file_due_at: datetime | None
    dispatched_at: datetime | None
    dispatched_by: str | None
    dispatch_due_at: datetime | None
    handled_at: datetime | None
    handle_due_at: datetime | None
    verified_at: datetime | None
    verify_due_at: datetime | None
    extension_count: int

    @property
    def timeline(self) -> Sequence[object]: ...


def due(incident: Milestoned, stage: Stage) -> datetime | None:
    """The deadline of `stage` in force now: as it stood when this action left it, else the running one."""
    left = incident.stage_left
    if left is not None and left[0] == stage:
        return left[1]
    return incident.stage_deadline if incident.stage == stage else None


def reach(incident: Milestoned, action: str, actor: str, now: datetime) -> None:
    """Set the milestones that `action` by `actor` at `now` reaches (call before the timeline row is appended)."""
    if not incident.timeline:
        incident.reported_by = actor
    if action == Action.FILE:  # the last filing counts (filed again after an unmerge)
        incident.filed_at, incident.filed_by, incident.file_due_at = now, actor, due(incident, Stage.FILE)
    elif action == Action.DISPATCH and incident.dispatched_at is None:  # the first dispatch counts
        incident.dispatched_at, incident.dispatched_by = now, actor
        incident.dispatch_due_at = due(incident, Stage.DISPATCH)
    elif action == Action.HANDLE:  # the last feedback counts (after rework)
        incident.handled_at, incident.handle_due_at = now, due(incident, Stage.HANDLE)
    elif action == Action.VERIFY:
        incident.verified_at, incident.verify_due_at = now, due(incident, Stage.VERIFY)
    elif action == Action.EXTEND:
        incident.extension_count = (incident.extension_count or 0) + 1
    incident.stage_left = None


def milestones_dict(incident: Milestoned) -> dict[str, Any]:
    """The milestones as the API shows them (ISO strings)."""
    iso = lambda t: t.isoformat() if t else None
    return {
        "reported_by": incident.reported_by,
        "filed_at": iso(incident.filed_at),
        "filed_by": incident.filed_by,
        "file_due_at": iso(incident.file_due_at),
        "dispatched_at": iso(incident.dispatched_at),
        "dispatched_by": incident.dispatched_by,
        "dispatch_due_at": iso(incident.dispatch_due_at),
        "handled_at": iso(incident.handled_at),
        "handle_due_at": iso(incident.handle_due_at),
        "verified_at": iso(incident.verified_at),
        "verify_due_at": iso(incident.verify_due_at),
        "extension_count": incident.extension_count or 0,
    }
