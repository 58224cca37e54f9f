"""The demo city's base map and address gazetteer (geo/cityscape.py): deterministic, inside the district, well named."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from shapely.geometry import shape

from geo.cityscape import generate, main
from geo.democity import dumps
from tests.conftest import DEMO_GRIDS

DATA = DEMO_GRIDS.parent
CATEGORIES = {"school", "hospital", "park", "mall", "station", "government", "market"}


@pytest.fixture(scope="module")
def grids() -> dict:
    return json.loads(DEMO_GRIDS.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def city(grids) -> tuple[dict, dict]:
    return generate(grids)


@pytest.fixture(scope="module")
def district(grids):
    return shape(next(f for f in grids["features"] if f["properties"]["level"] == "district")["geometry"])


def test_same_seed_same_files_and_the_shipped_files_match_the_generator(grids, city):
    assert generate(grids) == city
    base, gazetteer = city
    assert (DATA / "basemap.geojson").read_text(encoding="utf-8") == dumps(base) + "\n"
    assert (DATA / "addresses.geojson").read_text(encoding="utf-8") == dumps(gazetteer) + "\n"


def test_another_seed_draws_other_streets(grids, city):
    other, _ = generate(grids, seed=7)
    names = {f["properties"]["name"] for f in city[0]["features"] if f["properties"]["layer"] == "road"}
    assert names != {f["properties"]["name"] for f in other["features"] if f["properties"]["layer"] == "road"}


def test_base_map_has_roads_of_every_class_water_and_landmarks(city):
    base, _ = city
    kinds = Counter((f["properties"]["layer"], f["properties"]["class"]) for f in base["features"])
    assert kinds[("road", "arterial")] >= 4
    assert kinds[("road", "secondary")] >= 8
    assert kinds[("road", "lane")] >= 10
    assert kinds[("water", "river")] >= 1 and kinds[("water", "lake")] == 1
    landmarks = sum(n for (layer, _), n in kinds.items() if layer == "landmark")
    assert 40 <= landmarks <= 80
    assert {c for (layer, c) in kinds if layer == "landmark"} == CATEGORIES
    river = next(f for f in base["features"] if f["properties"]["name"] == "云河")
    assert river["geometry"]["type"] == "Polygon"
    for f in base["features"]:
        p = f["properties"]
        assert p["name"] and p["name_en"].isascii(), p
        assert {"layer", "class", "name", "name_en"} <= set(p)


def test_everything_lies_inside_the_district_and_no_landmark_stands_in_water(city, district):
    base, gazetteer = city
    inside = district.buffer(1e-6)
    for f in base["features"] + gazetteer["features"]:
        assert inside.covers(shape(f["geometry"])), f["properties"]["name"]
    water = [shape(f["geometry"]) for f in base["features"] if f["properties"]["layer"] == "water"]
    for f in gazetteer["features"]:
        if f["properties"]["kind"] == "landmark":
            assert not any(w.intersects(shape(f["geometry"])) for w in water), f["properties"]["name"]


def test_names_are_unique_in_both_languages(city):
    base, gazetteer = city
    for layer in ("road", "landmark"):
        feats = [f["properties"] for f in base["features"] if f["properties"]["layer"] == layer]
        assert len({p["name"] for p in feats}) == len(feats)
        assert len({p["name_en"] for p in feats}) == len(feats)
    roads = [f["properties"]["name"] for f in base["features"] if f["properties"]["layer"] == "road"]
    assert all(n.endswith(("大道", "路", "街", "巷")) for n in roads)
    named = {f["properties"]["name"] for f in gazetteer["features"]}
    assert named == {f["properties"]["name"] for f in base["features"] if f["properties"]["layer"] != "water"}


def test_gazetteer_format(city):
    """The format the address search codes against (data/demo_city/README.md)."""
    _, gazetteer = city
    assert gazetteer["type"] == "FeatureCollection"
    for f in gazetteer["features"]:
        p = f["properties"]
        assert p["kind"] in ("road", "landmark")
        assert isinstance(p["name"], str) and isinstance(p["name_en"], str) and p["name"] and p["name_en"]
        assert isinstance(p["aliases"], list) and all(isinstance(a, str) and a for a in p["aliases"])
        if p["kind"] == "road":
            assert f["geometry"]["type"] == "LineString" and len(f["geometry"]["coordinates"]) >= 2
            first, last = p["numbers"]
            assert first % 2 == 1 and last % 2 == 0 and first < last, p
        else:
            assert f["geometry"]["type"] == "Point" and p["category"] in CATEGORIES
        for lon, lat in _positions(f["geometry"]):
            assert 119 < lon < 121 and 29 < lat < 31  # (lon, lat), not swapped
            assert round(lon, 6) == lon and round(lat, 6) == lat
    hospital = next(f for f in gazetteer["features"] if f["properties"]["name"] == "云河市第一人民医院")
    assert hospital["properties"]["aliases"] == ["市一医院"]


def test_a_road_cut_in_pieces_numbers_on_where_the_last_piece_stopped(city):
    _, gazetteer = city
    ranges: dict[str, list[list[int]]] = {}
    for f in gazetteer["features"]:
        if f["properties"]["kind"] == "road":
            ranges.setdefault(f["properties"]["name"], []).append(f["properties"]["numbers"])
    for name, parts in ranges.items():
        assert parts[0][0] == 1, name
        for before, after in zip(parts, parts[1:], strict=False):
            assert after[0] == before[1] + 1, name
    assert any(len(parts) > 1 for parts in ranges.values())  # the lake cuts at least one road


def test_house_numbers_grow_with_the_road(city):
    _, gazetteer = city
    roads = [f for f in gazetteer["features"] if f["properties"]["kind"] == "road"]
    longest = max(roads, key=lambda f: shape(f["geometry"]).length)
    shortest = min(roads, key=lambda f: shape(f["geometry"]).length)
    span = lambda f: f["properties"]["numbers"][1] - f["properties"]["numbers"][0]
    assert span(longest) > 5 * span(shortest)


def test_files_stay_small():
    assert (DATA / "basemap.geojson").stat().st_size < 300_000
    assert (DATA / "addresses.geojson").stat().st_size < 300_000


def test_cli_writes_both_files(tmp_path, city):
    main(["--grids", str(DEMO_GRIDS), "--out", str(tmp_path)])
    assert json.loads((tmp_path / "basemap.geojson").read_text(encoding="utf-8")) == city[0]
    assert json.loads((tmp_path / "addresses.geojson").read_text(encoding="utf-8")) == city[1]


def _positions(geometry: dict):
    coords = geometry["coordinates"]
    if geometry["type"] == "Point":
        yield coords
    else:
        yield from coords
