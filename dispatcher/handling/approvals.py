"""Approvals (审批): suspension (挂账) and extension (延期) are requests a shift leader approves or refuses."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.cases.lifecycle import Action, Status
from dispatcher.errors import Conflict, NotFound
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime


class Kind(StrEnum):
    SUSPEND = "suspend"
    EXTEND = "extend"


class Decision(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    LAPSED = "lapsed"  # the case left the handler before anyone decided


WHILE_HANDLING = frozenset({Status.CLAIMED, Status.SUSPENDED})  # where a request can still be decided


REQUESTS = {Action.REQUEST_SUSPEND: Kind.SUSPEND, Action.REQUEST_EXTEND: Kind.EXTEND}
APPROVALS = {Action.SUSPEND: Kind.SUSPEND, Action.EXTEND: Kind.EXTEND}


class Approval(Base):
    """One request for a pause or a later deadline, and its decision."""

    __tablename__ = "approval"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    requested_by: Mapped[str] = mapped_column(String(64))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(Text)

    def as_dict(self) -> dict[str, Any]:
        iso = lambda t: t.isoformat() if t else None
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "kind": self.kind,
            "status": self.status,
            "requested_by": self.requested_by,
            "requested_at": iso(self.requested_at),
            "reason": self.reason,
            "until": iso(self.until),
            "decided_by": self.decided_by,
            "decided_at": iso(self.decided_at),
            "decision_note": self.decision_note,
        }


def pending(session: Session, incident_id: str, kind: Kind | None = None) -> list[Approval]:
    """The undecided requests of a case (of one kind), oldest first."""
    query = select(Approval).where(Approval.incident_id == incident_id, Approval.status == Decision.PENDING)
    if kind is not None:
        query = query.where(Approval.kind == kind)
    return list(session.scalars(query.order_by(Approval.id)))


def request(
    session: Session, incident_id: str, kind: Kind, *, by: str, reason: str, until: datetime | None, now: datetime
) -> Approval:
    """Record a request; Conflict naming the open one when the case already waits for the same decision."""
    if waiting := pending(session, incident_id, kind):
        raise Conflict(f"incident {incident_id} already has {kind} request {waiting[0].id} waiting for a decision")
    row = Approval(
        incident_id=incident_id,
        kind=str(kind),
        status=str(Decision.PENDING),
        requested_by=by,
        requested_at=now,
        reason=reason,
        until=until,
    )
    session.add(row)
    return row


def to_decide(session: Session, incident_id: str, kind: Kind | None, request_id: int | None) -> Approval | None:
    """The request a decision is about: the one named, else the open one of that kind (None: a leader's own call)."""
    if request_id is None:
        waiting = pending(session, incident_id, kind)
        return waiting[0] if waiting else None
    row = session.get(Approval, request_id)
    if row is None or row.incident_id != incident_id:
        raise NotFound(f"approval request {request_id} of incident {incident_id} does not exist", field="request_id")
    if row.status != Decision.PENDING:
        raise Conflict(f"approval request {request_id} of incident {incident_id} is already {row.status}")
    if kind is not None and row.kind != kind:
        raise Conflict(f"approval request {request_id} of incident {incident_id} asks to {row.kind}, not to {kind}")
    return row


def decide(row: Approval, decision: Decision, *, by: str, note: str | None, now: datetime) -> None:
    row.status, row.decided_by, row.decided_at, row.decision_note = str(decision), by, now, note


def lapse(session: Session, incident_id: str, *, by: str, now: datetime) -> int:
    """Close the undecided requests of a case that has left its handler; how many."""
    rows = pending(session, incident_id)
    for row in rows:
        decide(row, Decision.LAPSED, by=by, note="the case left the handler before a decision", now=now)
    return len(rows)
