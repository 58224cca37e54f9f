"""The generated demo city: deterministic, big enough, and valid by our own importer."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from geo.democity import dumps, generate, main
from geo.grids import Level

REPO = Path(__file__).resolve().parents[3]


def test_generate_is_deterministic(demo_collection):
    assert dumps(generate()) == dumps(demo_collection)


def test_other_seed_gives_another_city(demo_collection):
    assert generate(seed=7)["features"][-1]["geometry"] != demo_collection["features"][-1]["geometry"]


def test_counts(demo_grids):
    counts = Counter(g.level for g in demo_grids)
    assert counts[Level.DISTRICT] == 1
    assert counts[Level.STREET] >= 6
    assert counts[Level.COMMUNITY] >= 40
    assert counts[Level.UNIT] >= 5000


def test_codes_names_and_properties(demo_grids):
    by_code = {g.code: g for g in demo_grids}
    assert by_code["330199"].name == "云河区"
    for g in demo_grids:
        if g.level == Level.UNIT:
            assert re.fullmatch(r"\d{15}", g.code) and g.code.startswith(g.parent_code)
            assert 200 <= g.properties["households"] <= 500
            assert g.name.startswith(by_code[by_code[g.parent_code].parent_code].name)
        if g.level in (Level.UNIT, Level.COMMUNITY):
            assert re.fullmatch(r"1[3-9]\d{9}", g.properties["leader_phone"])
            assert 2 <= len(g.properties["leader_name"]) <= 3
        if g.level == Level.STREET:
            assert g.name.endswith("街道") and re.fullmatch(r"330199\d{3}", g.code)
        assert g.properties["name_en"]


def test_units_tile_the_district(demo_index):
    district = demo_index.get("330199").geometry
    total = sum(g.geometry.area for g in demo_index.by_level(Level.UNIT))
    assert abs(total - district.area) < 1e-12
    assert 8_000 < (district.bounds[2] - district.bounds[0]) * 96_000 < 10_000  # ~8-9 km across


def test_checked_in_file_matches_generator(demo_collection):
    path = REPO / "data" / "demo_city" / "grids.geojson"
    assert path.read_text(encoding="utf-8") == dumps(demo_collection) + "\n"
    assert path.stat().st_size < 6_000_000


def test_cli_writes_the_file(tmp_path, demo_collection):
    out = tmp_path / "city.geojson"
    main([str(out), "--seed", "20261128"])
    assert out.read_text(encoding="utf-8") == dumps(demo_collection) + "\n"
