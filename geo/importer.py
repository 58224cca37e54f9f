"""Validate and import grid polygons from GeoJSON.

Format: a GeoJSON FeatureCollection in EPSG:4326, positions (lon, lat).
Each Feature has:
  properties.code    string of digits, unique (Beijing style: a unit grid has 15 digits)
  properties.name    non-empty string
  properties.level   "district" | "street" | "community" | "unit"
  properties.parent  code of the parent grid; null only for a district.
                     A street's parent is a district, a community's a street, a unit's a community.
  any other properties (leader_name, leader_phone, households, name_en, ...) are kept as-is.
  geometry           Polygon or MultiPolygon, valid, non-empty, inside its parent;
                     grids of the same level must not overlap (touching is fine).
An optional top-level "crs" member must name EPSG:4326 or OGC CRS84.
Every problem found is reported at once in GridImportError.problems.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, shape
from shapely.validation import explain_validity

from geo.grids import LEVELS_TOP_DOWN, PARENT_LEVEL, Grid, Level

RESERVED_PROPERTIES = ("code", "name", "level", "parent")
INSIDE_TOLERANCE_DEG = 1e-7  # a child may stick out of its parent by this much (~1 cm)
OVERLAP_TOLERANCE_DEG2 = 1e-10  # same-level overlaps smaller than this (~1 m²) are ignored
M2_PER_DEG2 = 1.1e10  # rough square metres per square degree at mid latitudes, for messages only
CHINA_LON = (73.0, 136.0)
CHINA_LAT = (3.0, 54.0)
_CODE_RE = re.compile(r"^[0-9]+$")
_VALIDITY_RE = re.compile(r"^(?P<reason>[^\[]+)\[(?P<x>\S+) (?P<y>\S+)\]$")
MAX_PROBLEMS_IN_MESSAGE = 20


@dataclass(frozen=True)
class FeatureProblem:
    """One thing wrong with one feature (index -1: the collection itself)."""

    index: int
    code: str | None
    reason: str

    def __str__(self) -> str:
        if self.index < 0:
            return f"collection: {self.reason}"
        where = f"feature #{self.index}" + (f" (code {self.code})" if self.code else "")
        return f"{where}: {self.reason}"


class GridImportError(ValueError):
    """Grid GeoJSON failed validation; .problems lists every problem found."""

    def __init__(self, problems: list[FeatureProblem]):
        self.problems = list(problems)
        lines = [str(p) for p in self.problems[:MAX_PROBLEMS_IN_MESSAGE]]
        more = len(self.problems) - len(lines)
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__(f"{len(self.problems)} problem(s) in grid GeoJSON:\n" + "\n".join(lines))


@dataclass
class _Parsed:
    """A feature whose properties parsed (geometry may be None when invalid)."""

    index: int
    code: str
    name: str
    level: Level
    parent: str | None
    geometry: Polygon | MultiPolygon | None
    extra: dict[str, Any]


def load_grids(path: str | Path) -> list[Grid]:
    """Read a GeoJSON file and return its validated grids."""
    path = Path(path)
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise GridImportError([FeatureProblem(-1, None, f"{path} is not valid JSON: {exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise GridImportError([FeatureProblem(-1, None, f"{path} is not UTF-8 text: {exc}")]) from exc
    return parse_grids(collection)


def parse_grids(collection: Mapping[str, Any]) -> list[Grid]:
    """Validate a GeoJSON FeatureCollection and return its grids; GridImportError lists all problems."""
    problems: list[FeatureProblem] = []
    features = _check_collection(collection, problems)
    if features is None:
        raise GridImportError(problems)
    parsed: list[_Parsed] = []
    for index, feature in enumerate(features):
        item = _parse_feature(index, feature, problems)
        if item is not None:
            parsed.append(item)
    by_code = _check_duplicates(parsed, problems)
    _check_parents(parsed, by_code, problems)
    _check_inside_parents(parsed, by_code, problems)
    _check_overlaps(parsed, problems)
    if problems:
        problems.sort(key=lambda p: p.index)
        raise GridImportError(problems)
    return [
        Grid(code=p.code, name=p.name, level=p.level, parent_code=p.parent, geometry=p.geometry, properties=p.extra)
        for p in parsed
    ]


def _check_collection(collection: Any, problems: list[FeatureProblem]) -> list[Any] | None:
    """Features of a FeatureCollection, or None after recording why it is not one."""
    if not isinstance(collection, Mapping) or collection.get("type") != "FeatureCollection":
        kind = collection.get("type") if isinstance(collection, Mapping) else type(collection).__name__
        problems.append(FeatureProblem(-1, None, f"not a FeatureCollection (got {kind!r})"))
        return None
    crs = collection.get("crs")
    if crs is not None:
        name = str((crs.get("properties") or {}).get("name", "")) if isinstance(crs, Mapping) else str(crs)
        if not any(tag in name.upper() for tag in ("4326", "CRS84")):
            problems.append(
                FeatureProblem(-1, None, f"wrong CRS {name or crs!r}: only EPSG:4326 (lon, lat) is accepted")
            )
            return None
    features = collection.get("features")
    if not isinstance(features, list):
        problems.append(FeatureProblem(-1, None, "not a FeatureCollection: 'features' is not a list"))
        return None
    return features


def _parse_feature(index: int, feature: Any, problems: list[FeatureProblem]) -> _Parsed | None:
    """Parse one feature's properties and geometry, recording problems; None if properties are unusable."""
    if not isinstance(feature, Mapping) or feature.get("type") != "Feature":
        problems.append(FeatureProblem(index, None, "not a GeoJSON Feature"))
        return None
    props = feature.get("properties")
    if not isinstance(props, Mapping):
        problems.append(FeatureProblem(index, None, "missing properties (code, name, level, parent)"))
        return None
    raw_code = props.get("code")
    code = raw_code if isinstance(raw_code, str) and _CODE_RE.match(raw_code) else None

    def bad(reason: str) -> None:
        problems.append(
            FeatureProblem(index, code if code else (str(raw_code) if raw_code is not None else None), reason)
        )

    if code is None:
        bad(f"invalid properties.code {raw_code!r}: must be a string of digits")
    name = props.get("name")
    if not isinstance(name, str) or not name.strip():
        bad(f"invalid properties.name {name!r}: must be a non-empty string")
    level = _parse_level(props.get("level"), bad)
    parent = props.get("parent")
    if level is not None:
        if level == Level.DISTRICT and parent is not None:
            bad(f"invalid properties.parent {parent!r}: a district has no parent (null)")
        elif level != Level.DISTRICT and not (isinstance(parent, str) and _CODE_RE.match(parent)):
            bad(f"invalid properties.parent {parent!r}: a {level} needs the code of its {PARENT_LEVEL[level]}")
    geometry = _parse_geometry(feature.get("geometry"), bad)
    if code is None or level is None or not isinstance(name, str):  # each of these recorded a problem above
        return None
    extra = {k: v for k, v in props.items() if k not in RESERVED_PROPERTIES}
    return _Parsed(index, code, name, level, parent, geometry, extra)


def _parse_level(value: Any, bad: Callable[[str], None]) -> Level | None:
    """The Level named by value, or None after reporting it."""
    try:
        return Level(value)
    except ValueError:
        allowed = "|".join(level.value for level in LEVELS_TOP_DOWN)
        bad(f"invalid properties.level {value!r}: must be one of {allowed}")
        return None


def _parse_geometry(geometry: Any, bad: Callable[[str], None]) -> Polygon | MultiPolygon | None:
    """A valid shapely Polygon/MultiPolygon from a GeoJSON geometry, or None after reporting why not."""
    if not isinstance(geometry, Mapping):
        bad("missing geometry")
        return None
    kind = geometry.get("type")
    if kind not in ("Polygon", "MultiPolygon"):
        bad(f"non-polygon geometry {kind!r}: only Polygon or MultiPolygon is accepted")
        return None
    try:
        positions = _positions(geometry.get("coordinates"), depth=1 if kind == "Polygon" else 2)
    except (TypeError, ValueError) as exc:
        bad(f"malformed {kind} coordinates: {exc}")
        return None
    if positions.size == 0:
        bad(f"empty geometry: the {kind} has no coordinates")
        return None
    reason = _coordinate_problem(positions)
    if reason:
        bad(reason)
        return None
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed rings
        bad(f"malformed {kind}: {exc}")
        return None
    if geom.is_empty:
        bad(f"empty geometry: the {kind} has no area")
        return None
    if not geom.is_valid:
        bad(_validity_reason(geom))
        return None
    return geom


def _positions(coords: Any, depth: int) -> np.ndarray:
    """All (x, y) positions of nested GeoJSON coordinates as an (n, 2) float array."""
    out: list[tuple[float, float]] = []

    def walk(node: Any, level: int) -> None:
        if not isinstance(node, (list, tuple)):
            raise TypeError(f"expected a list, got {type(node).__name__}")
        if level == 0:
            for pos in node:
                if not isinstance(pos, (list, tuple)) or len(pos) < 2:
                    raise ValueError(f"position {pos!r} is not [lon, lat]")
                x, y = pos[0], pos[1]
                if (
                    isinstance(x, bool)
                    or isinstance(y, bool)
                    or not isinstance(x, (int, float))
                    or not isinstance(y, (int, float))
                ):
                    raise ValueError(f"position {pos!r} has non-numeric values")
                out.append((float(x), float(y)))
            return
        for child in node:
            walk(child, level - 1)

    walk(coords, depth)
    return np.array(out, dtype=float).reshape(-1, 2)


def _coordinate_problem(positions: np.ndarray) -> str | None:
    """Why these (lon, lat) positions are not EPSG:4326 degrees (projected, swapped, out of range), or None."""
    x, y = positions[:, 0], positions[:, 1]
    if not np.isfinite(positions).all():
        return "coordinates out of range: non-finite value"
    first = f"({x[0]:.6f}, {y[0]:.6f})"
    if (np.abs(x) > 360).any() or (np.abs(y) > 360).any():
        return f"wrong CRS: coordinates like {first} look projected (metres?); expected lon/lat degrees in EPSG:4326"
    x_is_lat = bool((np.abs(x) <= 90).all())
    y_in_lat = bool((np.abs(y) <= 90).all())
    if x_is_lat and not y_in_lat and (np.abs(y) <= 180).all():
        return f"lat/lon swapped: coordinates like {first} look like (lat, lon); GeoJSON wants (lon, lat)"
    in_china = _in_china(x, y)
    if not in_china and _in_china(y, x):
        return f"lat/lon swapped: coordinates like {first} fall in China only as (lat, lon); GeoJSON wants (lon, lat)"
    if (np.abs(x) > 180).any() or not y_in_lat:
        return f"coordinates out of range: {first} is outside lon [-180, 180] / lat [-90, 90]"
    return None


def _in_china(x: np.ndarray, y: np.ndarray) -> bool:
    """True if every position lies in China's rough bounding box."""
    return bool(((x >= CHINA_LON[0]) & (x <= CHINA_LON[1]) & (y >= CHINA_LAT[0]) & (y <= CHINA_LAT[1])).all())


def _validity_reason(geom: Any) -> str:
    """A readable reason for an invalid polygon, from explain_validity."""
    text = explain_validity(geom)
    match = _VALIDITY_RE.match(text)
    if not match:
        return f"invalid polygon: {text}"
    reason, at = match["reason"].strip(), f"({float(match['x']):.7g}, {float(match['y']):.7g})"
    if reason.lower().startswith("self-intersection"):
        return f"invalid polygon: polygon is self-intersecting at {at}"
    return f"invalid polygon: {reason} at {at}"


def _check_duplicates(parsed: list[_Parsed], problems: list[FeatureProblem]) -> dict[str, _Parsed]:
    """Map code → first feature, reporting every later duplicate."""
    by_code: dict[str, _Parsed] = {}
    for item in parsed:
        first = by_code.get(item.code)
        if first is not None:
            problems.append(
                FeatureProblem(
                    item.index, item.code, f"duplicate code {item.code} (first used by feature #{first.index})"
                )
            )
        else:
            by_code[item.code] = item
    return by_code


def _check_parents(parsed: list[_Parsed], by_code: dict[str, _Parsed], problems: list[FeatureProblem]) -> None:
    """Report unknown parents and parents of the wrong level."""
    for item in parsed:
        if item.level == Level.DISTRICT or item.parent is None:
            continue
        parent = by_code.get(item.parent)
        if parent is None:
            problems.append(FeatureProblem(item.index, item.code, f"unknown parent {item.parent}"))
            continue
        wanted = PARENT_LEVEL[item.level]
        if parent.level != wanted:
            problems.append(
                FeatureProblem(
                    item.index,
                    item.code,
                    f"parent {item.parent} has the wrong level: it is a {parent.level}, a {item.level}'s parent must be a {wanted}",
                )
            )


def _check_inside_parents(parsed: list[_Parsed], by_code: dict[str, _Parsed], problems: list[FeatureProblem]) -> None:
    """Report children sticking out of their parent polygon (beyond a tiny tolerance)."""
    prepared: set[str] = set()
    for item in parsed:
        parent = by_code.get(item.parent) if item.parent else None
        if parent is None or item.geometry is None or parent.geometry is None:
            continue
        if parent.level != PARENT_LEVEL[item.level]:
            continue
        if parent.code not in prepared:
            shapely.prepare(parent.geometry)
            prepared.add(parent.code)
        if parent.geometry.covers(item.geometry):
            continue
        outside = item.geometry.difference(parent.geometry.buffer(INSIDE_TOLERANCE_DEG))
        if outside.area > 0:
            problems.append(
                FeatureProblem(
                    item.index,
                    item.code,
                    f"not inside its parent {parent.code}: ≈{outside.area * M2_PER_DEG2:.1f} m² lies outside it",
                )
            )


def _check_overlaps(parsed: list[_Parsed], problems: list[FeatureProblem]) -> None:
    """Report grids of the same level whose interiors overlap by more than a tiny area."""
    for level in LEVELS_TOP_DOWN:
        items = [p for p in parsed if p.level == level and p.geometry is not None]
        if len(items) < 2:
            continue
        geoms = np.array([p.geometry for p in items], dtype=object)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        keep = left < right
        left, right = left[keep], right[keep]
        if left.size == 0:
            continue
        interiors_meet = shapely.relate_pattern(geoms[left], geoms[right], "T********")
        left, right = left[interiors_meet], right[interiors_meet]
        areas = shapely.area(shapely.intersection(geoms[left], geoms[right]))
        for i, j, area in zip(left.tolist(), right.tolist(), areas.tolist()):
            if area <= OVERLAP_TOLERANCE_DEG2:
                continue
            a, b = sorted((items[i], items[j]), key=lambda p: p.index)
            kind = "overlapping siblings" if a.parent == b.parent else f"overlapping {level} grids"
            problems.append(
                FeatureProblem(
                    b.index,
                    b.code,
                    f"{kind}: overlaps {a.code} (feature #{a.index}) by ≈{area * M2_PER_DEG2:.1f} m²",
                )
            )
