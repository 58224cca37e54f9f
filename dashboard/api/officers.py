"""Officer endpoints: everyone with live position and status; recommended officers for an incident (only of the
department the case goes to, dispatcher/fleet/recommend.py); officers' names for the ids cases are assigned to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Account
from dispatcher.cases.actions import get_incident
from dispatcher.cases.scope import can_see_officer
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Invalid
from dispatcher.fleet.officers import Officer, loads, status_of
from dispatcher.fleet.recommend import candidate, rank

TAG = "officers"


class OfficerList(BaseModel):
    model_config = ConfigDict(extra="allow")
    items: list[dict]


class RecommendQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Annotated[int, Field(ge=1, le=50)] = 5
    department: Annotated[
        str | None,
        Field(max_length=32, description="the department to dispatch to (default: the one the case is routed to)"),
    ] = None


def present(officer: Officer, position: dict | None, load: int, now: datetime) -> dict:
    """An officer as the API and the map see them (no tracker ids: trackers authenticate by them)."""
    at = datetime.fromisoformat(position["at"]) if position else None
    public = (
        None
        if position is None
        else {k: position.get(k) for k in ("lon", "lat", "at", "speed_mps", "heading", "accuracy_m", "grid_unit")}
    )
    return {
        "id": officer.id,
        "name": officer.name,
        "role": officer.role,
        "department_code": officer.department_code,
        "grid_community": officer.grid_community,
        "status": str(status_of(officer, at, load, now)),
        "position": public,
        "load": load,
    }


@api.get("/officers")
@spec.validate(resp=Response(HTTP_200=OfficerList), tags=[TAG])
def officers():
    """Every officer with status (on duty, busy, off duty, stale, offline), latest position and open load."""
    rt = current_runtime()
    now = rt.clock()
    latest = rt.positions.latest() if rt.positions else {}
    with rt.sessions() as session:
        roster = [o for o in session.scalars(select(Officer).order_by(Officer.id)) if visible(o)]
        busy = loads(session)
    return jsonify(items=[present(o, latest.get(o.id), busy.get(o.id, 0), now) for o in roster])


def visible(officer: Officer) -> bool:
    """Whether the caller may see this officer (their patrol area or department is in scope)."""
    grids = current_runtime().city.grids
    home = officer.grid_community
    path = grids.path_of(home).codes() if home and grids.find(home) else []
    return can_see_officer(require_principal(), officer.department_code, path)


@api.get("/incidents/<incident_id>/recommendations")
@spec.validate(
    query=RecommendQuery,
    resp=Response(HTTP_200=OfficerList, HTTP_404=ErrorResponse, HTTP_422=ErrorResponse),
    tags=[TAG],
)
def recommendations(incident_id: str, query: RecommendQuery):
    """Officers to send: only those of the case's department (the routed one, or `department`), on duty before busy
    before stale, nearest plus 300 m per open case first (dispatcher/fleet/recommend.py); each with department,
    role, distance, load and status, and whether the case is already assigned to them."""
    return jsonify(items=recommend(incident_id, require_principal(), query.limit, query.department))


def recommend(incident_id: str, principal, limit: int, department: str | None = None) -> list[dict]:
    """The officers of the case's department (or of `department`) the principal may see, ranked (NotFound if the
    incident is out of scope, Invalid for an unknown department). Distances are from each officer's last fix."""
    rt = current_runtime()
    now = rt.clock()
    catalogue = rt.city.catalogue
    with UnitOfWork(rt.sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        department = department or incident.department_code
        if department is not None and department not in catalogue.departments:
            raise Invalid(f"unknown department '{department}'", field="department")
        if department is None or incident.lon is None or incident.lat is None or rt.positions is None:
            return []
        roster = {
            o.id: o
            for o in uow.session.scalars(select(Officer).where(Officer.department_code == department))
            if visible(o)
        }
        busy = loads(uow.session)
        latest = rt.positions.latest()
        candidates = []
        for officer_id, officer in roster.items():
            position = latest.get(officer_id)
            if position is None:  # never sent a fix: offline
                continue
            load = busy.get(officer_id, 0)
            status = status_of(officer, datetime.fromisoformat(position["at"]), load, now)
            fix = (position["lon"], position["lat"])
            candidates.append(
                candidate(officer_id, (incident.lon, incident.lat), fix, load, status, officer.department_code)
            )
        known = catalogue.departments[department]
        return [
            {
                "officer": present(roster[c.officer_id], latest[c.officer_id], c.load, now),
                "department": {"code": known.code, "name_zh": known.name_zh, "name_en": known.name_en},
                "distance_m": round(c.distance_m, 1),
                "load": c.load,
                "status": str(c.status),
                "assigned": c.officer_id == incident.assignee,
            }
            for c in rank(candidates, department, limit)
        ]


def assignee_label(session: Session, assignee: str | None) -> str | None:
    """How a case's assignee reads: an officer id as "name (id)", an account's username as "display name (username)",
    anything else as it is. Two primary-key / unique-key lookups at most."""
    if not assignee:
        return None
    officer = session.get(Officer, assignee)
    if officer is not None:
        return f"{officer.name} ({officer.id})"
    account = session.scalar(select(Account).where(Account.username == assignee))
    if account is not None and account.display_name and account.display_name != assignee:
        return f"{account.display_name} ({assignee})"
    return assignee
