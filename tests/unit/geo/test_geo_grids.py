"""GridIndex: point location, tie-breaks, holes, paths and coordinate checks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from geo_fixtures import COMMUNITY, DISTRICT, STREET
from hypothesis import given, settings
from hypothesis import strategies as st

from geo.grids import LEVELS_TOP_DOWN, GridIndex, GridPath, Level, naive_locate

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
