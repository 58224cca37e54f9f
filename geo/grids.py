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


PREPARE_MIN_COORDS = 200  # below this a prepared polygon answers a point no faster than a plain one

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
        units = self.by_level(Level.UNIT)
        self.unit_codes: np.ndarray = np.array([g.code for g in units], dtype=object)
        self._unit_geoms = np.array([g.geometry for g in units], dtype=object)
        # Preparing pays off only for large polygons; it costs ~600 bytes a unit once GEOS has used it.
        shapely.prepare(self._unit_geoms[shapely.get_num_coordinates(self._unit_geoms) >= PREPARE_MIN_COORDS])
        # Tree index i is the rank of the unit code, so the smallest index is the smallest code.
        self._tree = shapely.STRtree(self._unit_geoms)
        self._unit_paths = self._paths_of_units(units)
        self._buckets = _BucketIndex(self._unit_geoms)

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

    def _paths_of_units(self, units: list[Grid]) -> list[GridPath]:
        """path_of every unit, walking each parent's ancestors once: path_of(unit) is its parent's with the unit."""
        parents: dict[str, GridPath] = {}
        paths = []
        for unit in units:
            parent = unit.parent_code
            if parent is None or parent not in self._grids:
                paths.append(GridPath(unit=unit.code))
                continue
            above = parents.get(parent) or parents.setdefault(parent, self.path_of(parent))
            paths.append(GridPath(unit.code, above.community, above.street, above.district))
        return paths

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


def _expand(first: np.ndarray, count: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row i repeated count[i] times: (i, first[i]), (i, first[i] + 1), ... as two arrays."""
    owner = np.repeat(np.arange(count.size), count)
    return owner, np.arange(owner.size) - np.repeat(np.cumsum(count) - count - first, count)


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy's hash-based unique is slower here)."""
    values = np.sort(values, kind="stable")
    return values[np.r_[True, values[1:] != values[:-1]]]


class _BucketIndex:
    """A uniform lattice of cells over the unit grids, held in int32 arrays.

    `sure[cell]` is the unit index covering the whole cell, -1 for no unit, or -2 - slot for a cell that some unit
    boundary crosses; its candidates are `cand_units[cand_start[slot]:cand_start[slot + 1]]`, ascending. Unit
    indices are code ranks, so the first covering candidate is the smallest code. Built from the polygons' edges:
    cells an edge touches are ambiguous; the rest are filled row by row (even-odd rule at cell centres).
    """

    CELLS_PER_UNIT = 32
    MAX_CELLS = 4_000_000
    EPS = 1e-9  # cells are grown by this many degrees so float binning can never miss a unit

    def __init__(self, geoms: np.ndarray):
        self.geoms = geoms
        self._geom_list = list(geoms)
        bounds = shapely.bounds(geoms) if len(geoms) else np.zeros((1, 4))
        self._frame(bounds, len(geoms))
        n_cells = self.nbx * self.nby
        sure = np.full(n_cells, -1, dtype=np.int32)
        starts, cands = np.zeros(1, dtype=np.int32), np.zeros(0, dtype=np.int32)
        if len(geoms):
            starts, cands = self._fill(sure, geoms)
        self.sure, self.cand_start, self.cand_units = sure, starts, cands
        self._sure_mv, self._start_mv, self._cand_mv = sure.data, starts.data, cands.data

    def _frame(self, bounds: np.ndarray, n: int) -> None:
        """Place the lattice over the units' bounding box: about CELLS_PER_UNIT square cells per unit."""
        self.minx, self.miny = float(bounds[:, 0].min()), float(bounds[:, 1].min())
        self.maxx, self.maxy = float(bounds[:, 2].max()), float(bounds[:, 3].max())
        width, height = max(self.maxx - self.minx, 1e-9), max(self.maxy - self.miny, 1e-9)
        size = math.sqrt(width * height / max(1, min(self.CELLS_PER_UNIT * n, self.MAX_CELLS)))
        self.nbx, self.nby = int(width / size) + 1, int(height / size) + 1
        self.bx, self.by = width / self.nbx, height / self.nby
        self.inv_bx, self.inv_by = 1.0 / self.bx, 1.0 / self.by

    def _fill(self, sure: np.ndarray, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Write the cells inside units into `sure`; return the candidates of cells that edges cross (CSR)."""
        n = len(geoms)
        edges = _edges(geoms)
        step = 100_000  # edges at a time, which bounds the memory the build needs for a while
        crossed = _sorted_unique(
            np.concatenate([self._crossed([a[i : i + step] for a in edges], n) for i in range(0, edges[0].size, step)])
        )
        is_crossed = np.zeros(sure.size, dtype=bool)
        is_crossed[crossed // n] = True
        first, end, unit = self._spans(edges)
        count = _painted(first, end, np.ones(unit.size, dtype=np.int64), sure.size)
        best = np.where(count == 1, _painted(first, end, unit + 1, sure.size) - 1, n)
        cell, cell_unit = _cells_of_spans(first, end, unit, count > 1)  # inside overlapping units
        np.minimum.at(best, cell, cell_unit)  # the smallest code wins
        clear = ~is_crossed & (best < n)
        sure[clear] = best[clear]
        alone = np.flatnonzero(is_crossed & (count == 1))  # a unit around the cell whose edges miss it
        overlap = is_crossed[cell]
        keys = np.concatenate([crossed, alone * n + best[alone], cell[overlap] * n + cell_unit[overlap]])
        keys = _sorted_unique(keys)
        cell_of, units = np.divmod(keys, n)
        start = np.flatnonzero(np.r_[True, cell_of[1:] != cell_of[:-1]])
        sure[cell_of[start]] = -2 - np.arange(start.size, dtype=np.int32)
        return np.append(start, keys.size).astype(np.int32), units.astype(np.int32)

    def _crossed(self, edges: list[np.ndarray], n: int) -> np.ndarray:
        """Keys cell * n + unit of every (grown) cell an edge touches, column by column along the edge."""
        x0, y0, x1, y1, owner = edges
        e = 2 * self.EPS
        lox, hix = np.minimum(x0, x1), np.maximum(x0, x1)
        c0 = np.clip(((lox - e - self.minx) * self.inv_bx).astype(np.int64), 0, self.nbx - 1)
        c1 = np.clip(((hix + e - self.minx) * self.inv_bx).astype(np.int64), 0, self.nbx - 1)
        edge, col = _expand(c0, c1 - c0 + 1)
        lo = np.maximum(lox[edge], self.minx + col * self.bx - e)
        hi = np.minimum(hix[edge], self.minx + (col + 1) * self.bx + e)
        dx = (x1 - x0)[edge]
        slope = np.divide((y1 - y0)[edge], dx, out=np.zeros_like(dx), where=dx != 0)
        ya = np.where(dx != 0, y0[edge] + (lo - x0[edge]) * slope, y0[edge])
        yb = np.where(dx != 0, y0[edge] + (hi - x0[edge]) * slope, y1[edge])
        r0 = np.clip(((np.minimum(ya, yb) - e - self.miny) * self.inv_by).astype(np.int64), 0, self.nby - 1)
        r1 = np.clip(((np.maximum(ya, yb) + e - self.miny) * self.inv_by).astype(np.int64), 0, self.nby - 1)
        k, row = _expand(r0, r1 - r0 + 1)
        return (row * self.nbx + col[k]) * n + owner[edge[k]]

    def _spans(self, edges: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Runs of cells [first, end) whose centres lie inside a unit, by the even-odd rule along each row."""
        x0, y0, x1, y1, owner = edges
        j0 = np.ceil((np.minimum(y0, y1) - self.miny) * self.inv_by - 0.5).astype(np.int64)
        j1 = np.ceil((np.maximum(y0, y1) - self.miny) * self.inv_by - 0.5).astype(np.int64)
        j0, j1 = np.clip(j0, 0, self.nby), np.clip(j1, 0, self.nby)
        edge, row = _expand(j0, j1 - j0)  # half-open [j0, j1): a vertex on a row is counted once
        yc = self.miny + (row + 0.5) * self.by
        xc = x0[edge] + (yc - y0[edge]) * (x1 - x0)[edge] / (y1 - y0)[edge]
        unit = owner[edge]
        order = np.argsort((unit * self.nby + row) + 1j * xc, kind="stable")  # complex: by (unit, row), then x
        xc, row, unit = xc[order], row[order][0::2], unit[order][0::2]
        i0 = np.maximum(np.ceil((xc[0::2] - self.minx) * self.inv_bx - 0.5).astype(np.int64), 0)
        i1 = np.minimum(np.floor((xc[1::2] - self.minx) * self.inv_bx - 0.5).astype(np.int64), self.nbx - 1)
        keep = i1 >= i0
        return (row * self.nbx + i0)[keep], (row * self.nbx + i1 + 1)[keep], unit[keep]

    def locate(self, x: float, y: float) -> int:
        """Index of the smallest-code unit covering (x, y), -1 if none."""
        if x < self.minx or x > self.maxx or y < self.miny or y > self.maxy:
            return -1
        ix = min(int((x - self.minx) * self.inv_bx), self.nbx - 1)
        iy = min(int((y - self.miny) * self.inv_by), self.nby - 1)
        answer = self._sure_mv[iy * self.nbx + ix]
        if answer >= -1:
            return answer
        slot = -2 - answer
        geoms, cands = self._geom_list, self._cand_mv
        for k in range(self._start_mv[slot], self._start_mv[slot + 1]):
            if _intersects_xy(geoms[cands[k]], x, y):
                return cands[k]
        return -1

    def locate_many(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """Vectorised locate over float arrays."""
        result = np.full(x.size, -1, dtype=np.int64)
        inside = np.flatnonzero((x >= self.minx) & (x <= self.maxx) & (y >= self.miny) & (y <= self.maxy))
        if inside.size == 0:
            return result
        ix = np.minimum(((x[inside] - self.minx) * self.inv_bx).astype(np.int64), self.nbx - 1)
        iy = np.minimum(((y[inside] - self.miny) * self.inv_by).astype(np.int64), self.nby - 1)
        answer = self.sure[iy * self.nbx + ix]
        result[inside] = np.maximum(answer, -1)
        crossed = answer < -1
        if crossed.any():
            self._resolve(result, inside[crossed], -2 - answer[crossed].astype(np.int64), x, y)
        return result

    def _resolve(self, result: np.ndarray, points: np.ndarray, slots: np.ndarray, x: np.ndarray, y: np.ndarray) -> None:
        """Test each point in a crossed cell against the cell's candidates; keep the first (smallest) hit."""
        starts = self.cand_start[slots].astype(np.int64)
        pair, k = _expand(starts, self.cand_start[slots + 1] - starts)
        pt, unit = points[pair], self.cand_units[k]
        hit = shapely.intersects_xy(self.geoms[unit], x[pt], y[pt])
        hp, hu = pt[hit], unit[hit]
        first = np.diff(hp, prepend=-1) != 0
        result[hp[first]] = hu[first]


def _painted(first: np.ndarray, end: np.ndarray, weights: np.ndarray, size: int) -> np.ndarray:
    """Per cell, the sum of the weights of the runs [first, end) over it."""
    steps = np.zeros(size + 1, dtype=np.int64)
    np.add.at(steps, first, weights)
    np.add.at(steps, end, -weights)
    return np.cumsum(steps)[:size]


def _cells_of_spans(first: np.ndarray, end: np.ndarray, unit: np.ndarray, wanted: np.ndarray) -> tuple[np.ndarray, ...]:
    """(cell, unit) for every wanted cell in every run over it."""
    marks = np.concatenate(([0], np.cumsum(wanted)))
    through = np.flatnonzero(marks[end] - marks[first] > 0)
    span, cell = _expand(first[through], end[through] - first[through])
    keep = wanted[cell]
    return cell[keep], unit[through][span[keep]]


def _edges(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every ring edge of the polygons as x0, y0, x1, y1 and the index of its polygon."""
    plain = (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    owner = np.flatnonzero(plain)  # one ring each: no need to copy rings out of the polygons
    xy, ring = shapely.get_coordinates(geoms[owner], return_index=True)
    other = np.flatnonzero(~plain)
    if other.size:
        parts, part_of = shapely.get_parts(geoms[other], return_index=True)
        rings, ring_of = shapely.get_rings(parts, return_index=True)
        xy_other, ring_other = shapely.get_coordinates(rings, return_index=True)
        xy = np.concatenate([xy, xy_other])
        ring = np.concatenate([ring, ring_other + owner.size])
        owner = np.concatenate([owner, other[part_of[ring_of]]])
    same = np.flatnonzero(ring[1:] == ring[:-1])
    return xy[same, 0], xy[same, 1], xy[same + 1, 0], xy[same + 1, 1], owner[ring[same]]
