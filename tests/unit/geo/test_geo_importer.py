"""The GeoJSON importer accepts good grids and names every kind of problem with the offending code."""

from __future__ import annotations

import json

import pytest
from geo_fixtures import COMMUNITY, STREET, _square

from geo.grids import Level
from geo.importer import FeatureProblem, GridImportError, load_grids, parse_grids

UNIT1 = COMMUNITY + "001"
UNIT2 = COMMUNITY + "002"


def unit(collection: dict, code: str) -> dict:
    """The feature with this code."""
    return next(f for f in collection["features"] if f["properties"]["code"] == code)


def test_valid_collection_parses_with_extra_properties(collection):
    grids = parse_grids(collection)
    assert len(grids) == 8
    community = next(g for g in grids if g.code == COMMUNITY)
    assert community.level is Level.COMMUNITY and community.parent_code == STREET
    assert community.properties == {"leader_name": "王芳", "leader_phone": "13800000000"}


def test_crs84_member_is_accepted(collection):
    collection["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}
    assert len(parse_grids(collection)) == 8


def set_geometry(geometry):
    """A mutation replacing UNIT1's geometry."""
    return lambda c: unit(c, UNIT1).update(geometry=geometry)


def set_prop(key, value, code=UNIT1):
    """A mutation setting one property of a feature."""
    return lambda c: unit(c, code)["properties"].__setitem__(key, value)


def duplicate(c):
    """Give UNIT2 the code of UNIT1."""
    unit(c, UNIT2)["properties"]["code"] = UNIT1


def swap_lat_lon(c):
    """Swap UNIT1's coordinates to (lat, lon)."""
    geom = unit(c, UNIT1)["geometry"]
    geom["coordinates"] = [[[y, x] for x, y in ring] for ring in geom["coordinates"]]


BOWTIE = {
    "type": "Polygon",
    "coordinates": [[[120.01, 30.01], [120.02, 30.02], [120.02, 30.01], [120.01, 30.02], [120.01, 30.01]]],
}
METRES = {
    "type": "Polygon",
    "coordinates": [[[500000, 3350000], [500100, 3350000], [500100, 3350100], [500000, 3350000]]],
}
# (lat, lon) of a place in Xinjiang: both values pass the range check, only the swap lies in China
SWAPPED_SMALL = {"type": "Polygon", "coordinates": [[[40.01, 80.01], [40.01, 80.02], [40.02, 80.02], [40.01, 80.01]]]}

CASES = [
    ("missing code", set_prop("code", None), None, "invalid properties.code"),
    ("non-digit code", set_prop("code", "A-1"), "A-1", "invalid properties.code"),
    ("missing name", set_prop("name", ""), UNIT1, "invalid properties.name"),
    ("bad level", set_prop("level", "block"), UNIT1, "invalid properties.level"),
    ("unit without parent", set_prop("parent", None), UNIT1, "invalid properties.parent"),
    ("duplicate code", duplicate, UNIT1, "duplicate code"),
    ("point geometry", set_geometry({"type": "Point", "coordinates": [120.0, 30.0]}), UNIT1, "non-polygon geometry"),
    (
        "linestring geometry",
        set_geometry({"type": "LineString", "coordinates": [[120, 30], [120.1, 30]]}),
        UNIT1,
        "non-polygon geometry",
    ),
    ("missing geometry", set_geometry(None), UNIT1, "missing geometry"),
    ("empty geometry", set_geometry({"type": "Polygon", "coordinates": []}), UNIT1, "empty geometry"),
    ("swapped lat/lon", swap_lat_lon, UNIT1, "lat/lon swapped"),
    ("swapped inside China box", set_geometry(SWAPPED_SMALL), UNIT1, "lat/lon swapped"),
    ("projected metres", set_geometry(METRES), UNIT1, "wrong CRS"),
    ("out of range", set_geometry(_square(190.0, 30.0, 190.01, 30.01)), UNIT1, "out of range"),
    ("self-intersecting", set_geometry(BOWTIE), UNIT1, "self-intersecting at (120.015, 30.015)"),
    ("unknown parent", set_prop("parent", "110101001999"), UNIT1, "unknown parent 110101001999"),
    ("parent of wrong level", set_prop("parent", STREET), UNIT1, "wrong level"),
    (
        "not inside parent",
        set_geometry(_square(120.01, 30.01, 120.02, 30.03)),
        UNIT1,
        f"not inside its parent {COMMUNITY}",
    ),
    (
        "overlapping siblings",
        set_geometry(_square(120.01, 30.005, 120.02, 30.02)),
        UNIT2,
        f"overlapping siblings: overlaps {UNIT1}",
    ),
]


@pytest.mark.parametrize(("mutate", "code", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_kind_of_problem_is_named_with_its_code(collection, mutate, code, kind):
    mutate(collection)
    with pytest.raises(GridImportError) as caught:
        parse_grids(collection)
    message = str(caught.value)
    assert kind in message
    if code is not None:
        assert f"(code {code})" in message
    assert any(kind in str(p) for p in caught.value.problems)


@pytest.mark.parametrize(
    ("collection_value", "kind"),
    [
        ({"type": "Feature", "properties": {}, "geometry": None}, "not a FeatureCollection"),
        ([1, 2], "not a FeatureCollection"),
        ({"type": "FeatureCollection", "features": {}}, "not a FeatureCollection"),
        (
            {"type": "FeatureCollection", "features": [], "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}},
            "wrong CRS",
        ),
    ],
)
def test_collection_level_problems(collection_value, kind):
    with pytest.raises(GridImportError, match=kind):
        parse_grids(collection_value)


def test_all_problems_are_reported_at_once(collection):
    set_geometry(BOWTIE)(collection)
    set_prop("level", "block", code=UNIT2)(collection)
    unit(collection, COMMUNITY + "003")["properties"]["parent"] = "999"
    with pytest.raises(GridImportError) as caught:
        parse_grids(collection)
    assert len(caught.value.problems) == 3
    assert {p.code for p in caught.value.problems} == {UNIT1, UNIT2, COMMUNITY + "003"}


def test_problem_text_format():
    problem = FeatureProblem(12, "330199001002003", "polygon is self-intersecting at (120.1, 30.2)")
    assert str(problem) == "feature #12 (code 330199001002003): polygon is self-intersecting at (120.1, 30.2)"


def test_touching_siblings_and_tiny_edge_noise_are_fine(collection):
    # UNIT1 shares an edge with UNIT2 and UNIT3; a 1e-9° wobble of one vertex is tolerated
    geom = unit(collection, UNIT1)["geometry"]
    geom["coordinates"][0][0] = [120.01, 30.01 - 1e-9]
    geom["coordinates"][0][-1] = [120.01, 30.01 - 1e-9]
    assert len(parse_grids(collection)) == 8


def test_load_grids_reads_files_and_rejects_bad_json(tmp_path, collection):
    good = tmp_path / "good.geojson"
    good.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    assert len(load_grids(good)) == 8
    bad = tmp_path / "bad.geojson"
    bad.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    with pytest.raises(GridImportError, match="not valid JSON"):
        load_grids(bad)
