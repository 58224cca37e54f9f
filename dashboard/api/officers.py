"""Officer endpoints: everyone with live position and status; recommended officers for an incident."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy import select

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.cases.actions import get_incident
from dispatcher.cases.scope import can_see_officer
from dispatcher.cases.uow import UnitOfWork
from dispatcher.fleet.officers import Officer, loads, status_of
from dispatcher.fleet.recommend import Candidate, rank

TAG = "officers"
SEARCH_RADIUS_M = 5000


class OfficerList(BaseModel):
    model_config = ConfigDict(extra="allow")
    items: list[dict]


class RecommendQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: Annotated[int, Field(ge=1, le=50)] = 5


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
@spec.validate(query=RecommendQuery, resp=Response(HTTP_200=OfficerList, HTTP_404=ErrorResponse), tags=[TAG])
def recommendations(incident_id: str, query: RecommendQuery):
    """The nearest available officers for an incident, from their live positions (distance, grid, load)."""
    return jsonify(items=recommend(incident_id, require_principal(), query.limit))


def recommend(incident_id: str, principal, limit: int) -> list[dict]:
    """Nearest available officers the principal may see, ranked (NotFound if the incident is out of scope)."""
    rt = current_runtime()
    now = rt.clock()
    with UnitOfWork(rt.sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        if incident.lon is None or rt.positions is None:
            return []
        near = rt.positions.nearby(incident.lon, incident.lat, SEARCH_RADIUS_M, 100)
        roster = {
            o.id: o
            for o in uow.session.scalars(select(Officer).where(Officer.id.in_([i for i, _ in near])))
            if visible(o)
        }
        busy = loads(uow.session)
        latest = rt.positions.latest()
        candidates = []
        for officer_id, distance in near:
            officer, position = roster.get(officer_id), latest.get(officer_id)
            if officer is None or position is None:
                continue
            load = busy.get(officer_id, 0)
            status = status_of(officer, datetime.fromisoformat(position["at"]), load, now)
            candidates.append(Candidate(officer_id, distance, load, status))
        return [
            {
                "officer": present(roster[c.officer_id], latest[c.officer_id], c.load, now),
                "distance_m": round(c.distance_m, 1),
                "load": c.load,
            }
            for c in rank(candidates, limit)
        ]
