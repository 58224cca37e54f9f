"""The incident aggregate: its row, its timeline, and the domain methods that move it through the lifecycle."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, reconstructor, relationship

from dispatcher.cases.lifecycle import Action, Status, milestones_dict, next_status, reach
from dispatcher.cases.rooms import TRIAGE, department_room, grid_room
from dispatcher.store.base import Base
from dispatcher.store.columns import EncryptedText, Geometry, UTCDateTime


class Channel(StrEnum):
    """Where a report came from (DOMAIN.md intake channels)."""

    GRID_WORKER = "grid_worker"
    HOTLINE = "hotline"
    PUBLIC = "public"
    OPEN311 = "open311"
    VIDEO = "video"
    SENSOR = "sensor"
    LEADER = "leader"
    API = "api"


class CallNature(StrEnum):
    """What a hotline call was (GB/T 33358): the call-taker records it; it decides who is called back."""

    CONSULTATION = "consultation"  # 咨询: answered on the call
    CALLBACK = "callback"  # 需回访
    NO_CALLBACK = "no_callback"  # 无需回访
    HARASSMENT = "harassment"  # 骚扰电话


@dataclass
class DomainEvent:
    """Something that happened to an incident, written to the outbox in the same transaction."""

    name: str
    incident_id: str
    data: dict[str, Any] = field(default_factory=dict)


class TimelineEntry(Base):
    """One step in an incident's history: who did what, when, from which status to which."""

    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (UniqueConstraint("incident_id", "seq", name="uq_timeline_incident_seq"),)

    def as_dict(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "from_status": self.from_status,
            "to_status": self.to_status,
            "note": self.note,
            "data": self.data or {},
        }


class CasePartner(Base):
    """A partner department of a joint case (会办/协办): its part must be done before the lead feeds back."""

    __tablename__ = "case_partner"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(String(32), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))
    result: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("incident_id", "department_code", name="uq_case_partner_department"),)

    def as_dict(self) -> dict[str, Any]:
        return {
            "department_code": self.department_code,
            "done_at": self.done_at.isoformat() if self.done_at else None,
            "done_by": self.done_by,
            "result": self.result,
        }


class Incident(Base):
    """A reported problem (案卷) and where it stands: location, routing, status, clocks."""

    __tablename__ = "incident"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    # 案件编号 YYYY-MMDD-NNNN per district and local day (dispatcher/intake/numbers.py); None on rows from before it
    case_number: Mapped[str | None] = mapped_column(String(20), unique=True, index=True)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    channel: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    category_code: Mapped[str | None] = mapped_column(String(16), index=True)
    description: Mapped[str] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(String(255))
    reporter_name: Mapped[str | None] = mapped_column(EncryptedText)  # personal data: encrypted at rest
    reporter_phone: Mapped[str | None] = mapped_column(EncryptedText)
    # HMAC of the normalised number (dispatcher/intake/callers.py): find a caller's history without decrypting
    reporter_phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    call_nature: Mapped[str | None] = mapped_column(String(16))
    callback_name: Mapped[str | None] = mapped_column(EncryptedText)  # who to call back, if not the caller
    callback_phone: Mapped[str | None] = mapped_column(EncryptedText)
    # Duplicate merge (dispatcher/intake/duplicates.py): a merged report points at the case that carries it
    parent_id: Mapped[str | None] = mapped_column(ForeignKey("incident.id"), index=True)
    merged_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    external_id: Mapped[str | None] = mapped_column(String(64))
    urgency: Mapped[int] = mapped_column(Integer, default=1)
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    location = mapped_column(Geometry("POINT"), nullable=True)
    # Where the engine placed it and why (recorded, never recomputed)
    grid_unit: Mapped[str | None] = mapped_column(String(32), index=True)
    grid_community: Mapped[str | None] = mapped_column(String(32), index=True)
    grid_street: Mapped[str | None] = mapped_column(String(32), index=True)
    grid_district: Mapped[str | None] = mapped_column(String(32))
    grid_version: Mapped[str | None] = mapped_column(String(32))
    level: Mapped[str | None] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(32), index=True)
    assignee: Mapped[str | None] = mapped_column(String(64))
    routing_rule: Mapped[str | None] = mapped_column(String(128))
    routing_reason: Mapped[str | None] = mapped_column(Text)
    triage_reason: Mapped[str | None] = mapped_column(String(32))
    triage_detail: Mapped[str | None] = mapped_column(Text)
    # Clocks
    stage: Mapped[str | None] = mapped_column(String(16))
    stage_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stage_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_flagged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    escalation_count: Mapped[int] = mapped_column(Integer, default=0)
    # After dispatch (issue 10): the overall limit, verification, callback, supervision, timers' warnings
    total_deadline: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # 总时限, moved by approved pauses
    verifier: Mapped[str | None] = mapped_column(String(64))  # the grid worker who verifies (核查)
    callback_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    callback_reason: Mapped[str | None] = mapped_column(String(16))  # "caller" | "spot_check"
    callback_outcome: Mapped[str | None] = mapped_column(String(16))  # satisfied | unsatisfied | not_reached
    supervised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 督办
    supervised_by: Mapped[str | None] = mapped_column(String(64))
    warned: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # 0, 1 yellow, 2 red (this stage)
    timer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # when the timers next act
    down_dispatch_street: Mapped[str | None] = mapped_column(String(32))  # 区下派: the street it was sent down to
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    # Milestones (issue 14, dispatcher/cases/lifecycle.py): set with the transition that reaches them, for the
    # indicator engine's set-based counts. A NULL *_due_at means "no limit known" (the stage had none, or the row
    # predates 0017): counted as on time.
    reported_by: Mapped[str | None] = mapped_column(String(64))  # the actor of the first timeline row
    filed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the last 立案
    filed_by: Mapped[str | None] = mapped_column(String(64))
    file_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the FILE stage deadline then
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the first 派遣
    dispatched_by: Mapped[str | None] = mapped_column(String(64))
    dispatch_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)  # the last 反馈
    handle_due_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, index=True
    )  # after pauses and extensions moved it
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last 核查通过
    verify_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    extension_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # approved 延期

    timeline: Mapped[list[TimelineEntry]] = relationship(
        order_by=TimelineEntry.seq, cascade="all, delete-orphan", lazy="selectin"
    )
    partners: Mapped[list[CasePartner]] = relationship(
        order_by=CasePartner.id, cascade="all, delete-orphan", lazy="selectin"
    )

    __mapper_args__ = {"version_id_col": version}
    __table_args__ = (Index("ix_incident_status_deadline", "status", "stage_deadline"),)

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("id", str(uuid.uuid4()))
        kwargs.setdefault("rework_count", 0)
        kwargs.setdefault("return_count", 0)
        kwargs.setdefault("escalation_count", 0)
        kwargs.setdefault("merged_count", 0)
        kwargs.setdefault("urgency", 1)
        kwargs.setdefault("callback_required", False)
        kwargs.setdefault("warned", 0)
        kwargs.setdefault("extension_count", 0)
        kwargs.setdefault("partners", [])  # a new case has none: known empty, never lazily loaded after the flush
        super().__init__(**kwargs)
        self.events: list[DomainEvent] = []
        self.stage_left: tuple[str | None, datetime | None] | None = None  # clocks.start_stage, for milestones

    @reconstructor
    def _on_load(self) -> None:
        self.events = []
        self.stage_left = None

    @property
    def state(self) -> Status:
        return Status(self.status)

    def record(
        self,
        *,
        action: str,
        actor: str,
        now: datetime,
        to: Status,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> TimelineEntry:
        """Append a timeline row and the matching domain event, set the milestone it reaches; the status moves to `to`."""
        reach(self, action, actor, now)
        entry = TimelineEntry(
            seq=len(self.timeline) + 1,
            at=now,
            actor=actor,
            action=action,
            from_status=self.status,
            to_status=str(to),
            note=note,
            data=data or {},
        )
        self.timeline.append(entry)
        self.status = str(to)
        self.updated_at = now
        self.events.append(DomainEvent(f"incident.{action}", self.id, {"entry": entry.as_dict()}))
        return entry

    def transition(
        self, action: Action, *, actor: str, now: datetime, note: str | None = None, data: dict[str, Any] | None = None
    ) -> TimelineEntry:
        """Apply one lifecycle action: check the transition table, then record it."""
        target = next_status(self.id, self.state, action)
        return self.record(action=str(action), actor=actor, now=now, to=target, note=note, data=data)

    def snapshot(self) -> dict[str, Any]:
        """The incident as clients and the API see it."""
        iso = lambda t: t.isoformat() if t else None
        return {
            "id": self.id,
            "case_number": self.case_number,
            "version": self.version,
            "channel": self.channel,
            "status": self.status,
            "category_code": self.category_code,
            "description": self.description,
            "address": self.address,
            "reporter_name": self.reporter_name,
            "reporter_phone": self.reporter_phone,
            "call_nature": self.call_nature,
            "callback_name": self.callback_name,
            "callback_phone": self.callback_phone,
            "external_id": self.external_id,
            "urgency": self.urgency,
            "location": None if self.lon is None else {"lon": self.lon, "lat": self.lat},
            "grid": {
                "unit": self.grid_unit,
                "community": self.grid_community,
                "street": self.grid_street,
                "district": self.grid_district,
                "version": self.grid_version,
            },
            "level": self.level,
            "department_code": self.department_code,
            "assignee": self.assignee,
            "routing": {"rule": self.routing_rule, "reason": self.routing_reason},
            "triage": None
            if self.triage_reason is None
            else {"reason": self.triage_reason, "detail": self.triage_detail},
            "stage": self.stage,
            "stage_started_at": iso(self.stage_started_at),
            "stage_deadline": iso(self.stage_deadline),
            "suspended_at": iso(self.suspended_at),
            "rework_count": self.rework_count,
            "return_count": self.return_count,
            "escalation_count": self.escalation_count,
            "total_deadline": iso(self.total_deadline),
            "verifier": self.verifier,
            "callback": {
                "required": bool(self.callback_required),
                "reason": self.callback_reason,
                "outcome": self.callback_outcome,
            },
            "supervised": None
            if self.supervised_at is None
            else {"at": iso(self.supervised_at), "by": self.supervised_by},
            "partners": [p.as_dict() for p in self.partners],
            "down_dispatch_street": self.down_dispatch_street,
            "timer_due_at": iso(self.timer_due_at),
            "parent_id": self.parent_id,
            "merged_count": self.merged_count or 0,
            "created_at": iso(self.created_at),
            "updated_at": iso(self.updated_at),
            "closed_at": iso(self.closed_at),
            "milestones": milestones_dict(self),
        }

    @property
    def label(self) -> str:
        """What people read: the case number, or the id's first 8 characters on a row from before numbers."""
        return self.case_number or self.id[:8]

    def scope(self) -> list[str]:
        """The rooms an event about this incident belongs to: its grid path and its department."""
        rooms = [grid_room(c) for c in (self.grid_district, self.grid_street, self.grid_community, self.grid_unit) if c]
        if self.department_code:
            rooms.append(department_room(self.department_code))
        rooms += [department_room(p.department_code) for p in self.partners]
        return rooms or [TRIAGE]
