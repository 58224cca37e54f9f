"""The ledger (台账): one entry per archived case — process, result, archiver and time — written when it is archived."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.errors import Conflict
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

SATISFIED, UNSATISFIED, NOT_REACHED = "satisfied", "unsatisfied", "not_reached"


class LedgerEntry(Base):
    """The ledger entry (台账) of one archived incident: a copy of its facts at archiving, never changed after."""

    __tablename__ = "ledger_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="RESTRICT"), unique=True)
    case_number: Mapped[str | None] = mapped_column(String(20))  # 案件编号 as people know it (None before numbers)
    category_code: Mapped[str | None] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(16))
    grid_street: Mapped[str | None] = mapped_column(String(32))
    grid_community: Mapped[str | None] = mapped_column(String(32))
    grid_unit: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))
    address: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    archiver: Mapped[str] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text)
    satisfaction: Mapped[str | None] = mapped_column(String(16))
    return_count: Mapped[int] = mapped_column(Integer)
    rework_count: Mapped[int] = mapped_column(Integer)
    escalation_count: Mapped[int] = mapped_column(Integer)
    process: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    duration_hours: Mapped[float | None] = mapped_column(Float)

    __table_args__ = (
        Index("ix_ledger_entry_archived_at", "archived_at"),
        Index("ix_ledger_entry_department_code", "department_code"),
    )


def _last(timeline: list[TimelineEntry], action: str) -> TimelineEntry | None:
    return next((e for e in reversed(timeline) if e.action == action), None)


def satisfaction(timeline: list[TimelineEntry]) -> str | None:
    """The outcome of the last callback (回访) on the timeline: satisfied, unsatisfied, not_reached, or None."""
    callback = _last(timeline, "callback")
    if callback is None:
        return None
    data = callback.data or {}
    if data.get("reached") is False:
        return NOT_REACHED
    if "satisfied" not in data:
        return None
    return SATISFIED if data["satisfied"] else UNSATISFIED


def process(timeline: list[TimelineEntry]) -> list[dict[str, Any]]:
    """The steps of the case, in order: sequence number, time, actor, action, from and to status."""
    return [
        {
            "seq": e.seq,
            "at": e.at.isoformat(),
            "actor": e.actor,
            "action": e.action,
            "from": e.from_status,
            "to": e.to_status,
        }
        for e in sorted(timeline, key=lambda e: e.seq)
    ]


def duration_hours(created_at: datetime, closed_at: datetime | None) -> float | None:
    """Calendar hours from report to closing, to two decimals (None while not closed)."""
    if closed_at is None:
        return None
    return round((closed_at - created_at).total_seconds() / 3600, 2)


def write_entry(session: Session, incident: Incident, *, archiver: str, now: datetime) -> LedgerEntry:
    """Add the ledger entry of an incident being archived; Conflict naming the incident if it already has one."""
    taken = session.scalar(select(LedgerEntry.id).where(LedgerEntry.incident_id == incident.id))
    if taken is not None:
        raise Conflict(f"incident {incident.id} already has a ledger entry (台账)", field="id")
    handled = _last(incident.timeline, "handle")
    entry = LedgerEntry(
        incident_id=incident.id,
        case_number=incident.case_number,
        category_code=incident.category_code,
        department_code=incident.department_code,
        level=incident.level,
        grid_street=incident.grid_street,
        grid_community=incident.grid_community,
        grid_unit=incident.grid_unit,
        channel=incident.channel,
        address=incident.address,
        created_at=incident.created_at,
        closed_at=incident.closed_at,
        archived_at=now,
        archiver=archiver,
        result=handled.note if handled else None,
        satisfaction=satisfaction(incident.timeline),
        return_count=incident.return_count or 0,
        rework_count=incident.rework_count or 0,
        escalation_count=incident.escalation_count or 0,
        process=process(incident.timeline),
        duration_hours=duration_hours(incident.created_at, incident.closed_at),
    )
    session.add(entry)
    return entry
