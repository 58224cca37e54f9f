"""The command center's incident feed: compact map records, the initial open set, catch-up from the outbox."""

from __future__ import annotations

from datetime import datetime

from flask import has_app_context
from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.clocks import is_overdue, light
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES
from dispatcher.cases.scope import can_see_event, scope_clause
from dispatcher.city.loader import City
from dispatcher.store.outbox import OutboxEvent, since
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02

MAX_OPEN_ON_MAP = 5000
# a compact record needs none of an incident's collections: not loaded with it (the timeline's JSON was most of the
# time of reading the open set)
WITHOUT_COLLECTIONS = (lazyload(Incident.timeline), lazyload(Incident.partners))
CATCH_UP_BATCH = 1000
GCJ_HOSTS = ("amap.com", "autonavi.com", "gtimg.com", "qq.com", "tencent")
BD_HOSTS = ("baidu.com", "bdimg.com")


def display_crs(tile_url: str | None, tile_crs: str | None = None) -> str:
    """The coordinate system the base map is drawn in: wgs84 (default, no tiles), gcj02 (AMap/Tencent) or bd09.

    `tile_crs` (GRIDCOMMAND_TILE_CRS) overrides the guess from the URL's host, e.g. an intranet AMap mirror;
    left out, the running app's setting applies (outside an app: none)."""
    override = tile_crs or _configured_tile_crs()
    if override:
        return override
    url = (tile_url or "").lower()
    if any(h in url for h in BD_HOSTS):
        return "bd09"
    if any(h in url for h in GCJ_HOSTS):
        return "gcj02"
    return "wgs84"


def _configured_tile_crs() -> str | None:
    """GRIDCOMMAND_TILE_CRS of the running app, if this is called inside one."""
    return current_runtime().settings.tile_crs if has_app_context() else None


def to_display(lon: float, lat: float, crs: str) -> tuple[float, float]:
    """A stored WGS-84 point as drawn on the base map (the only place coordinates are shifted)."""
    if crs == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if crs == "bd09":
        return wgs84_to_bd09(lon, lat)
    return lon, lat


def compact(incident: Incident, city: City, now: datetime, crs: str = "wgs84") -> dict:
    """The few fields the map and the queue need, keyed short (sent for every incident)."""
    category = city.catalogue.find_category(incident.category_code) if incident.category_code else None
    lon, lat = (None, None) if incident.lon is None else to_display(incident.lon, incident.lat, crs)
    signal = light(city, incident, now)
    return {
        "id": incident.id,
        "n": incident.case_number,
        "lon": lon,
        "lat": lat,
        "s": incident.status,
        "u": incident.urgency,
        "o": is_overdue(incident, now),
        "l": str(signal) if signal else None,
        "c": incident.category_code,
        "cn": category.name_zh if category else None,
        "ce": category.name_en if category else None,
        "st": incident.grid_street,
        "cm": incident.grid_community,
        "d": (incident.description or "")[:80],
        "t": incident.created_at.isoformat(),
        "dl": incident.stage_deadline.isoformat() if incident.stage_deadline else None,
        "dep": incident.department_code,
    }


def last_seq(session: Session) -> int:
    """The newest outbox sequence number (0 when empty)."""
    return session.scalar(select(func.max(OutboxEvent.id))) or 0


def open_incidents(
    session: Session, city: City, now: datetime, crs: str, principal: Principal
) -> tuple[dict[str, dict], int]:
    """Every open incident the principal may see as compact records, and the sequence number they are current up to."""
    seq = last_seq(session)  # read first: anything newer is replayed by the first catch-up (idempotent)
    query = (
        select(Incident)
        .where(Incident.status.in_([str(s) for s in OPEN_STATUSES]), scope_clause(principal))
        .order_by(Incident.created_at.desc())
        .limit(MAX_OPEN_ON_MAP)
        .options(*WITHOUT_COLLECTIONS)
    )
    return {i.id: compact(i, city, now, crs) for i in session.scalars(query)}, seq


def catch_up(
    session: Session, city: City, after_seq: int, now: datetime, crs: str, principal: Principal
) -> tuple[dict[str, dict], list[str], int]:
    """Incidents changed after `after_seq`, re-read as they are now: (upserts, ids no longer open, new last seq).

    Only events of the principal's scope count, and their incidents are re-read inside the scope: an incident
    that has left the scope since (or closed) is reported as gone, never shown.
    """
    events = since(session, after_seq, CATCH_UP_BATCH)
    if not events:
        return {}, [], after_seq
    ids = {e.incident_id for e in events if e.incident_id and can_see_event(principal, list(e.scope or []))}
    query = select(Incident).where(Incident.id.in_(ids), scope_clause(principal)).options(*WITHOUT_COLLECTIONS)
    rows = session.scalars(query) if ids else []
    upserts = {i.id: compact(i, city, now, crs) for i in rows if i.state in OPEN_STATUSES}
    gone = sorted(ids - set(upserts))
    return upserts, gone, events[-1].id
