"""Machine intake: events detected by AI cameras and IoT sensors become incidents a person confirms.

Every detection lands in triage (a machine is never trusted to file a case): `machine_detected`, or
`low_confidence` below its type's threshold, or the routing engine's own reason (an unknown type has no
category → `unknown_category`; a point outside every grid → `outside_grid`).

Deduplication per source and place: a detection of the same `source_id` + `event_type` within the type's
radius of the first detection of an OPEN incident created from that source, and within the type's window of
that incident's previous detection (a sliding window), is the same problem: no new incident, a
`detected_again` row on that incident's timeline and one more hit on its `machine_event` row.

Concurrency: every event first upserts its (source_id, event_type) row of `machine_source` (INSERT ... ON
CONFLICT DO UPDATE). On PostgreSQL that takes the row lock until commit, on SQLite the transaction already
holds the database's write lock (BEGIN IMMEDIATE); either way the database serialises the "look for an open
incident, else create one" decision of two identical events, so they can never create two incidents.
A batch takes its locks in (source_id, event_type) order before anything else, so two batches cannot deadlock.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    select,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from dispatcher.cases.actions import get_incident
from dispatcher.cases.incident import Channel, Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.loader import City
from dispatcher.city.routing import TriageReason
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.machine_events import (
    EventTypeRule,
    EventTypes,
    MachineDetection,
    MachineEvent,
    MachineSource,
    snapshot_bytes,
)
from dispatcher.intake.reports import create_machine_incident
from geo.distance import haversine_m

CHANNELS = {"camera": Channel.VIDEO, "sensor": Channel.SENSOR}
KIND_ZH = {"camera": "摄像头", "sensor": "传感器"}


# --- the engine -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What became of one detection."""

    incident_id: str
    duplicate: bool
    hits: int
    triage_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"incident_id": self.incident_id, "duplicate": self.duplicate, "hits": self.hits}
        if not self.duplicate:
            out["triage_reason"] = self.triage_reason
        return out


def receive(
    uow: UnitOfWork, city: City, types: EventTypes, events: list[MachineEvent], *, actor: str, now: datetime
) -> list[Outcome]:
    """Deduplicate and record each detection in order, in the caller's transaction (commit is the caller's)."""
    _lock_sources(uow, events, now)
    outcomes = []
    for event in events:
        outcomes.append(_receive_one(uow, city, types.rule(event.event_type), event, actor=actor, now=now))
        uow.session.flush()  # the next event of the batch must see this one
    return outcomes


def _lock_sources(uow: UnitOfWork, events: list[MachineEvent], now: datetime) -> None:
    """Upsert every (source_id, event_type) row in sorted order: the database serialises identical events here."""
    session = uow.session
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    kinds = {(e.source_id, e.event_type): e.source_kind for e in events}
    for source_id, event_type in sorted(kinds):
        stmt = insert(MachineSource).values(
            source_id=source_id,
            event_type=event_type,
            source_kind=kinds[(source_id, event_type)],
            first_seen_at=now,
            last_seen_at=now,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=["source_id", "event_type"], set_={"last_seen_at": stmt.excluded.last_seen_at}
        )
        session.execute(stmt)


def _receive_one(
    uow: UnitOfWork, city: City, rule: EventTypeRule, event: MachineEvent, *, actor: str, now: datetime
) -> Outcome:
    match = _open_match(uow, rule, event)
    if match is not None:
        return _detected_again(uow, match, event, actor=actor, now=now)
    return _new_incident(uow, city, rule, event, actor=actor, now=now)


def _open_match(uow: UnitOfWork, rule: EventTypeRule, event: MachineEvent) -> MachineDetection | None:
    """The nearest open incident of this source and type within the radius and the sliding window."""
    query = (
        select(MachineDetection)
        .join(Incident, Incident.id == MachineDetection.incident_id)
        .where(
            MachineDetection.source_id == event.source_id,
            MachineDetection.event_type == event.event_type,
            Incident.status.in_([str(s) for s in OPEN_STATUSES]),
            MachineDetection.last_detected_at >= event.detected_at - rule.window,
            MachineDetection.first_detected_at <= event.detected_at + rule.window,
        )
    )
    near = [(haversine_m(row.lon, row.lat, event.lon, event.lat), row.id, row) for row in uow.session.scalars(query)]
    near = [item for item in near if item[0] <= rule.radius_m]
    return min(near, key=lambda item: item[:2])[2] if near else None


def _detected_again(
    uow: UnitOfWork, row: MachineDetection, event: MachineEvent, *, actor: str, now: datetime
) -> Outcome:
    incident = get_incident(uow, row.incident_id, for_update=True)
    row.hits += 1
    row.last_detected_at = max(row.last_detected_at, event.detected_at)
    row.max_confidence = max(row.max_confidence, event.confidence)
    if event.snapshot_url:
        row.snapshot_url = event.snapshot_url
    distance = haversine_m(row.lon, row.lat, event.lon, event.lat)
    incident.record(
        action="detected_again",
        actor=actor,
        now=now,
        to=incident.state,
        note=f"{event.source_kind} {event.source_id} detected {event.event_type} again (hit {row.hits})",
        data={
            "source_id": event.source_id,
            "event_type": event.event_type,
            "hits": row.hits,
            "confidence": event.confidence,
            "detected_at": event.detected_at.isoformat(),
            "lon": event.lon,
            "lat": event.lat,
            "distance_m": round(distance, 1),
            **({"snapshot_url": event.snapshot_url} if event.snapshot_url else {}),
        },
    )
    return Outcome(incident.id, True, row.hits)


def _new_incident(
    uow: UnitOfWork, city: City, rule: EventTypeRule, event: MachineEvent, *, actor: str, now: datetime
) -> Outcome:
    category = city.catalogue.find_category(rule.category_code) if rule.category_code else None
    label = f"{category.name_zh} ({event.event_type})" if category else event.event_type
    description = (
        f"{KIND_ZH[event.source_kind]} {event.source_id} 识别到 {label}，置信度 {event.confidence:.2f}"
        f"（{event.detected_at.isoformat()}）"
    )
    cmd = CreateIncident(
        channel=CHANNELS[event.source_kind],
        category_code=category.code if category else None,
        description=description,
        lon=event.lon,
        lat=event.lat,
        external_id=f"{event.source_id}:{event.event_type}",
    )
    if event.confidence < rule.min_confidence:
        reason = TriageReason(
            "low_confidence",
            f"{event.source_kind} {event.source_id}: {event.event_type} with "
            f"confidence {event.confidence:.2f} < {rule.min_confidence:.2f}; "
            "confirm it on the snapshot or video",
        )
    else:
        reason = TriageReason(
            "machine_detected",
            f"{event.source_kind} {event.source_id} detected "
            f"{event.event_type} (confidence {event.confidence:.2f}); "
            "an operator confirms machine detections",
        )
    detection = {
        "source_id": event.source_id,
        "source_kind": event.source_kind,
        "event_type": event.event_type,
        "confidence": event.confidence,
        "detected_at": event.detected_at.isoformat(),
        **({"snapshot_url": event.snapshot_url} if event.snapshot_url else {}),
    }
    incident = create_machine_incident(uow, city, cmd, reason, actor=actor, now=now, data=detection)
    uow.session.flush()  # the incident row before the row referring to it
    jpeg = snapshot_bytes(event.snapshot) if event.snapshot else None
    uow.session.add(
        MachineDetection(
            source_id=event.source_id,
            source_kind=event.source_kind,
            event_type=event.event_type,
            incident_id=incident.id,
            lon=event.lon,
            lat=event.lat,
            first_detected_at=event.detected_at,
            last_detected_at=event.detected_at,
            confidence=event.confidence,
            max_confidence=event.confidence,
            hits=1,
            snapshot_url=event.snapshot_url,
            snapshot=jpeg,
            snapshot_sha256=hashlib.sha256(jpeg).hexdigest() if jpeg else None,
            attributes=event.all_attributes(),
            created_at=now,
        )
    )
    return Outcome(incident.id, False, 1, incident.triage_reason)


def detection_of(uow: UnitOfWork, incident_id: str) -> MachineDetection | None:
    return uow.session.scalar(select(MachineDetection).where(MachineDetection.incident_id == incident_id))
