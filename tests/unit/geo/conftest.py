"""Shared fixtures for the geo unit tests: the tiny city and the generated demo city."""

from __future__ import annotations

import copy

import pytest
from geo_fixtures import tiny_collection

from geo.grids import GridIndex
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
