"""Officers on patrol: walks or e-bike rides between waypoints inside their community, and their noisy fixes."""

from __future__ import annotations

import math
import random
import threading
from dataclasses import dataclass

import shapely
from shapely.geometry import LineString

from geo.distance import bearing_deg, destination, haversine_m

WALK_SPEED_MPS = (1.2, 1.6)  # grid workers on foot
EBIKE_SPEED_MPS = (4.0, 6.0)  # enforcement officers on e-bikes
JITTER_M = (3.0, 8.0)  # ordinary GPS error
POOR_ACCURACY_M = 150.0  # an occasional bad fix (indoors, urban canyon)
P_POOR_FIX = 0.03


def random_point_in(geometry, rng: random.Random, tries: int = 200) -> tuple[float, float]:
    """A uniformly random (lon, lat) inside a (prepared) polygon, by rejection in its bounding box."""
    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(tries):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if shapely.contains_xy(geometry, x, y):
            return x, y
    p = geometry.representative_point()
    return p.x, p.y


def random_offset(lon: float, lat: float, rng: random.Random, low_m: float, high_m: float) -> tuple[float, float]:
    """A point between low_m and high_m metres away from (lon, lat) in a random direction."""
    r, a = rng.uniform(low_m, high_m), rng.uniform(0.0, 2.0 * math.pi)
    return destination(lon, lat, r, math.degrees(a))


def speed_for_role(role: str | None, rng: random.Random) -> tuple[float, str]:
    """Cruising speed (m/s) and mode: enforcement rides e-bikes, everyone else walks."""
    text = (role or "").lower()
    if any(word in text for word in ("enforce", "law", "执法", "城管", "patrol_bike", "ebike")):
        return rng.uniform(*EBIKE_SPEED_MPS), "ebike"
    return rng.uniform(*WALK_SPEED_MPS), "walk"


@dataclass
class Fix:
    """One position report as a tracker app would send it."""

    device_id: str
    lon: float
    lat: float
    timestamp: float  # unix seconds
    speed_mps: float
    bearing: float
    altitude: float
    accuracy: float
    battery: float  # 0..100
    is_moving: bool
    charging: bool = False


class Patrol:
    """One officer walking or riding inside a community polygon, waypoint to waypoint on straight segments.

    The true track always stays inside the polygon: every segment is checked to be covered by it.
    Reported fixes add GPS noise on top (see :meth:`fix`).
    """

    def __init__(
        self,
        device_id: str,
        name: str,
        role: str | None,
        area,
        rng: random.Random,
        *,
        start: tuple[float, float] | None = None,
        now: float = 0.0,
        officer_id: str | None = None,
    ):
        self.device_id, self.name, self.role = device_id, name, role
        self.officer_id = officer_id or device_id
        self.area = area
        shapely.prepare(self.area)
        self.rng = rng
        self.cruise, self.mode = speed_for_role(role, rng)
        if start is None or not shapely.contains_xy(self.area, *start):
            start = random_point_in(self.area, rng)
        self.lon, self.lat = start
        self.t = now
        self.target: tuple[float, float] | None = None
        self.pause_until = now + rng.uniform(0.0, 20.0)
        self.heading = rng.uniform(0.0, 360.0)
        self.battery = rng.uniform(55.0, 100.0)
        self.charging = False
        self.altitude = rng.uniform(6.0, 18.0)
        self.speed = 0.0
        self.cruise_now = self.cruise
        self.lock = threading.Lock()  # two fixes of one officer may be in flight at once

    @property
    def position(self) -> tuple[float, float]:
        """The true (lon, lat), without GPS noise."""
        return self.lon, self.lat

    def _segment_ok(self, lon: float, lat: float) -> bool:
        return bool(self.area.covers(LineString([(self.lon, self.lat), (lon, lat)])))

    def next_waypoint(self) -> tuple[float, float] | None:
        """A random point of the community reachable in a straight line inside it (nearby preferred)."""
        reach = 400.0 if self.mode == "walk" else 900.0
        for _ in range(25):
            lon, lat = random_offset(self.lon, self.lat, self.rng, 60.0, reach)
            if shapely.contains_xy(self.area, lon, lat) and self._segment_ok(lon, lat):
                return lon, lat
        for _ in range(25):
            lon, lat = random_point_in(self.area, self.rng)
            if self._segment_ok(lon, lat):
                return lon, lat
        return None

    def advance(self, now: float) -> None:
        """Move along the path up to time `now` (seconds)."""
        dt = max(0.0, now - self.t)
        self.t = now
        self._drain_battery(dt)
        while dt > 0:
            if self.pause_until > now - dt:  # standing: checking a shop, talking to a resident
                used = min(dt, self.pause_until - (now - dt))
                dt -= used
                self.speed = 0.0
                continue
            if self.target is None:
                self.target = self.next_waypoint()
                if self.target is None:  # cornered in a sliver of the polygon: wait a little
                    self.pause_until = now + 30.0
                    self.speed = 0.0
                    return
                self.cruise_now = self.cruise * self.rng.uniform(0.9, 1.1)
            tx, ty = self.target
            remaining = haversine_m(self.lon, self.lat, tx, ty)
            speed = self.cruise_now
            step = speed * dt
            self.heading = bearing_deg(self.lon, self.lat, tx, ty) if remaining > 0 else self.heading
            if step >= remaining:
                self.lon, self.lat = tx, ty
                dt -= remaining / speed if speed > 0 else dt
                self.target = None
                # dwell at the waypoint now and then
                if self.rng.random() < 0.35:
                    self.pause_until = now - dt + self.rng.uniform(10.0, 90.0)
                self.speed = speed
            else:
                f = step / remaining
                self.lon += (tx - self.lon) * f
                self.lat += (ty - self.lat) * f
                self.speed = speed
                dt = 0.0

    def _drain_battery(self, dt: float) -> None:
        if self.charging:
            self.battery = min(100.0, self.battery + dt * 0.02)
            if self.battery >= 95.0:
                self.charging = False
        else:
            self.battery = max(1.0, self.battery - dt * (0.0015 if self.mode == "walk" else 0.002))
            if self.battery <= 15.0:
                self.charging = True  # a power bank comes out

    def fix(self, now: float) -> Fix:
        """Advance to `now` and report a noisy fix of the current position."""
        self.advance(now)
        moving = self.speed > 0 and self.pause_until <= now
        if self.rng.random() < P_POOR_FIX:
            accuracy = POOR_ACCURACY_M
            lon, lat = random_offset(self.lon, self.lat, self.rng, 20.0, POOR_ACCURACY_M)
        else:
            accuracy = round(self.rng.uniform(*JITTER_M), 1)
            lon, lat = random_offset(self.lon, self.lat, self.rng, JITTER_M[0], JITTER_M[1])
        speed = self.speed * self.rng.uniform(0.92, 1.08) if moving else 0.0
        return Fix(
            device_id=self.device_id,
            lon=lon,
            lat=lat,
            timestamp=float(int(now)),
            speed_mps=speed,
            bearing=self.heading,
            altitude=self.altitude + self.rng.uniform(-2.0, 2.0),
            accuracy=accuracy,
            battery=self.battery,
            is_moving=moving,
            charging=self.charging,
        )
