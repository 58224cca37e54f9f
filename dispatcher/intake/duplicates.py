"""Duplicate reports (DOMAIN.md pain point 1): suggest open cases a new report may repeat; the triage queue.

- `suggest`: open incidents of the same category within the category's `dup_radius_m` and `dup_window_h`
  (a bounding box on lon/lat in SQL, then the great-circle distance in Python), plus open incidents from
  the same caller (phone lookup hash) in the window; nearest first. A report with no point is compared by
  its text instead (address and description, rapidfuzz, among the recent open cases of its category).
  Never merges anything by itself.
- Merging is the lifecycle action `merge` (reported/triage/filed → merged, with `parent_id`) and un-merging
  the action `unmerge` (merged → reported); their effects live in `dispatcher.cases.merging`.
- `triage_queue`: what the engine could not place, and reported cases that look like duplicates.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import Session, lazyload

from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status
from dispatcher.city.catalogue import Catalogue, Category
from geo.distance import haversine_m

DEFAULT_WINDOW_H = 72.0  # same-caller window when the report has no (known) category
METRES_PER_DEGREE = 111_320.0
NEARBY, SAME_CALLER, NEARBY_SAME_CALLER = "nearby", "same_caller", "nearby_same_caller"
SIMILAR_TEXT = "similar_text"  # no point to measure: the address and description read alike
TEXT_MIN_SCORE = 70.0  # rapidfuzz similarity (0–100) of two reports' address + description
TEXT_MIN_CHARS = 4
TEXT_SCAN_MAX = 300  # recent open cases compared by text per suggestion
SUSPECTED_DUPLICATE = "suspected_duplicate"
TRIAGE_SCAN_MAX = 500  # reported cases checked for duplicates per triage listing


class Suggestion(NamedTuple):
    """One possible original of a report: the incident, how far away (None when either has no point), and why."""

    incident: Incident
    distance_m: float | None
    reason: str

    def brief(self) -> dict[str, Any]:
        """What an intake screen needs to offer a merge (no personal data)."""
        i = self.incident
        return {
            "id": i.id,
            "distance_m": self.distance_m,
            "reason": self.reason,
            "status": i.status,
            "category_code": i.category_code,
            "address": i.address,
            "created_at": i.created_at.isoformat() if i.created_at else None,
        }


def _category(catalogue: Catalogue, code: str | None) -> Category | None:
    if not code:
        return None
    try:
        return catalogue.category(code)
    except (KeyError, ValueError):
        return None


def _open() -> ColumnElement[bool]:
    return Incident.status.in_([str(s) for s in OPEN_STATUSES])


_NO_COLLECTIONS = (lazyload(Incident.timeline), lazyload(Incident.partners))


def _candidates(*where: ColumnElement[bool]) -> Select[Incident]:
    """Incidents matching `where`, without their timelines and partners (a suggestion needs neither; they load if
    someone reads them later)."""
    return select(Incident).where(*where).options(*_NO_COLLECTIONS)


def suggest(
    session: Session,
    *,
    catalogue: Catalogue,
    category_code: str | None,
    lon: float | None,
    lat: float | None,
    at: datetime,
    phone_hash: str | None = None,
    scope: ColumnElement[bool],
    exclude_id: str | None = None,
    limit: int = 5,
    text: str | None = None,
) -> list[Suggestion]:
    """Open incidents inside `scope` that a report (category, point, time, caller) may duplicate, nearest first.

    Same category within the category's radius and ±window of `at`; or the same caller (phone hash)
    within the window (the category's, else DEFAULT_WINDOW_H). Without a point, `text` (address and
    description) is compared with the recent open cases of the same category (any, without one): SIMILAR_TEXT.
    Unlocated matches sort last, newest first.
    """
    category = _category(catalogue, category_code)
    window = timedelta(hours=category.dup_window_h if category else DEFAULT_WINDOW_H)
    in_window = Incident.created_at.between(at - window, at + window)
    found: dict[str, Suggestion] = {}
    if category is not None and lon is not None and lat is not None:
        radius = float(category.dup_radius_m)
        dlat = radius / METRES_PER_DEGREE
        dlon = radius / (METRES_PER_DEGREE * max(math.cos(math.radians(lat)), 0.01))
        query = _candidates(
            _open(),
            scope,
            in_window,
            Incident.category_code == category.code,
            Incident.lon.between(lon - dlon, lon + dlon),
            Incident.lat.between(lat - dlat, lat + dlat),
        )
        if exclude_id:
            query = query.where(Incident.id != exclude_id)
        for incident in session.scalars(query):
            if incident.lon is None or incident.lat is None:  # never: the bounding box excludes unlocated rows
                continue
            distance = haversine_m(lon, lat, incident.lon, incident.lat)
            if distance <= radius:
                found[incident.id] = Suggestion(incident, round(distance, 1), NEARBY)
    if phone_hash:
        query = _candidates(_open(), scope, in_window, Incident.reporter_phone_hash == phone_hash)
        if exclude_id:
            query = query.where(Incident.id != exclude_id)
        for incident in session.scalars(query):
            if incident.id in found:
                found[incident.id] = found[incident.id]._replace(reason=NEARBY_SAME_CALLER)
                continue
            distance_m = None
            if lon is not None and lat is not None and incident.lon is not None and incident.lat is not None:
                distance_m = round(haversine_m(lon, lat, incident.lon, incident.lat), 1)
            found[incident.id] = Suggestion(incident, distance_m, SAME_CALLER)

    if (lon is None or lat is None) and text and len(_clean(text)) >= TEXT_MIN_CHARS:
        query = _candidates(_open(), scope, in_window).order_by(Incident.created_at.desc())
        if category is not None:
            query = query.where(Incident.category_code == category.code)
        if exclude_id:
            query = query.where(Incident.id != exclude_id)
        for incident in session.scalars(query.limit(TEXT_SCAN_MAX)):
            if incident.id not in found and text_similarity(text, _text_of(incident)) >= TEXT_MIN_SCORE:
                found[incident.id] = Suggestion(incident, None, SIMILAR_TEXT)

    def order(s: Suggestion) -> tuple[bool, float, float, str]:
        return (s.distance_m is None, s.distance_m or 0.0, -s.incident.created_at.timestamp(), s.incident.id)

    return sorted(found.values(), key=order)[: max(0, limit)]


def _clean(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKC", text).lower() if c.isalnum())


def _text_of(incident: Incident) -> str:
    return f"{incident.address or ''} {incident.description or ''}"


def text_similarity(a: str, b: str) -> float:
    """How alike two reports read (0–100): punctuation and spaces ignored, the shorter one found in the longer
    counts most (a caller repeats part of what the first caller said)."""
    a, b = _clean(a), _clean(b)
    if min(len(a), len(b)) < TEXT_MIN_CHARS:
        return 0.0
    return max(float(fuzz.ratio(a, b)), 0.9 * float(fuzz.partial_ratio(a, b)))


def suggest_for(
    session: Session, incident: Incident, *, catalogue: Catalogue, scope: ColumnElement[bool], limit: int = 5
) -> list[Suggestion]:
    """`suggest` for a stored incident (itself excluded)."""
    return suggest(
        session,
        catalogue=catalogue,
        category_code=incident.category_code,
        lon=incident.lon,
        lat=incident.lat,
        at=incident.created_at,
        phone_hash=incident.reporter_phone_hash,
        scope=scope,
        exclude_id=incident.id,
        limit=limit,
        text=_text_of(incident),
    )


# --- triage ----------------------------------------------------------------------------------------------


class TriageItem(NamedTuple):
    incident: Incident
    reason: str
    detail: str | None
    candidates: list[Suggestion]


def triage_queue(
    session: Session, *, catalogue: Catalogue, scope: ColumnElement[bool], limit: int = 200
) -> list[TriageItem]:
    """What the engine could not place (status triage, or reported but still unplaced) and reported cases
    that look like a duplicate of an earlier open one; oldest first."""
    rows = list(
        session.scalars(
            select(Incident)
            .where(scope, Incident.status.in_([str(Status.TRIAGE), str(Status.REPORTED)]))
            .order_by(Incident.created_at, Incident.id)
            .limit(TRIAGE_SCAN_MAX)
        )
    )
    items: list[TriageItem] = []
    for incident in rows:
        if incident.state is Status.TRIAGE or incident.triage_reason:
            items.append(TriageItem(incident, incident.triage_reason or "manual", incident.triage_detail, []))
            continue
        earlier = [
            s
            for s in suggest_for(session, incident, catalogue=catalogue, scope=scope)
            if (s.incident.created_at, s.incident.id) < (incident.created_at, incident.id)
        ]
        if earlier:
            ids = ", ".join(s.incident.id for s in earlier)
            items.append(TriageItem(incident, SUSPECTED_DUPLICATE, f"may repeat {ids}", earlier))
        if len(items) >= limit:
            break
    return items[:limit]
