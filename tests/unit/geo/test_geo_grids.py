"""GridIndex: point location, tie-breaks, holes, paths and coordinate checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geo_fixtures import COMMUNITY, DISTRICT, STREET
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Polygon

from geo.grids import LEVELS_TOP_DOWN, Grid, GridIndex, GridPath, Level, naive_locate

U = {s: COMMUNITY + s for s in ("001", "002", "003", "004", "005")}


def all_three(index: GridIndex, lon: float, lat: float) -> tuple:
    """Answers of locate, locate_many and locate_codes for one point (as unit codes)."""
    one = index.locate(lon, lat)
    many = index.locate_many([lon], [lat])[0]
    code_idx = index.locate_codes(np.array([lon]), np.array([lat]))[0]
    coded = index.unit_codes[code_idx] if code_idx >= 0 else None
    return (one.unit if one else None, many.unit if many else None, coded)


def test_levels_top_down():
    assert LEVELS_TOP_DOWN == (Level.DISTRICT, Level.STREET, Level.COMMUNITY, Level.UNIT)
    assert Level("unit") is Level.UNIT and Level.UNIT == "unit"


def test_interior_point_gives_full_path(tiny_index):
    path = tiny_index.locate(120.015, 30.015)
    assert path == GridPath(unit=U["001"], community=COMMUNITY, street=STREET, district=DISTRICT)
    assert path.codes() == [DISTRICT, STREET, COMMUNITY, U["001"]]
    assert path.at(Level.STREET) == STREET
    assert all_three(tiny_index, 120.015, 30.015) == (U["001"],) * 3


@pytest.mark.parametrize(
    ("lon", "lat", "expected", "covering"),
    [
        (120.015, 30.01, "001", ["001", "002"]),  # shared horizontal edge
        (120.01, 30.005, "002", ["002", "004"]),  # shared vertical edge
        (120.01, 30.01, "001", ["001", "002", "003", "004"]),  # 4-way corner
        (120.02, 30.01, "001", ["001", "002", "005"]),  # T-junction with the holed grid
        (120.0, 30.0, "004", ["004"]),  # outer corner of the city
    ],
)
def test_borders_pick_smallest_code_everywhere(tiny_index, lon, lat, expected, covering):
    assert all_three(tiny_index, lon, lat) == (U[expected],) * 3
    assert tiny_index.covering_units(lon, lat) == [U[c] for c in covering]


def test_point_in_hole_is_not_in_the_grid(tiny_index):
    assert all_three(tiny_index, 120.03, 30.01) == (None, None, None)
    assert tiny_index.covering_units(120.03, 30.01) == []
    # the hole's own boundary still belongs to the grid (covers semantics)
    assert tiny_index.locate(120.025, 30.01).unit == U["005"]


def test_outside_everything_is_none(tiny_index):
    assert all_three(tiny_index, 121.0, 31.0) == (None, None, None)
    assert all_three(tiny_index, 120.041, 30.01) == (None, None, None)
    assert math.isinf(tiny_index.border_distance_m(121.0, 31.0))


@pytest.mark.parametrize(
    ("lon", "lat", "shown"),
    [(math.nan, 30.0, "nan"), (120.0, math.inf, "inf"), (181.0, 30.0, "181.0"), (120.0, -90.5, "-90.5")],
)
def test_bad_coordinates_raise_naming_the_value(tiny_index, lon, lat, shown):
    with pytest.raises(ValueError, match=shown):
        tiny_index.locate(lon, lat)
    with pytest.raises(ValueError, match=shown):
        tiny_index.locate_codes(np.array([120.0, lon]), np.array([30.0, lat]))
    with pytest.raises(ValueError, match=shown):
        tiny_index.locate_many([lon], [lat])


def test_path_of_every_level(tiny_index):
    assert tiny_index.path_of(DISTRICT) == GridPath(district=DISTRICT)
    assert tiny_index.path_of(STREET).codes() == [DISTRICT, STREET]
    assert tiny_index.path_of(COMMUNITY) == GridPath(community=COMMUNITY, street=STREET, district=DISTRICT)
    assert tiny_index.path_of(U["003"]).at(Level.UNIT) == U["003"]


def test_get_find_children_by_level(tiny_index):
    assert tiny_index.get(U["001"]).properties["households"] == 300
    assert tiny_index.find("999") is None
    with pytest.raises(KeyError, match="999"):
        tiny_index.get("999")
    assert [g.code for g in tiny_index.children(COMMUNITY)] == sorted(U.values())
    assert [g.code for g in tiny_index.by_level(Level.STREET)] == [STREET]
    assert list(tiny_index.unit_codes) == sorted(U.values())
    assert tiny_index.version == "t1"


def test_border_distance_in_metres(tiny_index):
    # 0.001° of latitude from the bottom edge of 001 (lat 30.01) ≈ 111 m; other edges are farther
    assert tiny_index.border_distance_m(120.015, 30.011) == pytest.approx(111.2, rel=0.01)
    assert tiny_index.border_distance_m(120.01, 30.01) == 0.0


def test_empty_index_locates_nothing():
    index = GridIndex([])
    assert index.locate(120.0, 30.0) is None
    assert index.locate_codes(np.array([120.0]), np.array([30.0])).tolist() == [-1]


coords = st.one_of(
    st.sampled_from([120.0, 120.005, 120.01, 120.02, 120.025, 120.03, 120.035, 120.04]),
    st.floats(119.995, 120.045),
)
lats = st.one_of(st.sampled_from([30.0, 30.005, 30.01, 30.015, 30.02]), st.floats(29.995, 30.025))


@settings(max_examples=300, deadline=None)
@given(lon=coords, lat=lats)
def test_fast_paths_agree_with_naive_loop(tiny_index, lon, lat):
    expected = naive_locate(tiny_index, lon, lat)
    assert all_three(tiny_index, lon, lat) == (expected,) * 3


def test_fast_paths_agree_with_tree_on_demo_vertices(demo_index):
    """Every unit vertex of the irregular demo city (worst case for ties) gives the reference answer."""
    units = demo_index.by_level(Level.UNIT)
    xy = np.concatenate([shapely.get_coordinates(g.geometry) for g in units])
    rng = np.random.default_rng(7)
    xy = np.concatenate([xy, xy[:20000] + rng.normal(0, 3e-4, (20000, 2))])
    tree = shapely.STRtree([g.geometry for g in units])  # same order as unit_codes
    point_idx, unit_idx = tree.query(shapely.points(xy), predicate="covered_by")
    reference = np.full(len(xy), len(units))
    np.minimum.at(reference, point_idx, unit_idx)
    reference[reference == len(units)] = -1
    assert (demo_index.locate_codes(xy[:, 0], xy[:, 1]) == reference).all()
    one_by_one = [demo_index.locate(lon, lat) for lon, lat in xy[::7].tolist()]
    assert [p.unit if p else None for p in one_by_one] == [
        demo_index.unit_codes[r] if r >= 0 else None for r in reference[::7]
    ]
    for lon, lat in xy[::997].tolist():
        path = demo_index.locate(lon, lat)
        assert (path.unit if path else None) == naive_locate(units, lon, lat)


def _unit_geoms(grids) -> list:
    return [g.geometry for g in grids if g.level == Level.UNIT]


def _probe_points(index: GridIndex, grids, rng: np.random.Generator, n: int) -> np.ndarray:
    """Random points over the units, every unit vertex, edge midpoints and points on the lattice's cell lines."""
    geoms = _unit_geoms(grids)
    x0, y0, x1, y1 = shapely.total_bounds(geoms)
    random_xy = rng.uniform((x0 - 1e-4, y0 - 1e-4), (x1 + 1e-4, y1 + 1e-4), (n, 2))
    vertices = shapely.get_coordinates(geoms)
    midpoints = (vertices[1:] + vertices[:-1]) / 2
    lattice = index._buckets  # cell borders, where float binning could slip into the wrong cell
    on_columns = np.column_stack([lattice.minx + rng.integers(0, lattice.nbx + 1, n) * lattice.bx, random_xy[:, 1]])
    on_rows = np.column_stack([random_xy[:, 0], lattice.miny + rng.integers(0, lattice.nby + 1, n) * lattice.by])
    return np.concatenate([random_xy, vertices, midpoints, on_columns, on_rows])


def _assert_agrees_with_naive(index: GridIndex, grids, xy: np.ndarray) -> None:
    """locate_codes, locate and naive_locate give the same unit for every point."""
    expected = [naive_locate(grids, lon, lat) for lon, lat in xy.tolist()]
    vectorised = [index.unit_codes[i] if i >= 0 else None for i in index.locate_codes(xy[:, 0], xy[:, 1])]
    one_by_one = [p.unit if p else None for p in (index.locate(lon, lat) for lon, lat in xy.tolist())]
    assert vectorised == expected
    assert one_by_one == expected


def test_irregular_grids_with_holes_and_multipolygons_agree_with_naive_loop(irregular_index, irregular_grids):
    assert all(shapely.is_valid(_unit_geoms(irregular_grids)))
    xy = _probe_points(irregular_index, irregular_grids, np.random.default_rng(11), 1500)
    _assert_agrees_with_naive(irregular_index, irregular_grids, xy)
    for unit in (g for g in irregular_grids if g.level == Level.UNIT):
        inner = unit.geometry.representative_point()
        assert irregular_index.locate(inner.x, inner.y) == irregular_index.path_of(unit.code)
        assert irregular_index.locate_many([inner.x], [inner.y]) == [irregular_index.path_of(unit.code)]
    # enclaves: a point in a hole belongs to the enclave unit, not to the unit around it
    holed = next(g for g in irregular_grids if g.level == Level.UNIT and list(g.geometry.interiors))
    inside_hole = Polygon(holed.geometry.interiors[0]).representative_point()
    assert not holed.geometry.covers(inside_hole)
    path = irregular_index.locate(inside_hole.x, inside_hole.y)
    assert path is not None and path.unit != holed.code and path.community == holed.parent_code


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), side=st.integers(1, 6))
def test_any_irregular_tiling_agrees_with_naive_loop(jittered_units, seed, side):
    rng = np.random.default_rng(seed)
    geoms = jittered_units(side, rng)
    codes = rng.permutation(len(geoms))
    grids = [Grid(f"u{c:03d}", "", Level.UNIT, None, g) for c, g in zip(codes, geoms)]
    index = GridIndex(grids)
    _assert_agrees_with_naive(index, grids, _probe_points(index, grids, rng, 60))


def test_overlapping_units_pick_the_smallest_code_inside_and_on_borders():
    """Same-level overlaps below the importer's tolerance can exist: every covering unit counts, smallest code wins."""
    grids = [
        Grid("u2", "", Level.UNIT, None, shapely.box(120.0, 30.0, 120.01, 30.01)),
        Grid("u1", "", Level.UNIT, None, shapely.box(120.002, 30.002, 120.006, 30.006)),  # inside u2
        Grid("u3", "", Level.UNIT, None, shapely.box(120.004, 30.004, 120.02, 30.02)),  # overlaps both
        Grid("u0", "", Level.UNIT, None, Polygon([(120.012, 30.012), (120.03, 30.012), (120.012, 30.03)])),
    ]
    index = GridIndex(grids)
    assert index.locate(120.003, 30.003).unit == "u1"
    assert index.locate(120.008, 30.008).unit == "u2"
    assert index.locate(120.015, 30.013).unit == "u0"
    assert index.locate(120.015, 30.008).unit == "u3"
    _assert_agrees_with_naive(index, grids, _probe_points(index, grids, np.random.default_rng(3), 1000))
