"""The catalogue loads the shipped data, checks cross-references and parses time limits."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from dispatcher.city.catalogue import (
    Catalogue,
    HandlingLevel,
    Stage,
    TimeLimit,
    UnknownCategory,
    UnknownDepartment,
)
from dispatcher.city.reading import load_catalogue

DATA = Path(__file__).resolve().parents[3] / "data"


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(DATA)


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    for name in ("departments.yaml", "categories.yaml", "routing.yaml"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text {old!r} not found in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# ------------------------------------------------------------ shipped data


def test_shipped_catalogue_has_enough_small_classes(catalogue: Catalogue) -> None:
    assert len(catalogue.categories) >= 45
    assert set(catalogue.families) == {"01", "02"}
    assert {"0101", "0102", "0103", "0104", "0105", "0106"} <= set(catalogue.big_classes)
    assert {"0201", "0202", "0203", "0204", "0205", "0206", "0207"} <= set(catalogue.big_classes)


def test_every_category_references_existing_department_and_big_class(catalogue: Catalogue) -> None:
    for cat in catalogue.categories.values():
        assert cat.default_department is None or cat.default_department in catalogue.departments, cat.code
        assert cat.code.startswith(cat.big_class) and cat.big_class.startswith(cat.family), cat.code
        assert cat.big_class in catalogue.big_classes
        assert set(cat.limits) == set(Stage), cat.code
        assert cat.urgency in (1, 2, 3)
        assert isinstance(cat.handling_level, HandlingLevel)
        assert cat.dup_radius_m > 0 and cat.dup_window_h > 0
        assert cat.keywords, cat.code


def test_some_categories_deliberately_have_no_department(catalogue: Catalogue) -> None:
    orphans = [c.code for c in catalogue.categories.values() if c.default_department is None]
    assert 1 <= len(orphans) <= 2


def test_domain_example_time_limits(catalogue: Catalogue) -> None:
    assert catalogue.category("020103").limits[Stage.HANDLE] == TimeLimit(5, "wh")  # 道路不洁
    assert catalogue.category("020101").limits[Stage.HANDLE] == TimeLimit(1, "wd")  # 暴露垃圾
    assert catalogue.category("020301").limits[Stage.HANDLE] == TimeLimit(15, "wd")  # 违章建筑
    # 24×7 emergencies run on the wall clock
    assert not catalogue.category("010101").limits[Stage.HANDLE].is_working_time  # 上水井盖
    assert catalogue.category("020403").limits[Stage.HANDLE].unit in ("h", "min")  # 燃气泄漏
    assert catalogue.category("020403").urgency == 3


def test_overrides_and_ladder_reference_existing_things(catalogue: Catalogue) -> None:
    assert catalogue.overrides
    for rule in catalogue.overrides:
        assert rule.department in catalogue.departments
        assert (
            rule.category in catalogue.categories
            or rule.category in catalogue.big_classes
            or rule.category in catalogue.families
        )
    assert [lvl.code for lvl in catalogue.escalation] == [
        "grid_worker",
        "community",
        "street",
        "district",
        "city",
        "leadership",
    ]
    assert catalogue.escalation[-1].auto_escalate_after is None
    assert all(lvl.auto_escalate_after is not None for lvl in catalogue.escalation[:-1])


def test_level_bodies_exist(catalogue: Catalogue) -> None:
    for code in ("QZH", "QLD", "SQ", "JD-330199001", "JD-330199006", "CGZF", "HW", "RQ", "YJ"):
        assert catalogue.department(code).code == code
    assert catalogue.department("JD-330199003").region == "330199003"


def test_unknown_category_names_the_code(catalogue: Catalogue) -> None:
    with pytest.raises(UnknownCategory, match="999999") as info:
        catalogue.category("999999")
    assert isinstance(info.value, KeyError) and isinstance(info.value, ValueError)
    assert catalogue.find_category("999999") is None
    assert catalogue.find_category(None) is None
    with pytest.raises(UnknownDepartment, match="NOPE"):
        catalogue.department("NOPE")


def test_search_by_code_name_and_keyword(catalogue: Catalogue) -> None:
    assert catalogue.search_categories("020101")[0].code == "020101"
    assert {c.code for c in catalogue.search_categories("0101")} >= {"010101", "010111"}
    manholes = {c.code for c in catalogue.search_categories("井盖")}
    assert {"010101", "010102", "010103"} <= manholes
    assert "020101" in {c.code for c in catalogue.search_categories("Garbage")}
    assert catalogue.search_categories("暴露垃圾")[0].code == "020101"
    assert "020506" in {c.code for c in catalogue.search_categories("共享单车")}
    assert catalogue.search_categories("   ") == []
    assert catalogue.search_categories("no-such-thing-xyz") == []


# ------------------------------------------------------------ bad data


def test_unknown_default_department_names_file_and_category(data_copy: Path) -> None:
    _edit(
        data_copy / "categories.yaml",
        "default_department: HW, handling_level: community, dup_radius_m: 50, dup_window_h: 24",
        "default_department: NOPE, handling_level: community, dup_radius_m: 50, dup_window_h: 24",
    )
    with pytest.raises(ValueError, match=r"categories\.yaml.*020101.*NOPE"):
        load_catalogue(data_copy)


def test_override_with_unknown_department_names_rule(data_copy: Path) -> None:
    _edit(data_copy / "routing.yaml", "department: JD-330199003", "department: JD-999")
    with pytest.raises(ValueError, match=r"routing\.yaml.*hw-street-3.*JD-999"):
        load_catalogue(data_copy)


def test_override_with_unknown_category_names_rule(data_copy: Path) -> None:
    _edit(data_copy / "routing.yaml", 'category: "0205"', 'category: "0299"')
    with pytest.raises(ValueError, match=r"street-order-street-5.*0299"):
        load_catalogue(data_copy)


def test_bad_time_limit_names_category_and_text(data_copy: Path) -> None:
    _edit(data_copy / "categories.yaml", "limits: {handle: 15wd}", "limits: {handle: 15 days}")
    with pytest.raises(ValueError, match=r"020301.*15 days"):
        load_catalogue(data_copy)


def test_unquoted_code_is_rejected(data_copy: Path) -> None:
    _edit(data_copy / "categories.yaml", '{code: "020103"', "{code: 20103")
    with pytest.raises(ValueError, match=r"categories\.yaml.*code"):
        load_catalogue(data_copy)


def test_duplicate_department_is_rejected(data_copy: Path) -> None:
    path = data_copy / "departments.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "  - {code: HW, name_zh: 重复, name_en: Dup, kind: department}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match=r"departments\.yaml.*HW.*duplicate"):
        load_catalogue(data_copy)


# ------------------------------------------------------------ time limits


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5wh", TimeLimit(5, "wh")),
        ("15wd", TimeLimit(15, "wd")),
        ("4h", TimeLimit(4, "h")),
        ("30min", TimeLimit(30, "min")),
        (" 2 wh ", TimeLimit(2, "wh")),
    ],
)
def test_time_limit_parse(text: str, expected: TimeLimit) -> None:
    parsed = TimeLimit.parse(text)
    assert parsed == expected
    assert TimeLimit.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "5", "wh", "5hours", "-1h", "1.5wh", "5 working hours", "5WH", "5d"])
def test_time_limit_parse_errors_name_the_text(text: str) -> None:
    with pytest.raises(ValueError) as info:
        TimeLimit.parse(text)
    assert repr(text) in str(info.value)


def test_time_limit_rejects_non_string_and_bad_fields() -> None:
    with pytest.raises(ValueError, match="5"):
        TimeLimit.parse(5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="days"):
        TimeLimit(1, "days")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="-1"):
        TimeLimit(-1, "h")
