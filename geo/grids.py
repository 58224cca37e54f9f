"""The grid hierarchy (district → street → community → unit) and fast point location."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from geo.distance import EARTH_RADIUS_M


class Level(StrEnum):
    """A level of the grid hierarchy."""

    DISTRICT = "district"
    STREET = "street"
    COMMUNITY = "community"
    UNIT = "unit"


LEVELS_TOP_DOWN: tuple[Level, ...] = (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.UNIT)

PARENT_LEVEL: dict[Level, Level | None] = {
    Level.DISTRICT: None,
    Level.STREET: Level.DISTRICT,
    Level.COMMUNITY: Level.STREET,
    Level.UNIT: Level.COMMUNITY,
}


@dataclass(frozen=True)
class Grid:
    """One grid of any level, with its polygon in EPSG:4326 (lon, lat)."""

    code: str
    name: str
    level: Level
    parent_code: str | None
    geometry: Polygon | MultiPolygon
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GridPath:
    """The codes of a grid and its ancestors, one per level (None where absent)."""

    unit: str | None = None
    community: str | None = None
    street: str | None = None
    district: str | None = None

    def codes(self) -> list[str]:
        """The non-None codes, top down."""
        return [c for c in (self.district, self.street, self.community, self.unit) if c is not None]

    def at(self, level: Level) -> str | None:
        """The code at one level."""
        return getattr(self, Level(level).value)


def check_lon_lat(lon: float, lat: float) -> None:
    """Raise ValueError naming the value if (lon, lat) is not a finite WGS-84 position."""
    if not (math.isfinite(lon) and -180.0 <= lon <= 180.0):
        raise ValueError(f"longitude {lon!r} is not a finite value in [-180, 180]")
    if not (math.isfinite(lat) and -90.0 <= lat <= 90.0):
        raise ValueError(f"latitude {lat!r} is not a finite value in [-90, 90]")


def check_lon_lat_arrays(lons: Any, lats: Any) -> tuple[np.ndarray, np.ndarray]:
    """Return lons, lats as float arrays; ValueError naming the first bad value."""
    x = np.asarray(lons, dtype=float).ravel()
    y = np.asarray(lats, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"{x.size} longitudes but {y.size} latitudes")
    bad_x = ~(np.isfinite(x) & (x >= -180.0) & (x <= 180.0))
    if bad_x.any():
        i = int(np.argmax(bad_x))
        raise ValueError(f"longitude {x[i]!r} at index {i} is not a finite value in [-180, 180]")
    bad_y = ~(np.isfinite(y) & (y >= -90.0) & (y <= 90.0))
    if bad_y.any():
        i = int(np.argmax(bad_y))
        raise ValueError(f"latitude {y[i]!r} at index {i} is not a finite value in [-90, 90]")
    return x, y


def naive_locate(grids: Iterable[Grid], lon: float, lat: float) -> str | None:
    """Smallest unit code covering the point, by looping over every polygon (benchmark baseline)."""
    point = Point(lon, lat)
    hits = [g.code for g in grids if g.level == Level.UNIT and g.geometry.covers(point)]
    return min(hits) if hits else None


class GridIndex:
    """All grids of a city with an STRtree over unit grids."""

    def __init__(self, grids: Iterable[Grid], version: str = "1"):
        self.version = version
        self._grids: dict[str, Grid] = {}
        for grid in grids:
            if grid.code in self._grids:
                raise ValueError(f"duplicate grid code {grid.code}")
            self._grids[grid.code] = grid
        self._children: dict[str, list[Grid]] = {}
        for grid in sorted(self._grids.values(), key=lambda g: g.code):
            if grid.parent_code is not None:
                self._children.setdefault(grid.parent_code, []).append(grid)
        units = sorted(self.by_level(Level.UNIT), key=lambda g: g.code)
        self.unit_codes: np.ndarray = np.array([g.code for g in units], dtype=object)
        self._unit_geoms = np.array([g.geometry for g in units], dtype=object)
        shapely.prepare(self._unit_geoms)
        # Tree index i is the rank of the unit code, so the smallest index is the smallest code.
        self._tree = shapely.STRtree(self._unit_geoms)
        self._unit_paths: list[GridPath] = [self.path_of(g.code) for g in units]
        self._buckets = _BucketIndex(self._unit_geoms, self._tree)

    def __len__(self) -> int:
        return len(self._grids)

    def __iter__(self) -> Iterator[Grid]:
        return iter(self._grids.values())

    def get(self, code: str) -> Grid:
        """The grid with this code; KeyError naming the code."""
        try:
            return self._grids[code]
        except KeyError:
            raise KeyError(f"no grid with code {code!r}") from None

    def find(self, code: str) -> Grid | None:
        """The grid with this code, or None."""
        return self._grids.get(code)

    def children(self, code: str) -> list[Grid]:
        """Direct children of a grid, sorted by code."""
        return list(self._children.get(code, ()))

    def by_level(self, level: Level) -> list[Grid]:
        """All grids of one level, sorted by code."""
        level = Level(level)
        return sorted((g for g in self._grids.values() if g.level == level), key=lambda g: g.code)

    def path_of(self, code: str) -> GridPath:
        """The path of any grid: itself and its ancestors."""
        codes: dict[str, str] = {}
        grid: Grid | None = self.get(code)
        seen: set[str] = set()
        while grid is not None and grid.code not in seen:
            seen.add(grid.code)
            codes.setdefault(grid.level.value, grid.code)
            grid = self._grids.get(grid.parent_code) if grid.parent_code else None
        return GridPath(**codes)

    def locate(self, lon: float, lat: float) -> GridPath | None:
        """Path of the unit grid covering the point (smallest code on a shared border); None outside."""
        if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):  # also catches NaN
            check_lon_lat(lon, lat)
        i = self._buckets.locate(lon, lat)
        return self._unit_paths[i] if i >= 0 else None

    def locate_codes(self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray) -> np.ndarray:
        """Vectorised locate: index into self.unit_codes per point, -1 outside every unit grid."""
        x, y = check_lon_lat_arrays(lons, lats)
        return self._buckets.locate_many(x, y)

    def locate_many(
        self, lons: Sequence[float] | np.ndarray, lats: Sequence[float] | np.ndarray
    ) -> list[GridPath | None]:
        """Vectorised locate returning one GridPath (or None) per point."""
        paths = self._unit_paths
        return [paths[i] if i >= 0 else None for i in self.locate_codes(lons, lats).tolist()]

    def covering_units(self, lon: float, lat: float) -> list[str]:
        """Every unit grid covering the point, sorted by code."""
        check_lon_lat(lon, lat)
        hits = self._tree.query(Point(lon, lat), predicate="intersects")
        return [self.unit_codes[i] for i in np.sort(hits)]

    def border_distance_m(self, lon: float, lat: float) -> float:
        """Metres from the point to the boundary of its unit grid; inf outside every unit grid."""
        path = self.locate(lon, lat)
        if path is None or path.unit is None:  # a located path always names its unit
            return math.inf
        geometry = self.get(path.unit).geometry
        metres_per_deg = EARTH_RADIUS_M * math.pi / 180.0
        scale = np.array([metres_per_deg * math.cos(math.radians(lat)), metres_per_deg])
        local = shapely.transform(geometry.boundary, lambda xy: (xy - (lon, lat)) * scale)
        return float(local.distance(Point(0.0, 0.0)))


# The raw ufunc skips the Python wrapper (~1 µs per call); same semantics.
_intersects_xy = getattr(shapely.lib, "intersects_xy", shapely.intersects_xy)


class _BucketIndex:
    """A uniform lattice of buckets over the unit grids: each bucket knows its answer or its candidates.

    Unit indices are code ranks, so the first covering candidate (ascending) is the smallest code.
    """

    BUCKETS_PER_UNIT = 16
    MAX_BUCKETS = 2_000_000
    EPS = 1e-9  # bucket boxes are grown by this many degrees so float binning can never miss a unit

    def __init__(self, geoms: np.ndarray, tree: shapely.STRtree):
        self.geoms = geoms
        n = len(geoms)
        bounds = shapely.bounds(geoms) if n else np.zeros((0, 4))
        self.ux0, self.uy0, self.ux1, self.uy1 = (bounds[:, k].copy() for k in range(4))
        envelope_area = (self.ux1 - self.ux0) * (self.uy1 - self.uy0)
        self.is_box = (
            (
                (shapely.get_type_id(geoms) == 3)
                & (shapely.get_num_interior_rings(geoms) == 0)
                & np.isclose(shapely.area(geoms), envelope_area, rtol=1e-12, atol=0.0)
            )
            if n
            else np.zeros(0, dtype=bool)
        )
        self._build_lattice(bounds, tree)
        self._box_list = self.is_box.tolist()
        self._bounds_list = bounds.tolist()

    def _build_lattice(self, bounds: np.ndarray, tree: shapely.STRtree) -> None:
        """Classify every bucket: a sure unit index, -1 (empty) or -2 (test candidates)."""
        n = len(bounds)
        if n == 0:
            self.minx = self.miny = self.maxx = self.maxy = 0.0
            self.nbx = self.nby = 1
            self.inv_bx = self.inv_by = 1.0
            self.sure = np.full(1, -1, dtype=np.int64)
            self.cand_start = np.zeros(2, dtype=np.int64)
            self.cand_units = np.zeros(0, dtype=np.int64)
            self._sure_list, self._cands = [-1], {}
            return
        self.minx, self.miny = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        self.maxx, self.maxy = float(bounds[:, 2].max()), float(bounds[:, 3].max())
        width, height = max(self.maxx - self.minx, 1e-9), max(self.maxy - self.miny, 1e-9)
        size = math.sqrt(width * height / min(self.BUCKETS_PER_UNIT * n, self.MAX_BUCKETS))
        self.nbx, self.nby = int(width / size) + 1, int(height / size) + 1
        bx, by = width / self.nbx, height / self.nby
        self.inv_bx, self.inv_by = 1.0 / bx, 1.0 / by
        iy, ix = np.divmod(np.arange(self.nbx * self.nby), self.nbx)
        x0, y0 = self.minx + ix * bx, self.miny + iy * by
        boxes = shapely.box(x0 - self.EPS, y0 - self.EPS, x0 + bx + self.EPS, y0 + by + self.EPS)
        bucket_idx, unit_idx = tree.query(boxes, predicate="intersects")
        order = np.lexsort((unit_idx, bucket_idx))
        bucket_idx, unit_idx = bucket_idx[order], unit_idx[order]
        counts = np.bincount(bucket_idx, minlength=len(boxes))
        self.cand_start = np.concatenate(([0], np.cumsum(counts)))
        self.cand_units = unit_idx
        sure = np.where(counts == 0, -1, -2).astype(np.int64)
        single = np.flatnonzero(counts == 1)
        only = unit_idx[self.cand_start[single]]
        covered = shapely.covers(self.geoms[only], boxes[single])
        sure[single[covered]] = only[covered]
        self.sure = sure
        self._sure_list = sure.tolist()
        starts = self.cand_start.tolist()
        units = unit_idx.tolist()
        self._cands = {int(b): units[starts[b] : starts[b + 1]] for b in np.flatnonzero(sure == -2)}

    def locate(self, x: float, y: float) -> int:
        """Index of the smallest-code unit covering (x, y), -1 if none."""
        if x < self.minx or x > self.maxx or y < self.miny or y > self.maxy:
            return -1
        ix = min(int((x - self.minx) * self.inv_bx), self.nbx - 1)
        iy = min(int((y - self.miny) * self.inv_by), self.nby - 1)
        bucket = iy * self.nbx + ix
        answer = self._sure_list[bucket]
        if answer != -2:
            return answer
        is_box, bounds, geoms = self._box_list, self._bounds_list, self.geoms
        for u in self._cands[bucket]:
            if is_box[u]:
                x0, y0, x1, y1 = bounds[u]
                if x0 <= x <= x1 and y0 <= y <= y1:
                    return u
            elif _intersects_xy(geoms[u], x, y):
                return u
        return -1

    def locate_many(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vectorised locate over float arrays."""
        result = np.full(x.size, -1, dtype=np.int64)
        inside = np.flatnonzero((x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy))
        if inside.size == 0:
            return result
        xi, yi = x[inside], y[inside]
        ix = np.minimum(((xi - self.minx) * self.inv_bx).astype(np.int64), self.nbx - 1)
        iy = np.minimum(((yi - self.miny) * self.inv_by).astype(np.int64), self.nby - 1)
        bucket = iy * self.nbx + ix
        answer = self.sure[bucket]
        result[inside] = np.maximum(answer, -1)
        ambiguous = answer == -2
        if ambiguous.any():
            self._resolve(result, inside[ambiguous], bucket[ambiguous], x, y)
        return result

    def _resolve(
        self, result: np.ndarray, points: np.ndarray, buckets: np.ndarray, x: np.ndarray, y: np.ndarray
    ) -> None:
        """Test each ambiguous point against its bucket's candidates; keep the first (smallest) hit."""
        starts = self.cand_start[buckets]
        counts = self.cand_start[buckets + 1] - starts
        pt = np.repeat(points, counts)
        first_of_point = np.repeat(np.cumsum(counts) - counts, counts)
        unit = self.cand_units[np.repeat(starts, counts) + np.arange(pt.size) - first_of_point]
        px, py = x[pt], y[pt]
        hit = np.empty(pt.size, dtype=bool)
        box = self.is_box[unit]
        ub = unit[box]
        hit[box] = (
            (px[box] >= self.ux0[ub])
            & (px[box] <= self.ux1[ub])
            & (py[box] >= self.uy0[ub])
            & (py[box] <= self.uy1[ub])
        )
        other = ~box
        hit[other] = shapely.intersects_xy(self.geoms[unit[other]], px[other], py[other])
        hp, hu = pt[hit], unit[hit]
        first = np.ones(hp.size, dtype=bool)
        first[1:] = hp[1:] != hp[:-1]
        result[hp[first]] = hu[first]
