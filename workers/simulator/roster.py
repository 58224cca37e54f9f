"""The roster being moved: one patrol per officer with an enrolled tracker, how its app reports, and who is on duty
where. The trackers' identifiers (officer id → identifier) come from whoever enrolled them (`gridcommand demo`, or
`gridcommand devices add` for `python -m workers.simulator --devices FILE`); the server never lists them."""

from __future__ import annotations

import math
import random
import time
import zlib
from collections.abc import Mapping, Sequence
from typing import Any

from geo.grids import Grid, GridIndex, Level

from .patrols import Fix, Patrol

OFF_DUTY = frozenset({"off_duty", "on_leave", "inactive", "disabled"})
FORMAT_WEIGHTS = {"get": 75, "form": 15, "json": 10}  # how trackers send OsmAnd fixes: query, form POST, JSON
P_DUPLICATE_FIX = 0.01
P_OUT_OF_ORDER_FIX = 0.01


def lon_lat(position: Mapping[str, Any]) -> tuple[float, float] | None:
    """(lon, lat) from a roster position in any of the usual spellings."""
    lon = position.get("lon", position.get("longitude", position.get("lng")))
    lat = position.get("lat", position.get("latitude"))
    try:
        lon, lat = float(lon), float(lat)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


class Roster:
    """The officers the simulator moves (at most `max_officers`, only those in `devices`), keyed by their tracker's
    identifier."""

    def __init__(
        self,
        grids: GridIndex,
        communities: Sequence[Grid],
        rng: random.Random,
        *,
        max_officers: int,
        fix_interval_s: float,
        devices: Mapping[str, str] | None = None,
    ):
        self.grids = grids
        self.communities = list(communities)  # patrol areas for officers without a known community
        self.rng = rng
        self.max_officers = max_officers
        self.fix_interval = fix_interval_s
        self.devices = dict(devices or {})  # officer id -> the identifier of the tracker enrolled for them
        self.patrols: dict[str, Patrol] = {}
        self.patrol_list: list[Patrol] = []
        self.formats: dict[str, str] = {}
        self.last_fix: dict[str, Fix] = {}
        self.by_department: dict[str, list[str]] = {}  # on-duty officer ids per department (dispatch assignees)

    def install(self, items: Sequence[Mapping[str, Any]], now: float) -> list[tuple[Patrol, float]]:
        """Start patrols for entries not yet moving; the new patrols with the time of their first fix (staggered)."""
        usable = [o for o in items if isinstance(o, Mapping) and self.tracker_of(o)]
        active = [o for o in usable if str(o.get("status") or "").lower() not in OFF_DUTY]
        chosen = (active or usable)[: self.max_officers]
        self.by_department = self._on_duty_by_department(active)
        new = [o for o in chosen if self.tracker_of(o) not in self.patrols]
        slots = max(1, len(chosen))
        started = []
        for officer in new:
            patrol = self.patrol_for(officer)
            if patrol is None:
                continue
            self.patrols[patrol.device_id] = patrol
            self.formats[patrol.device_id] = self.rng.choices(list(FORMAT_WEIGHTS), list(FORMAT_WEIGHTS.values()))[0]
            # stagger: officer k of n starts k/n of an interval later, so the load is smooth
            started.append((patrol, now + self.fix_interval * ((len(self.patrols) - 1) % slots) / slots))
        self.patrol_list = list(self.patrols.values())
        return started

    def tracker_of(self, officer: Mapping[str, Any]) -> str | None:
        """The identifier of the officer's enrolled tracker (None: the officer cannot report positions)."""
        return self.devices.get(str(officer.get("id") or ""))

    @staticmethod
    def _on_duty_by_department(active: Sequence[Mapping[str, Any]]) -> dict[str, list[str]]:
        by_department: dict[str, list[str]] = {}
        for o in active:
            if o.get("department_code") and o.get("id"):
                by_department.setdefault(str(o["department_code"]), []).append(str(o["id"]))
        return by_department

    def patrol_for(self, officer: Mapping[str, Any]) -> Patrol | None:
        """A patrol in the officer's home community (else where they are, else a stable pick); None without any."""
        position = officer.get("position") or None
        start = lon_lat(position) if isinstance(position, Mapping) else None
        community = self._home_community(officer, start)
        if community is None:
            return None
        tracker = self.tracker_of(officer)
        if tracker is None:
            return None
        rng = random.Random(f"{self.rng.random()}:{officer.get('id')}")
        return Patrol(
            tracker,
            str(officer.get("name") or ""),
            officer.get("role"),
            community.geometry,
            rng,
            start=start,
            now=time.time(),
            officer_id=str(officer.get("id") or "") or None,
        )

    def _home_community(self, officer: Mapping[str, Any], start: tuple[float, float] | None) -> Grid | None:
        community = self.grids.find(str(officer.get("grid_community") or ""))
        if community is None or community.level != Level.COMMUNITY:
            path = self.grids.locate(*start) if start else None
            community = self.grids.find(path.community) if path and path.community else None
        if community is None and self.communities:
            key = str(officer.get("id") or "").encode()
            community = self.communities[zlib.crc32(key) % len(self.communities)]
        return community

    def reports(self, patrol: Patrol, now: float) -> list[tuple[Fix, str]]:
        """The next fix as the officer's app sends it (fix, encoding); now and then twice, or with an older one late."""
        with patrol.lock:
            fix = patrol.fix(now)
            previous = self.last_fix.get(patrol.device_id)
            self.last_fix[patrol.device_id] = fix
            roll = patrol.rng.random()
        sent = [(fix, self.formats.get(patrol.device_id, "get"))]
        if roll < P_DUPLICATE_FIX:
            sent.append((fix, "get"))  # the app retried: the very same fix twice
        elif roll < P_DUPLICATE_FIX + P_OUT_OF_ORDER_FIX and previous is not None:
            sent.append((previous, "get"))  # a buffered older fix arrives late (out of order)
        return sent
