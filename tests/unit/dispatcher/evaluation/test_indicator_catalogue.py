"""The indicator catalogue (data/indicators.yaml): the shipped file loads, versions are chosen by date, and a broken
catalogue is refused with a message naming what is wrong."""

from __future__ import annotations

from datetime import date

import pytest
import yaml

from dispatcher.evaluation.catalogue import load_catalogue
from dispatcher.settings import REPO_ROOT

SHIPPED = REPO_ROOT / "data" / "indicators.yaml"
STANDARD = ["立案率", "按期派遣率", "处置率", "按期处置率", "结案率", "按期结案率", "返工率", "延期率", "准确派遣率",
            "监督举报率", "满意率", "推诿率"]  # fmt: skip


def test_the_shipped_catalogue_has_the_standard_set_posts_and_two_versions():
    cat = load_catalogue()
    assert [v.key for v in cat.versions] == ["2025-01-01", "2026-07-01"]
    for version in cat.versions:
        assert set(STANDARD) <= {i.name_zh for i in version.indicators}
        assert {"region", "department", *(p.set for p in cat.posts.values())} <= set(version.sets)
    assert set(cat.posts) == {"grid_worker", "call_taker", "dispatcher", "shift_leader", "handler"}
    first, second = (v.indicator_set("department") for v in cat.versions)
    assert {i.code: i.weight for i in first} != {i.code: i.weight for i in second}


def test_the_version_in_force_is_the_last_effective_by_that_day():
    cat = load_catalogue()
    assert cat.version_at(date(2026, 6, 30)).key == "2025-01-01"
    assert cat.version_at(date(2026, 7, 1)).key == "2026-07-01"
    with pytest.raises(ValueError, match="no catalogue version in force on 2024-12-31"):
        cat.version_at(date(2024, 12, 31))


@pytest.mark.parametrize("score,grade", [(90, "A"), (89.99, "B"), (75, "B"), (60, "C"), (40, "D"), (39.99, "E"),
                                         (0, "E"), (None, None)])  # fmt: skip
def test_grade_bands(score, grade):
    assert load_catalogue().grade(score) == grade


def _broken(tmp_path, change) -> str:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "indicators.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_catalogue(path)
    return str(err.value)


def test_an_unknown_count_a_bad_weight_sum_or_an_unknown_indicator_is_refused(tmp_path):
    def unknown_count(raw):
        raw["versions"][0]["indicators"][0]["numerator"] = "filled"

    def bad_weights(raw):
        raw["versions"][1]["sets"]["department"]["close_rate"] = 0.5

    def unknown_indicator(raw):
        raw["versions"][0]["sets"]["region"]["happiness"] = 0

    def unknown_column(raw):
        raw["posts"]["handler"]["person"] = "phone"

    assert "filing_rate counts 'filled'" in _broken(tmp_path, unknown_count)
    assert "weights of set department sum to 1.25" in _broken(tmp_path, bad_weights)
    assert "set region names unknown indicators happiness" in _broken(tmp_path, unknown_indicator)
    assert "person column 'phone'" in _broken(tmp_path, unknown_column)
