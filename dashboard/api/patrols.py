"""Patrols (巡查) from the field app and for the people who lead the grids (dispatcher/fleet/patrols.py).

A grid worker linked to an officer (the account's `officer_id`) starts and stops their own patrol and attaches the
reports made on the way; the shift leader (and grid workers, dispatchers and leaders, within their region scope)
lists the patrols of a region with each track's length and unit grids, and the coverage of its communities today.
"""

from __future__ import annotations

from datetime import datetime, time
from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Account, Principal
from dispatcher.access.roles import Role
from dispatcher.cases.actions import get_incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Forbidden, Invalid
from dispatcher.fleet import patrols
from dispatcher.fleet.officers import Officer, Patrol
from dispatcher.fleet.officers import Role as OfficerRole

TAG = "patrols"
PATROL_READERS = frozenset({Role.SHIFT_LEADER, Role.DISPATCHER, Role.LEADER, Role.GRID_WORKER})


class PatrolsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    region: Annotated[str | None, Field(max_length=32, description="a grid at any level (default: your scope)")] = None
    since: datetime | None = Field(default=None, description="patrols going on since (default: today 00:00 local)")


class AttachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    incident_id: Annotated[str, Field(min_length=1, max_length=36)]


class PatrolOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str | None


class PatrolList(BaseModel):
    model_config = ConfigDict(extra="allow")
    items: list[dict]
    coverage: list[dict]


def linked_officer(principal: Principal) -> Officer | None:
    """The officer this account is (its `officer_id`; else the officer whose id is its username, as the simulator's
    service accounts are), detached; None if it is nobody's."""
    with current_runtime().sessions() as session:
        account = session.get(Account, principal.account_id)
        officer_id = account.officer_id if account is not None and account.officer_id else principal.username
        officer = session.get(Officer, officer_id)
        if officer is not None:
            session.expunge(officer)
        return officer


def patrolling_officer(principal: Principal) -> Officer:
    """The grid worker this account is; Forbidden for anyone else."""
    officer = linked_officer(principal)
    if officer is None or officer.role != OfficerRole.GRID_WORKER:
        raise Forbidden(
            f"account {principal.username} is not linked to a grid worker: only they patrol", field="account"
        )
    return officer


def present(session: Session, patrol: Patrol, now: datetime, with_points: bool = False) -> dict:
    """A patrol as the API shows it: times, track length, unit grids passed through and attached cases."""
    kept = patrol.ended_at is not None and patrol.length_m is not None and not with_points
    track = None if kept else patrols.track_of(session, patrol, now)  # an ended patrol keeps its summary
    body = {
        "id": patrol.id,
        "officer_id": patrol.officer_id,
        "started_at": patrol.started_at.isoformat(),
        "ended_at": patrol.ended_at.isoformat() if patrol.ended_at else None,
        "length_m": patrol.length_m if track is None else round(track.length_m, 1),
        "grid_units": list(patrol.grid_units) if track is None else track.grid_units,
        "reports": patrols.reports_of(session, [patrol.id])[patrol.id],
    }
    if track is not None and with_points:
        body["track"] = [list(p) for p in track.points]
    return body


@api.get("/me/patrol")
@spec.validate(resp=Response(HTTP_200=PatrolOut, HTTP_403=ErrorResponse), tags=[TAG])
def my_patrol():
    """The signed-in grid worker's patrol going on, with its track as [lon, lat] points (id null when none)."""
    officer = patrolling_officer(require_principal())
    rt = current_runtime()
    with rt.sessions() as session:
        patrol = patrols.open_patrol(session, officer.id)
        return jsonify(present(session, patrol, rt.clock(), with_points=True) if patrol else {"id": None})


@api.post("/me/patrol/start")
@spec.validate(resp=Response(HTTP_200=PatrolOut, HTTP_403=ErrorResponse), tags=[TAG])
def start_patrol():
    """Start a patrol (or get the one going back: starting twice is one patrol)."""
    officer = patrolling_officer(require_principal())
    rt = current_runtime()
    with rt.sessions.begin() as session:
        patrol = patrols.start(session, officer, rt.clock())
        session.flush()
        return jsonify(present(session, patrol, rt.clock()))


@api.post("/me/patrol/stop")
@spec.validate(resp=Response(HTTP_200=PatrolOut, HTTP_403=ErrorResponse), tags=[TAG])
def stop_patrol():
    """End the patrol going on and keep its track's length and unit grids (id null when none was going)."""
    officer = patrolling_officer(require_principal())
    rt = current_runtime()
    with rt.sessions.begin() as session:
        patrol = patrols.open_patrol(session, officer.id)
        if patrol is None:
            return jsonify(id=None)
        patrols.stop(session, patrol, rt.clock())
        return jsonify(present(session, patrol, rt.clock()))


@api.post("/me/patrols/<patrol_id>/reports")
@spec.validate(
    json=AttachIn, resp=Response(HTTP_200=PatrolOut, HTTP_403=ErrorResponse, HTTP_404=ErrorResponse), tags=[TAG]
)
def attach_report(patrol_id: str, json: AttachIn):
    """Attach a case the grid worker reported on the way to their patrol (sent later from the outbox too)."""
    principal = require_principal()
    officer = patrolling_officer(principal)
    rt = current_runtime()
    with UnitOfWork(rt.sessions) as uow:
        get_incident(uow, json.incident_id, principal=principal)  # NotFound unless they may see it
    with rt.sessions.begin() as session:
        patrol = patrols.own_patrol(session, patrol_id, officer.id)
        patrols.attach(session, patrol, json.incident_id)
        session.flush()
        return jsonify(present(session, patrol, rt.clock()))


def region_of(principal: Principal, requested: str | None) -> str:
    """The region asked for, which must lie inside the caller's own region scope."""
    if principal.role not in PATROL_READERS:
        raise Forbidden(f"role '{principal.role}' does not follow patrols", field="role")
    grids = current_runtime().city.grids
    region = requested or principal.region_code
    if region is None or grids.find(region) is None:
        raise Invalid(f"unknown region {region!r}", field="region")
    if principal.region_code is not None and principal.region_code not in grids.path_of(region).codes():
        raise Forbidden(f"region {region} is outside the scope of {principal.username}", field="region")
    return region


def start_of_today(now: datetime) -> datetime:
    """Local midnight of `now`'s day in the city's time zone."""
    tz = current_runtime().city.calendar.tz
    return datetime.combine(now.astimezone(tz).date(), time(0), tzinfo=tz)


@api.get("/patrols")
@spec.validate(query=PatrolsQuery, resp=Response(HTTP_200=PatrolList, HTTP_403=ErrorResponse), tags=[TAG])
def list_patrols(query: PatrolsQuery):
    """The region's patrols since `since` (track length, unit grids, reports) and the share of each community's unit
    grids they passed through."""
    principal = require_principal()
    region = region_of(principal, query.region)
    rt = current_runtime()
    now = rt.clock()
    since = query.since or start_of_today(now)
    grids = rt.city.grids
    with rt.sessions() as session:
        homes = dict(session.execute(select(Officer.id, Officer.grid_community)).all())
        shown = [present(session, p, now) for p in patrols.patrols_since(session, since, now)]
    items = [p for p in shown if patrols.in_region(grids, p["grid_units"], homes.get(p["officer_id"]), region)]
    visited = {unit for p in items for unit in p["grid_units"]}
    coverage = [
        {
            "community": c.community,
            "name": grids.get(c.community).name,
            "units": c.units,
            "visited": c.visited,
            "share": round(c.share, 3),
        }
        for c in patrols.coverage(grids, region, visited)
    ]
    return jsonify(items=items, coverage=coverage)
