"""Incident endpoints: create (idempotent), read, list with filters, lifecycle actions, timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, TypeVar

from flask import jsonify, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy.exc import IntegrityError

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.access.accounts import Principal, check_report
from dispatcher.access.privacy import present_reporter
from dispatcher.access.roles import intake_channel, may_see_phones
from dispatcher.cases import queries
from dispatcher.cases.actions import get_incident
from dispatcher.cases.clocks import is_overdue, light
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Channel, Incident
from dispatcher.cases.lifecycle import Action, Status, allowed_actions
from dispatcher.cases.scope import scope_clause
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Forbidden, NotFound
from dispatcher.intake import duplicates
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from dispatcher.store import idempotency

TAG = "incidents"
C = TypeVar("C", bound=CreateIncident)


class CreateHeaders(BaseModel):
    """Optional headers of a create request."""

    model_config = ConfigDict(extra="allow")
    idempotency_key: str | None = Field(default=None, alias="Idempotency-Key", min_length=1, max_length=128)


class IncidentOut(BaseModel):
    """An incident with its live clock state (free-form: see the fields of the snapshot)."""

    model_config = ConfigDict(extra="allow")
    id: str
    version: int
    status: Status


class IncidentPage(BaseModel):
    items: list[IncidentOut]
    total: int
    page: int
    page_size: int


class ListQuery(BaseModel):
    """Filters of the incident list; all optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")
    status: list[Status] | None = Field(default=None, description="one or more statuses")
    category: Annotated[str, Field(max_length=16)] | None = Field(
        default=None, description="small class code or prefix"
    )
    grid: Annotated[str, Field(max_length=32, pattern=r"^[0-9A-Za-z]+$")] | None = Field(
        default=None, description="grid code at any level"
    )
    department: Annotated[str, Field(max_length=32)] | None = None
    created_from: AwareDatetime | None = None
    created_to: AwareDatetime | None = None
    overdue: bool | None = None
    open: bool | None = Field(default=None, description="only open (true) or only finished (false) incidents")
    number: Annotated[str, Field(max_length=20, pattern=r"^[0-9-]+$")] | None = Field(
        default=None, description="case number (案件编号), whole or its start, e.g. 2026-1201-0042 or 2026-1201"
    )
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    page_size: Annotated[int, Field(ge=1, le=500)] = 50


class TimelineOut(BaseModel):
    incident_id: str
    entries: list[dict]


def present(incident: Incident, now: datetime) -> dict:
    """The API view of an incident: the snapshot plus traffic light, overdue flag and allowed actions."""
    city = current_runtime().city
    signal = light(city, incident, now)
    return {
        **present_reporter(incident.snapshot(), None),  # callers' names and numbers are masked; see unmask()
        "light": str(signal) if signal else None,
        "overdue": is_overdue(incident, now),
        "allowed_actions": sorted(str(a) for a in allowed_actions(incident.state)),
    }


@api.post("/incidents")
@spec.validate(
    json=CreateIncident,
    headers=CreateHeaders,
    resp=Response(HTTP_201=IncidentOut, HTTP_403=ErrorResponse, HTTP_409=ErrorResponse, HTTP_422=ErrorResponse),
    tags=[TAG],
)
def create(json: CreateIncident, headers: CreateHeaders):
    """Report an incident (受理). The same Idempotency-Key replays the first answer instead of creating twice.

    The channel is one the sender's role may record (a grid worker: grid_worker; hotline: hotline; the
    command center: any but open311); without one, the role's own. Another is a 403 naming role and channel.
    """
    principal = require_principal()
    check_report(principal)
    json = with_channel(json, principal, preferred=Channel.API)
    rt = current_runtime()
    now = rt.clock()
    key = f"{principal.account_id}:{headers.idempotency_key}" if headers.idempotency_key else None
    digest = idempotency.request_hash(json.model_dump(mode="json"))
    try:
        with UnitOfWork(rt.sessions) as uow:
            if key and (seen := idempotency.replay(uow.session, key, digest)):
                return jsonify(seen.response), seen.status_code
            uow.actor_role, uow.ip = str(principal.role), request.remote_addr
            incident = create_incident(uow, rt.city, json, actor=principal.username, now=now)
            uow.session.flush()
            body = present(incident, now)
            body["duplicates"] = [  # possible originals, for the intake screen to offer a merge (never automatic)
                {k: s.brief()[k] for k in ("id", "distance_m", "reason")}
                for s in duplicates.suggest_for(
                    uow.session, incident, catalogue=rt.city.catalogue, scope=scope_clause(principal)
                )
            ]
            if key:
                idempotency.remember(uow.session, key, digest, 201, body, now)
            uow.commit(now)
    except IntegrityError:
        if not key:
            raise
        return _replay_after_race(key, digest)
    rt.after_commit()
    return jsonify(body), 201


def with_channel(report: C, principal: Principal, *, preferred: Channel) -> C:
    """The report with the channel its sender's role may use (dispatcher.access.roles.INTAKE_CHANNELS): the
    requested one, or the role's own; 403 naming role and channel when the body asks for another."""
    requested = str(report.channel) if "channel" in report.model_fields_set else None
    channel = intake_channel(principal.role, requested, preferred=str(preferred), username=principal.username)
    return report.model_copy(update={"channel": Channel(channel)})


def _replay_after_race(key: str, digest: str):
    """Two requests with one key raced; the loser answers with the winner's stored response."""
    with UnitOfWork(current_runtime().sessions) as uow:
        seen = idempotency.replay(uow.session, key, digest)
        if seen is None:
            return error(409, "conflict", f"Idempotency-Key {key!r} is being processed; retry", "Idempotency-Key")
        return jsonify(seen.response), seen.status_code


@api.get("/incidents")
@spec.validate(query=ListQuery, resp=Response(HTTP_200=IncidentPage, HTTP_422=ErrorResponse), tags=[TAG])
def list_incidents(query: ListQuery):
    """List incidents with filters and pagination, newest first."""
    rt = current_runtime()
    now = rt.clock()
    with rt.sessions() as session:
        rows, total = queries.list_incidents(
            session, queries.IncidentFilter(**query.model_dump()), now=now, scope=scope_clause(require_principal())
        )
        items = [present(i, now) for i in rows]
    return jsonify(items=items, total=total, page=query.page, page_size=query.page_size)


@api.get("/incidents/<incident_id>")
@spec.validate(resp=Response(HTTP_200=IncidentOut, HTTP_404=ErrorResponse), tags=[TAG])
def read(incident_id: str):
    """One incident with its clock state and the actions its status allows."""
    rt = current_runtime()
    with UnitOfWork(rt.sessions) as uow:
        return jsonify(present(get_incident(uow, incident_id, principal=require_principal()), rt.clock()))


@api.get("/incidents/<incident_id>/timeline")
@spec.validate(resp=Response(HTTP_200=TimelineOut, HTTP_404=ErrorResponse), tags=[TAG])
def timeline(incident_id: str):
    """Every step of the incident: who, when, action, from → to, note."""
    with UnitOfWork(current_runtime().sessions) as uow:
        incident = get_incident(uow, incident_id, principal=require_principal())
        return jsonify(incident_id=incident.id, entries=[e.as_dict() for e in incident.timeline])


@api.post("/incidents/<incident_id>/actions/<action>")
@spec.validate(
    json=ActionRequest,
    resp=Response(HTTP_200=IncidentOut, HTTP_404=ErrorResponse, HTTP_409=ErrorResponse, HTTP_422=ErrorResponse),
    tags=[TAG],
    path_parameter_descriptions={"action": "one of: " + ", ".join(a.value for a in Action)},
)
def act(incident_id: str, action: str, json: ActionRequest):
    """Perform a lifecycle action (file, dispatch, claim, return, escalate, handle, verify, close, void, ...)."""
    try:
        chosen = Action(action)
    except ValueError:
        raise NotFound(
            f"unknown action '{action}'; known: {', '.join(a.value for a in Action)}", field="action"
        ) from None
    principal = require_principal()
    rt = current_runtime()
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        incident = rt.act(uow, incident_id, chosen, json, principal=principal, now=now)
    return jsonify(present(incident, now))  # after the commit: the version is the new one


class ReporterOut(BaseModel):
    reporter_name: str | None
    reporter_phone: str | None


@api.post("/incidents/<incident_id>/unmask")
@spec.validate(resp=Response(HTTP_200=ReporterOut, HTTP_403=ErrorResponse, HTTP_404=ErrorResponse), tags=[TAG])
def unmask(incident_id: str):
    """The caller's full name and number, for roles that call back (hotline, dispatcher, shift leader); audited."""
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    with UnitOfWork(rt.sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        allowed = may_see_phones(principal.role)
        audit.append(
            uow.session,
            actor=principal.username,
            role=str(principal.role),
            ip=request.remote_addr,
            action="unmask",
            target=f"incident:{incident.id}",
            result="ok" if allowed else "denied",
            now=now,
        )
        uow.session.commit()
        if not allowed:
            raise Forbidden(f"role '{principal.role}' may not see callers' personal data (user {principal.username})")
        return jsonify(reporter_name=incident.reporter_name, reporter_phone=incident.reporter_phone)
