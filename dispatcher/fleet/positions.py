"""The position pipeline (pure): noise filter for GPS fixes and grid enter/exit with hysteresis."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from geo.distance import haversine_m

MAX_ACCURACY_M = 100.0  # fixes less precise than this are dropped
MAX_SPEED_MPS = 55.0  # ≈ 200 km/h between two fixes: a jump, not a journey
MAX_FUTURE_S = 300.0  # device clocks run ahead a little, not minutes
DWELL_S = 20.0  # a new grid counts once the officer has stayed in it this long...
DWELL_FIXES = 3  # ...or been seen there in this many consecutive fixes


@dataclass(frozen=True)
class Fix:
    """One GPS fix from a device, in EPSG:4326."""

    device_id: str
    at: datetime
    lon: float
    lat: float
    speed_mps: float | None = None
    heading: float | None = None
    accuracy_m: float | None = None
    altitude: float | None = None
    battery: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Track:
    """What the pipeline remembers per officer: the last accepted fix and the grid it counts as in."""

    lon: float
    lat: float
    at: datetime
    grid: str | None
    candidate: str | None = None
    candidate_since: datetime | None = None
    candidate_fixes: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "lon": self.lon,
            "lat": self.lat,
            "at": self.at.isoformat(),
            "grid": self.grid,
            "candidate": self.candidate,
            "candidate_since": self.candidate_since.isoformat() if self.candidate_since else None,
            "candidate_fixes": self.candidate_fixes,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Track:
        since = data.get("candidate_since")
        return cls(
            lon=data["lon"],
            lat=data["lat"],
            at=datetime.fromisoformat(data["at"]),
            grid=data.get("grid"),
            candidate=data.get("candidate"),
            candidate_since=datetime.fromisoformat(since) if since else None,
            candidate_fixes=data.get("candidate_fixes", 0),
        )


def rejection(fix: Fix, last: Track | None, now: datetime) -> str | None:
    """Why a fix is noise (None = keep it): poor accuracy, from the future, duplicate, out of order, impossible speed."""
    if not (math.isfinite(fix.lon) and math.isfinite(fix.lat)):
        return "coordinates are not finite"
    if fix.accuracy_m is not None and fix.accuracy_m > MAX_ACCURACY_M:
        return f"poor accuracy {fix.accuracy_m:.0f} m > {MAX_ACCURACY_M:.0f} m"
    if (fix.at - now).total_seconds() > MAX_FUTURE_S:
        return f"timestamp {fix.at.isoformat()} is in the future"
    if last is None:
        return None
    if fix.at == last.at:
        return "duplicate timestamp"
    if fix.at < last.at:
        return f"out of order: {fix.at.isoformat()} is before the last fix {last.at.isoformat()}"
    seconds = (fix.at - last.at).total_seconds()
    speed = haversine_m(last.lon, last.lat, fix.lon, fix.lat) / seconds
    if speed > MAX_SPEED_MPS:
        return f"impossible speed {speed:.0f} m/s since the last fix"
    return None


def advance(last: Track | None, fix: Fix, grid: str | None) -> tuple[Track, list[str]]:
    """The officer's new track after an accepted fix in `grid`, and the grid events it causes ("exit:X", "enter:Y").

    A move into another grid only counts after DWELL_S seconds or DWELL_FIXES fixes there, so GPS
    noise along a border does not make an officer flicker in and out.
    """
    if last is None:
        return Track(fix.lon, fix.lat, fix.at, grid), [f"enter:{grid}"] if grid else []
    if grid == last.grid:
        return Track(fix.lon, fix.lat, fix.at, grid), []
    if grid == last.candidate:
        fixes = last.candidate_fixes + 1
        since = last.candidate_since or fix.at
    else:
        fixes, since = 1, fix.at
    if fixes >= DWELL_FIXES or (fix.at - since).total_seconds() >= DWELL_S:
        events = ([f"exit:{last.grid}"] if last.grid else []) + ([f"enter:{grid}"] if grid else [])
        return Track(fix.lon, fix.lat, fix.at, grid), events
    pending = Track(fix.lon, fix.lat, fix.at, last.grid, candidate=grid, candidate_since=since, candidate_fixes=fixes)
    return pending, []
