"""Grid workers' patrols (巡查): start and stop, the track (the officer's position history in between), the unit
grids passed through, reports made on the way, and the coverage of a region's communities."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident
from dispatcher.errors import Conflict, Invalid, NotFound
from dispatcher.fleet.officers import Officer, OfficerPosition, Patrol, PatrolReport
from geo.distance import haversine_m
from geo.grids import GridIndex, Level


@dataclass(frozen=True)
class Track:
    """A patrol's track: its fixes (lon, lat) in time order, its length and the unit grids in the order entered."""

    points: list[tuple[float, float]]
    length_m: float
    grid_units: list[str]


@dataclass(frozen=True)
class Coverage:
    """How much of one community's unit grids the patrols passed through."""

    community: str
    units: int
    visited: int

    @property
    def share(self) -> float:
        """Visited units over all units (0 for a community without units)."""
        return self.visited / self.units if self.units else 0.0


def open_patrol(session: Session, officer_id: str) -> Patrol | None:
    """The officer's patrol that has not ended, if any."""
    return session.scalar(select(Patrol).where(Patrol.officer_id == officer_id, Patrol.ended_at.is_(None)))


def start(session: Session, officer: Officer, now: datetime) -> Patrol:
    """Start a patrol for the officer, or give back the one already going (a resent start is no second patrol)."""
    going = open_patrol(session, officer.id)
    if going is not None:
        return going
    patrol = Patrol(id="p-" + secrets.token_hex(8), officer_id=officer.id, started_at=now, grid_units=[])
    session.add(patrol)
    return patrol


def stop(session: Session, patrol: Patrol, now: datetime) -> Patrol:
    """End a patrol and keep its track's length and unit grids; stopping an ended patrol changes nothing."""
    if patrol.ended_at is not None:
        return patrol
    patrol.ended_at = max(now, patrol.started_at)
    track = track_of(session, patrol, now)
    patrol.length_m = round(track.length_m, 1)
    patrol.grid_units = track.grid_units
    return patrol


def positions_of(session: Session, patrol: Patrol, now: datetime) -> list[OfficerPosition]:
    """The officer's accepted fixes between the patrol's start and its end (or now), in time order."""
    until = patrol.ended_at or now
    return list(
        session.scalars(
            select(OfficerPosition)
            .where(
                OfficerPosition.officer_id == patrol.officer_id,
                OfficerPosition.at >= patrol.started_at,
                OfficerPosition.at <= until,
            )
            .order_by(OfficerPosition.at, OfficerPosition.id)
        )
    )


def summarize(fixes: list[tuple[float, float, str | None]]) -> Track:
    """The track of fixes (lon, lat, unit grid): summed great-circle legs and the distinct units in order."""
    points = [(lon, lat) for lon, lat, _ in fixes]
    length = sum(haversine_m(*a, *b) for a, b in zip(points, points[1:]))
    units = list(dict.fromkeys(unit for _, _, unit in fixes if unit))
    return Track(points, length, units)


def track_of(session: Session, patrol: Patrol, now: datetime) -> Track:
    """A patrol's track from the position history."""
    return summarize([(p.lon, p.lat, p.grid_unit) for p in positions_of(session, patrol, now)])


def attach(session: Session, patrol: Patrol, incident_id: str) -> None:
    """Attach a case reported on the way (made after the patrol started: an offline report arrives after its end
    too); attaching twice is harmless."""
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"incident {incident_id!r} does not exist", field="incident_id")
    if incident.created_at < patrol.started_at:
        raise Invalid(f"incident {incident_id} was reported before patrol {patrol.id}", field="incident_id")
    if session.get(PatrolReport, (patrol.id, incident_id)) is None:
        session.add(PatrolReport(patrol_id=patrol.id, incident_id=incident_id))


def reports_of(session: Session, patrol_ids: list[str]) -> dict[str, list[str]]:
    """The cases attached to each patrol."""
    rows = session.execute(
        select(PatrolReport.patrol_id, PatrolReport.incident_id).where(PatrolReport.patrol_id.in_(patrol_ids))
    )
    attached: dict[str, list[str]] = {pid: [] for pid in patrol_ids}
    for patrol_id, incident_id in rows:
        attached[patrol_id].append(incident_id)
    return attached


def own_patrol(session: Session, patrol_id: str, officer_id: str) -> Patrol:
    """The officer's own patrol by id (NotFound for anyone else's: no hint that it exists)."""
    patrol = session.get(Patrol, patrol_id)
    if patrol is None or patrol.officer_id != officer_id:
        raise NotFound(f"patrol {patrol_id!r} does not exist", field="patrol_id")
    return patrol


def ensure_open(patrol: Patrol) -> None:
    """Conflict when the patrol has ended."""
    if patrol.ended_at is not None:
        raise Conflict(f"patrol {patrol.id} has ended", field="patrol_id")


def patrols_since(session: Session, since: datetime, now: datetime) -> list[Patrol]:
    """Patrols going on at some point between `since` and now, newest first."""
    return list(
        session.scalars(
            select(Patrol)
            .where(Patrol.started_at <= now, or_(Patrol.ended_at.is_(None), Patrol.ended_at >= since))
            .order_by(Patrol.started_at.desc())
        )
    )


def in_region(grids: GridIndex, units: list[str], community: str | None, region: str) -> bool:
    """Whether a patrol passed through the region (a grid at any level) or its officer's community lies in it."""
    codes = [*units, *([community] if community else [])]
    return any(grids.find(code) is not None and region in grids.path_of(code).codes() for code in codes)


def communities_in(grids: GridIndex, region: str) -> list[str]:
    """The community codes in a region (itself if it is one; its community if it is a unit)."""
    path = grids.path_of(region)
    if path.community is not None:
        return [path.community]
    return [g.code for g in grids.by_level(Level.COMMUNITY) if region in grids.path_of(g.code).codes()]


def coverage(grids: GridIndex, region: str, visited: set[str]) -> list[Coverage]:
    """Per community of the region: its unit grids and how many of them the patrols passed through."""
    result = []
    for community in communities_in(grids, region):
        units = {g.code for g in grids.children(community) if g.level == Level.UNIT}
        result.append(Coverage(community, len(units), len(units & visited)))
    return result
