"""data/handling.yaml: return reasons, feedback photos, the closing path per level, spot checks; malformed files are
refused naming the file and the entry."""

from __future__ import annotations

import pytest

from dispatcher.city.catalogue import DepartmentKind
from dispatcher.city.handling_rules import load_handling_rules
from dispatcher.settings import REPO_ROOT

LEVELS = {"grid_worker", "community", "street", "district", "city", "leadership"}
REASONS = "return_reasons:\n  - {code: not_ours, name_zh: 非本部门职责, name_en: Not ours, evidence: false}\n"


def load(tmp_path, text: str):
    path = tmp_path / "handling.yaml"
    path.write_text(text, encoding="utf-8")
    return load_handling_rules(path, LEVELS)


def test_the_shipped_rules_load(city):
    rules = load_handling_rules(REPO_ROOT / "data" / "handling.yaml", LEVELS)
    assert rules == city.rules
    assert set(rules.return_reasons) == {"not_ours", "wrong_location", "cannot_handle", "duplicate", "not_found",
                                         "info_missing"}  # fmt: skip
    assert rules.return_reason("wrong_location").evidence and not rules.return_reason("not_ours").evidence
    assert rules.feedback_photos == ("02", "0101") and rules.spot_check_levels == {"community"}
    with pytest.raises(ValueError) as err:
        rules.return_reason("no_such")
    assert "no_such" in str(err.value) and "not_ours" in str(err.value)


@pytest.mark.parametrize(
    ("category", "needed"),
    [("020101", True), ("020801", True), ("010101", True), ("010199", True), ("010201", False), ("010301", False),
     ("01", False), ("", False), (None, False)],
)  # fmt: skip
def test_feedback_needs_photos_by_category_prefix(city, category, needed):
    assert city.rules.needs_photos(category) is needed


@pytest.mark.parametrize(
    ("level", "closer"),
    [("grid_worker", DepartmentKind.COMMUNITY_STATION), ("community", DepartmentKind.COMMUNITY_STATION),
     ("street", DepartmentKind.STREET_OFFICE), ("district", DepartmentKind.COMMAND_CENTER),
     ("city", DepartmentKind.COMMAND_CENTER), ("leadership", DepartmentKind.COMMAND_CENTER),
     (None, DepartmentKind.COMMAND_CENTER), ("nowhere", DepartmentKind.COMMAND_CENTER)],
)  # fmt: skip
def test_the_closer_by_level(city, level, closer):
    assert city.rules.closer(level) is closer


def test_a_minimal_file_has_defaults(tmp_path):
    rules = load(tmp_path, REASONS)
    assert list(rules.return_reasons) == ["not_ours"] and rules.feedback_photos == ()
    assert dict(rules.closing) == {} and rules.spot_check_levels == frozenset()
    assert rules.closer("community") is DepartmentKind.COMMAND_CENTER


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (REASONS + "closing: {nowhere: command_center}\n", ["closing.nowhere", "not a ladder level"]),
        (REASONS + "closing: {city: department}\n", ["closing.city", "does not close"]),
        (REASONS + "closing: {leadership: leadership}\n", ["closing.leadership", "does not close"]),
        (REASONS + "closing: {street: bogus}\n", ["closing.street", "'bogus'", "not a department kind"]),
        ("feedback_photos: ['02']\n", ["'return_reasons' is missing or empty"]),
        ("return_reasons: []\n", ["'return_reasons' is missing or empty"]),
        ("", ["'return_reasons' is missing or empty"]),
        ("return_reasons:\n  - {code: x, name_zh: 甲, name_en: X}\n", ["return reason", "'code': 'x'", "evidence"]),
        ("return_reasons:\n  - just_a_code\n", ["return reason", "just_a_code"]),
    ],
    ids=["unknown-level", "department-kind", "leadership-kind", "unknown-kind", "no-reasons", "empty-reasons",
         "empty-file", "reason-without-evidence", "reason-not-a-mapping"],
)  # fmt: skip
def test_malformed_files_name_the_file_and_the_entry(tmp_path, text, names):
    with pytest.raises(ValueError) as err:
        load(tmp_path, text)
    message = str(err.value)
    assert message.startswith("handling.yaml: ")
    for name in names:
        assert name in message, message
