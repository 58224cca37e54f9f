"""Machine intake: detections from AI cameras and IoT sensor gateways (POST /machine-events), deduplicated.

A gateway signs in with a device token of an account whose role takes reports (dispatcher/cases/scope.py
REPORTERS). One event: 201 with the new incident (always in triage), or 200 with `duplicate: true` and the
open incident it was added to. A batch `{"events": [...]}` (≤ 500) is one transaction: every event is
validated first (422 naming `events.N.field`), then recorded in order; the answer is 200 with one result
per event.
"""

from __future__ import annotations

from flask import Response as FlaskResponse
from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, ValidationError
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import check_report
from dispatcher.cases.actions import get_incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import NotFound
from dispatcher.intake import machine, machine_events

TAG = "machine"


class MachineOutcome(BaseModel):
    """One event: {incident_id, duplicate, hits, triage_reason (new incidents)}; a batch: {results, created,
    duplicates} with one such object per event, in order."""

    model_config = ConfigDict(extra="allow")
    incident_id: str | None = None
    duplicate: bool | None = None
    hits: int | None = None
    results: list[dict] | None = None
    created: int | None = None
    duplicates: int | None = None


class DetectionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    incident_id: str
    source_id: str
    hits: int


def _invalid(exc: ValidationError):
    """The API's validation error shape, naming each field (`confidence`, `events.3.lat`)."""
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or None, "message": e.get("msg")}
        for e in exc.errors(include_url=False, include_input=False)
    ]
    message = "; ".join(f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems)
    return jsonify(
        error={"code": "validation_error", "message": message, "field": problems[0]["field"], "details": problems}
    ), 422


@api.post("/machine-events")
@spec.validate(
    resp=Response(
        HTTP_200=MachineOutcome,
        HTTP_201=MachineOutcome,
        HTTP_400=ErrorResponse,
        HTTP_403=ErrorResponse,
        HTTP_422=ErrorResponse,
    ),
    tags=[TAG],
)
def receive():
    """Report camera/sensor detections: one event object, or `{"events": [...]}` (at most 500).

    Event fields: source_id, source_kind (camera|sensor), event_type, confidence (0..1), lon, lat (WGS-84),
    detected_at (ISO 8601 with zone, or unix s/ms), snapshot_url or snapshot (base64 JPEG ≤ 256 KB),
    attributes (any other key is kept as an attribute too). Types map to categories in
    data/machine_event_types.yaml. A new detection creates an incident in triage (201); the same source and
    type near an open incident it created, within the type's window, adds a `detected_again` row instead (200).
    """
    principal = require_principal()
    check_report(principal)
    body = request.get_json(silent=True) if request.content_length else None
    if not isinstance(body, dict):
        return error(422, "validation_error", 'send one event object or {"events": [...]}', None)
    batch = "events" in body
    try:
        events = (
            list(machine_events.MachineBatch.model_validate(body).events)
            if batch
            else [machine_events.MachineEvent.model_validate(body)]
        )
    except ValidationError as exc:
        return _invalid(exc)
    rt = current_runtime()
    now = rt.clock()
    for index, event in enumerate(events):
        if problem := machine_events.too_far_ahead(event, now):
            field = f"events.{index}.detected_at" if batch else "detected_at"
            return error(422, "validation_error", f"{field}: {problem}", field)
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        outcomes = machine.receive(
            uow,
            rt.city,
            machine_events.load_event_types(rt.settings.data_dir / machine_events.EVENT_TYPES_FILE),
            events,
            actor=principal.username,
            now=now,
        )
    if not batch:
        only = outcomes[0]
        return jsonify(only.as_dict()), 200 if only.duplicate else 201
    results = [o.as_dict() for o in outcomes]
    return jsonify(
        results=results, created=sum(not o.duplicate for o in outcomes), duplicates=sum(o.duplicate for o in outcomes)
    ), 200


@api.get("/machine-events/<incident_id>")
@spec.validate(resp=Response(HTTP_200=DetectionOut, HTTP_404=ErrorResponse), tags=[TAG])
def detection(incident_id: str):
    """The detections behind a machine-created incident: source, first/last detection, hits, snapshot."""
    with UnitOfWork(current_runtime().sessions) as uow:
        get_incident(uow, incident_id, principal=require_principal())
        row = machine.detection_of(uow, incident_id)
        if row is None:
            raise NotFound(f"incident {incident_id} was not created by a camera or sensor", field="id")
        return jsonify(row.as_dict())


@api.get("/machine-events/<incident_id>/snapshot")
@spec.validate(resp=Response(HTTP_404=ErrorResponse), tags=[TAG])
def snapshot(incident_id: str):
    """The JPEG the first detection sent inline (404 when it sent a URL or nothing)."""
    with UnitOfWork(current_runtime().sessions) as uow:
        get_incident(uow, incident_id, principal=require_principal())
        row = machine.detection_of(uow, incident_id)
        if row is None or row.snapshot is None:
            raise NotFound(f"incident {incident_id} has no stored snapshot", field="id")
        return FlaskResponse(
            row.snapshot,
            mimetype="image/jpeg",
            headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
        )
