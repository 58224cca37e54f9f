"""Shared fixtures for the geo unit tests: the tiny city and the generated demo city."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import shapely
from geo_fixtures import tiny_collection
from shapely.geometry import MultiPolygon, Polygon

from geo.grids import Grid, GridIndex, Level
from geo.importer import parse_grids


@pytest.fixture
def collection() -> dict:
    """A fresh, valid tiny-city FeatureCollection (safe to mutate)."""
    return copy.deepcopy(tiny_collection())


@pytest.fixture(scope="module")
def tiny_index() -> GridIndex:
    """GridIndex over the tiny city."""
    return GridIndex(parse_grids(tiny_collection()), version="t1")


@pytest.fixture(scope="session")
def demo_collection() -> dict:
    """The generated demo city (default seed), built once per test session."""
    from geo.democity import generate

    return generate()


@pytest.fixture(scope="session")
def demo_grids(demo_collection):
    """The demo city's grids, validated by the importer once per test session."""
    return parse_grids(demo_collection)


@pytest.fixture(scope="session")
def demo_index(demo_grids) -> GridIndex:
    """GridIndex over the demo city."""
    return GridIndex(demo_grids)


def _jittered_units(side: int, rng: np.random.Generator) -> list:
    """side × side irregular octagons tiling a box: jittered shared corners, a jittered point on every edge."""
    cx = np.arange(side + 1)[None, :] + rng.uniform(-0.3, 0.3, (side + 1, side + 1))
    cy = np.arange(side + 1)[:, None] + rng.uniform(-0.3, 0.3, (side + 1, side + 1))
    cx[:, [0, -1]], cy[[0, -1], :] = [0, side], [[0], [side]]  # straight outer border: ties on long edges too
    hx, hy = (cx[:, :-1] + cx[:, 1:]) / 2, (cy[:, :-1] + cy[:, 1:]) / 2 + rng.uniform(-0.2, 0.2, (side + 1, side))
    vx, vy = (cx[:-1] + cx[1:]) / 2 + rng.uniform(-0.2, 0.2, (side, side + 1)), (cy[:-1] + cy[1:]) / 2
    units = []
    for i in range(side):
        for j in range(side):
            ring = [(cx[i, j], cy[i, j]), (hx[i, j], hy[i, j]), (cx[i, j + 1], cy[i, j + 1])]
            ring += [(vx[i, j + 1], vy[i, j + 1]), (cx[i + 1, j + 1], cy[i + 1, j + 1]), (hx[i + 1, j], hy[i + 1, j])]
            ring += [(cx[i + 1, j], cy[i + 1, j]), (vx[i, j], vy[i, j])]
            units.append(Polygon([(120.0 + x * 0.001, 30.0 + y * 0.0009) for x, y in ring]))
    return units


@pytest.fixture(scope="session")
def jittered_units():
    """Factory of irregular tilings: jittered_units(side, rng) -> side² polygons."""
    return _jittered_units


@pytest.fixture(scope="module")
def irregular_grids() -> list[Grid]:
    """A 7 × 7 tiling of irregular unit grids (codes not in reading order) with holes holding enclave units,
    one MultiPolygon unit (two enclaves) and a community and district above them."""
    rng = np.random.default_rng(5)
    units = _jittered_units(7, rng)
    enclaves = []
    for k in (8, 24, 40):  # three cells get a hole; its inside is another unit
        shell = np.asarray(units[k].exterior.coords)
        hole = shapely.get_coordinates(shapely.centroid(units[k])) + 0.3 * (shell - shell.mean(axis=0))
        units[k] = Polygon(shell, [hole])
        enclaves.append(Polygon(hole))
    units += [enclaves[0], MultiPolygon(enclaves[1:])]
    codes = rng.permutation(len(units)) + 1
    grids = [Grid(f"330100001001{c:03d}", f"单元{c}", Level.UNIT, "330100001001", g) for c, g in zip(codes, units)]
    whole = shapely.box(120.0, 30.0, 120.007, 30.0063)
    grids.append(Grid("330100001001", "社区", Level.COMMUNITY, "330100", whole))
    return [*grids, Grid("330100", "区", Level.DISTRICT, None, whole)]


@pytest.fixture(scope="module")
def irregular_index(irregular_grids) -> GridIndex:
    """GridIndex over the irregular tiling."""
    return GridIndex(irregular_grids)
