"""Intake support for the hotline console and the command center: caller history, duplicate suggestions,
call-back lists and the triage queue. Merging and un-merging are lifecycle actions
(POST /incidents/{id}/actions/merge with {"parent_id": ...}, POST /incidents/{id}/actions/unmerge)."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, spec
from dashboard.api.incidents import IncidentOut, present
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.access.privacy import mask_phone, present_reporter
from dispatcher.access.roles import may_see_phones
from dispatcher.cases import merging
from dispatcher.cases.actions import get_incident
from dispatcher.cases.commands import Phone
from dispatcher.cases.scope import scope_clause
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Forbidden
from dispatcher.intake import callers, duplicates

TAG = "intake"


class HistoryQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phone: Phone = Field(description="the caller's number as typed (+86, spaces and hyphens are ignored)")
    limit: Annotated[int, Field(ge=1, le=callers.MAX_HISTORY)] = 20


class HistoryOut(BaseModel):
    phone: str = Field(description="the number, masked")
    items: list[IncidentOut]


class SuggestionOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str
    distance_m: float | None
    reason: str


class DuplicatesQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Annotated[int, Field(ge=1, le=50)] = 5


class DuplicatesOut(BaseModel):
    incident_id: str
    items: list[SuggestionOut]


class CallbackOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    incident_id: str
    relation: str = Field(description="self: the case's own caller; merged: a duplicate report merged into it")
    in_scope: bool = Field(
        description="false: a merged report outside your scope; who called and their number are withheld "
        "(null) and cannot be unmasked here"
    )
    call_nature: str | None
    needs_callback: bool


class CallbacksOut(BaseModel):
    incident_id: str
    parent_id: str | None
    items: list[CallbackOut]


class TriageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Annotated[int, Field(ge=1, le=500)] = 200


class TriageItemOut(BaseModel):
    reason: str = Field(description="the routing engine's triage reason, or suspected_duplicate")
    detail: str | None
    candidates: list[SuggestionOut]
    incident: IncidentOut


class TriageOut(BaseModel):
    items: list[TriageItemOut]
    total: int


@api.get("/callers/history")
@spec.validate(
    query=HistoryQuery, resp=Response(HTTP_200=HistoryOut, HTTP_403=ErrorResponse, HTTP_422=ErrorResponse), tags=[TAG]
)
def caller_history(query: HistoryQuery):
    """A caller's earlier reports by phone number, newest first, within the caller's scope (hotline, dispatcher,
    shift leader); every lookup is audited. Snapshots stay masked."""
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    with UnitOfWork(rt.sessions) as uow:
        rows = callers.look_up(
            uow.session, query.phone, principal=principal, ip=request.remote_addr, now=now, limit=query.limit
        )
        items = [present(i, now) for i in rows or []]
        uow.session.commit()
    if rows is None:
        raise Forbidden(f"role '{principal.role}' may not look callers up (user {principal.username})")
    return jsonify(phone=mask_phone(query.phone), items=items)


@api.get("/incidents/<incident_id>/duplicates")
@spec.validate(query=DuplicatesQuery, resp=Response(HTTP_200=DuplicatesOut, HTTP_404=ErrorResponse), tags=[TAG])
def incident_duplicates(incident_id: str, query: DuplicatesQuery):
    """Open cases this one may repeat (same category nearby in the category's window, or the same caller),
    nearest first, within the caller's scope. Merge with POST /incidents/{id}/actions/merge."""
    principal = require_principal()
    rt = current_runtime()
    with UnitOfWork(rt.sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        found = duplicates.suggest_for(
            uow.session, incident, catalogue=rt.city.catalogue, scope=scope_clause(principal), limit=query.limit
        )
        return jsonify(incident_id=incident.id, items=[s.brief() for s in found])


@api.get("/incidents/<incident_id>/callbacks")
@spec.validate(resp=Response(HTTP_200=CallbacksOut, HTTP_404=ErrorResponse), tags=[TAG])
def incident_callbacks(incident_id: str):
    """Everyone to call back about a case: its own caller and the caller of every report merged into it
    (names and numbers masked; call-back roles unmask with POST /incidents/{id}/callbacks/unmask). A merged report
    outside your scope is listed with in_scope false and without any personal data."""
    principal = require_principal()
    with UnitOfWork(current_runtime().sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        entries = merging.callback_list(uow.session, incident, principal=principal)
        items = [present_reporter(e, None) for e in entries]
        return jsonify(incident_id=incident.id, parent_id=incident.parent_id, items=items)


@api.post("/incidents/<incident_id>/callbacks/unmask")
@spec.validate(resp=Response(HTTP_200=CallbacksOut, HTTP_403=ErrorResponse, HTTP_404=ErrorResponse), tags=[TAG])
def unmask_callbacks(incident_id: str):
    """The call-back list in full, for roles that call back (hotline, dispatcher, shift leader); one audit
    record ("unmask") per incident whose caller is shown. Merged reports outside your scope stay withheld
    (in_scope false, no personal data) and are not unmasked."""
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    with UnitOfWork(rt.sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        allowed = may_see_phones(principal.role)
        entries = merging.callback_list(uow.session, incident, principal=principal) if allowed else []
        targets = [e["incident_id"] for e in entries if e["in_scope"]] or [incident.id]
        audit.append_many(
            uow.session,
            [
                audit.Entry(
                    actor=principal.username,
                    role=str(principal.role),
                    ip=request.remote_addr,
                    action="unmask",
                    target=f"incident:{t}",
                    result="ok" if allowed else "denied",
                    detail={"via": f"callbacks:{incident.id}"},
                )
                for t in targets
            ],
            now=now,
        )
        uow.session.commit()
    if not allowed:
        raise Forbidden(f"role '{principal.role}' may not see callers' personal data (user {principal.username})")
    return jsonify(incident_id=incident.id, parent_id=incident.parent_id, items=entries)


@api.get("/triage")
@spec.validate(query=TriageQuery, resp=Response(HTTP_200=TriageOut, HTTP_422=ErrorResponse), tags=[TAG])
def triage(query: TriageQuery):
    """待甄别: everything the engine could not place (with the routing engine's reason) and reported cases that
    look like a duplicate of an earlier open one (suspected_duplicate, with the candidates); oldest first, scoped.
    Fix with the file action (corrected category_code / lon+lat / department), void (with a reason) or merge."""
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    with rt.sessions() as session:
        queue = duplicates.triage_queue(
            session, catalogue=rt.city.catalogue, scope=scope_clause(principal), limit=query.limit
        )
        items = [
            {
                "reason": t.reason,
                "detail": t.detail,
                "candidates": [s.brief() for s in t.candidates],
                "incident": present(t.incident, now),
            }
            for t in queue
        ]
    return jsonify(items=items, total=len(items))
