"""The case lifecycle (GB/T 30428 stages): statuses, actions and the one transition table."""

from __future__ import annotations

from enum import StrEnum

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
