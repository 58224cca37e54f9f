"""The gazetteer as a call-taker meets it: typed Chinese addresses (typos, missing or wrong suffixes, aliases,
Chinese numerals, building noise) give the right place first, and a house number lands on the right side of
the right stretch of road."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from geo.distance import haversine_m
from geo.gazetteer import (
    AddressImportError,
    Entry,
    Gazetteer,
    areas_from_grids,
    cn_number,
    house_point,
    load_addresses,
    normalise,
    parse_address,
    parse_addresses,
)
from geo.importer import load_grids

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "addresses_small.geojson"
DEMO_GRIDS = Path(__file__).resolve().parents[3] / "data" / "demo_city" / "grids.geojson"


@pytest.fixture(scope="module")
def gazetteer() -> Gazetteer:
    return Gazetteer(load_addresses(FIXTURE) + areas_from_grids(load_grids(DEMO_GRIDS)))


def top(gazetteer: Gazetteer, typed: str):
    found = gazetteer.match(typed)
    assert found, f"nothing found for {typed!r}"
    return found[0]


def test_normalising_full_width_spaces_and_chinese_numbers():
    assert normalise("望江路 ８８ 号") == "望江路88号"
    assert normalise("望江路八十八号") == "望江路88号"
    assert cn_number("一百零五") == 105 and cn_number("二〇八") == 208 and cn_number("十二") == 12


def test_parsing_keeps_the_road_and_number_and_drops_building_noise():
    parsed = parse_address("云河区望江路88-2号3幢2单元501室")
    assert (parsed.place, parsed.number, parsed.sub_number) == ("云河区望江路", 88, 2)
    assert "单元" not in parsed.text and "幢" not in parsed.text
    assert parse_address("和睦社区").number is None


@pytest.mark.parametrize(
    "typed",
    ["望江路88号", "云河区望江路88号3幢2单元", "汪江路88号", "望江街88号", "望江路八十八号", "ｗａｎｇ 望江路８８号"],
)
def test_a_house_on_a_road_comes_first_despite_typos_and_suffix_variants(gazetteer, typed):
    best = top(gazetteer, typed)
    assert (best.label, best.kind, best.number) == ("望江路88号", "road", 88)


def test_a_landmark_by_its_alias_and_by_part_of_its_name(gazetteer):
    assert top(gazetteer, "市一医院").label == "云河市第一人民医院"
    assert top(gazetteer, "第一人民医院门口").label == "云河市第一人民医院"
    assert top(gazetteer, "江城中学旁边").label == "江城中学"


def test_a_community_from_the_grids_with_or_without_its_suffix(gazetteer):
    for typed in ("和睦社区", "和睦"):
        best = top(gazetteer, typed)
        assert (best.label, best.kind, best.code) == ("和睦社区", "community", "330199001001")


def test_the_stretch_of_road_holding_the_number_wins(gazetteer):
    low, high = top(gazetteer, "解放路50号"), top(gazetteer, "解放路150号")
    assert low.lon < 120.1600 < high.lon  # 1–99 on the western stretch, 101–199 on the eastern one


def test_house_numbers_interpolate_along_the_line_odd_left_even_right():
    line = ((120.0, 30.0), (120.01, 30.0))  # west to east: left is north
    west, east = house_point(line, (1, 201), 1), house_point(line, (1, 201), 201)
    middle_odd, middle_even = house_point(line, (1, 201), 101), house_point(line, (1, 201), 100)
    assert west[0] < middle_odd[0] < east[0]
    assert abs(middle_odd[0] - 120.005) < 0.0002
    assert middle_odd[1] > 30.0 > middle_even[1]  # odd north (left), even south (right)
    assert 6 < haversine_m(*middle_odd, 120.005, 30.0) < 10
    assert house_point(line, (1, 201), 999)[0] == pytest.approx(120.01, abs=1e-4)  # beyond the range: the end


def test_ranking_is_best_first_and_unrelated_text_finds_nothing(gazetteer):
    found = gazetteer.match("望江路88号")
    assert [c.score for c in found] == sorted((c.score for c in found), reverse=True)
    assert gazetteer.match("火星基地") == []
    assert gazetteer.match("望") == []  # one character is no address yet


def test_the_index_finds_what_scoring_every_entry_finds(gazetteer):
    for typed in ("望江路88号", "汪江路88号", "市一医院", "和睦社区", "建国路12号", "解放路150号"):
        assert gazetteer.match(typed)[0] == gazetteer.match(typed, exhaustive=True)[0]


def test_the_address_file_is_validated_feature_by_feature():
    good = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert len(parse_addresses(good)) == len(good["features"])
    bad = json.loads(FIXTURE.read_text(encoding="utf-8"))
    bad["features"][1]["properties"]["numbers"] = [5]
    bad["features"][3]["properties"]["kind"] = "river"
    bad["features"][6]["geometry"] = {"type": "Point", "coordinates": [500, 30]}
    with pytest.raises(AddressImportError) as caught:
        parse_addresses(bad)
    text = str(caught.value)
    assert "feature #1: field 'numbers'" in text
    assert "feature #3: field 'kind'" in text
    assert "feature #6: field 'geometry.coordinates'" in text
    with pytest.raises(AddressImportError, match="FeatureCollection"):
        parse_addresses({"type": "Feature"})


def test_entries_are_matched_by_name_alias_and_core():
    road = Entry("road", "建国北路", "", ("建国路",), ((120.0, 30.0), (120.0, 30.01)), (1, 99))
    assert {"建国北路", "建国路", "建国北", "建国"} <= set(road.keys())
