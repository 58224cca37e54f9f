"""The translation catalogue is complete: every string in both languages, the Chinese one really Chinese, every key the
pages ask for present, and every code the engine produces (statuses, actions, channels, triage reasons, routing
rules, error classes) has words in both languages."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path

import pytest

import dashboard.field  # (the field app's part of the catalogue)
import dashboard.pages  # noqa: F401  (every page imports its catalogue part)
from dashboard.pages import i18n_errors, i18n_reasons
from dashboard.pages.i18n import ACTION, OFFICER_STATUS, ROLE, STAGE, STATUS, STRINGS, t
from dispatcher.access.roles import Role
from dispatcher.cases.incident import Channel
from dispatcher.cases.lifecycle import Action, Status
from dispatcher.city.routing import TriageCode
from dispatcher.errors import ConcurrentUpdate, Conflict, Forbidden, Invalid, NotFound
from dispatcher.intake.duplicates import SUSPECTED_DUPLICATE
from dispatcher.settings import REPO_ROOT

CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")  # CJK characters and full-width punctuation
HAN = re.compile(r"[\u3400-\u9fff]")
# Latin words a Chinese string may rightly contain (codes and product names people use as they are)
NOT_CHINESE_OK = re.compile(
    r"GPS|SOS|ID|IP|EN|SMS|UTC|Open311|OsmAnd|Traccar|Client|GridCommand|Alt|Ctrl|Enter|AI|API|\{\w*\}"
)
DICTS = {
    "STRINGS": STRINGS,
    "STATUS": STATUS,
    "ACTION": ACTION,
    "STAGE": STAGE,
    "ROLE": ROLE,
    "OFFICER": OFFICER_STATUS,
}
DICTS["FIELD"] = i18n_errors.FIELD


def _pairs():
    for name, table in DICTS.items():
        for key, pair in table.items():
            yield f"{name}[{key}]", pair


@pytest.mark.parametrize("table", DICTS)
def test_every_entry_has_both_languages(table):
    empty = [key for key, pair in DICTS[table].items() if len(pair) != 2 or not all(p.strip() for p in pair)]
    assert not empty, f"{table}: entries without both languages: {empty}"


def test_every_chinese_string_is_chinese():
    """The zh side carries a CJK character, unless it is an allowed code (GPS, ID…) or placeholders only."""
    latin = [
        name
        for name, (zh, _) in _pairs()
        if not CJK.search(zh) or re.search(r"[A-Za-z]{2,}", NOT_CHINESE_OK.sub("", zh))
    ]
    assert not latin, f"Chinese strings without Chinese, or with English words: {latin}"
    # and the English side is not left in Chinese
    chinese_en = [name for name, (_, en) in _pairs() if HAN.search(en)]
    assert not chinese_en, f"English strings in Chinese: {chinese_en}"


def test_both_languages_take_the_same_placeholders():
    names = lambda text: sorted(set(re.findall(r"{(\w*)}", text)))
    odd = [name for name, (zh, en) in _pairs() if names(zh) != names(en)]
    assert not odd, f"placeholders differ between zh and en: {odd}"


def _t_keys_used() -> set[tuple[str, str]]:
    """Every literal key passed to t(...) in dashboard/ (file, key)."""
    used = set()
    for path in sorted((REPO_ROOT / "dashboard").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "t"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                used.add((str(Path(path).relative_to(REPO_ROOT)), node.args[0].value))
    return used


def test_every_key_the_pages_ask_for_is_in_the_catalogue():
    used = _t_keys_used()
    assert len(used) > 200  # the scan found the pages' calls
    missing = sorted(f"{where}: {key}" for where, key in used if key not in STRINGS)
    assert not missing, f"t() keys missing from the catalogue: {missing}"


def test_every_status_action_and_role_of_the_engine_has_words():
    assert not [s for s in Status if s.value not in STATUS], "statuses without words"
    assert not [a for a in Action if a.value not in ACTION], "lifecycle actions without words"
    assert not [r for r in Role if r.value not in ROLE], "roles without words"


def test_every_channel_has_a_name_in_both_languages():
    for channel in Channel:
        zh, en = i18n_reasons.channel_label(channel, "zh"), i18n_reasons.channel_label(channel, "en")
        assert HAN.search(zh) and zh != en, f"channel {channel} has no Chinese name"


def test_every_triage_reason_has_a_label_and_a_note():
    codes = [*typing.get_args(TriageCode), SUSPECTED_DUPLICATE, "manual"]
    for code in codes:
        assert f"triage_reason_{code}" in STRINGS, f"triage reason {code} has no label"
        note = i18n_reasons.triage_note(
            code, "zh", detection={"source_kind": "camera", "source_id": "C1", "confidence": 0.4}
        )
        assert HAN.search(note) and code not in note, f"triage reason {code} has no note: {note}"


def test_a_new_triage_code_reads_as_its_label_once_a_module_adds_one():
    """Another page's module adds `triage_reason_<code>`; the renderer picks it up without a change here."""
    assert i18n_reasons.triage_label("not_yet_a_code", "zh") == "not_yet_a_code"
    STRINGS["triage_reason_not_yet_a_code"] = ("新原因", "New reason")
    try:
        assert i18n_reasons.triage_label("not_yet_a_code", "zh") == "新原因"
        assert i18n_reasons.triage_note("not_yet_a_code", "en") == "New reason"
    finally:
        del STRINGS["triage_reason_not_yet_a_code"]


def test_routing_reasons_read_in_words_from_the_rule():
    view = {
        "category_code": "020101",
        "grid": {"unit": "330199001001001"},
        "department_code": "HW",
        "level": "district",
        "routing": {"rule": "override:R7", "reason": "category 020101 ... override rule R7"},
    }
    zh = i18n_reasons.routing_text(view, "zh")
    assert "R7" in zh and "330199001001001" in zh and "派遣规则" in zh and "override" not in zh
    assert "default department" in i18n_reasons.routing_text(
        {**view, "routing": {"rule": "default:category 020101"}}, "en"
    )
    assert "zhangwei" in i18n_reasons.routing_text({**view, "routing": {"rule": "manual:zhangwei"}}, "zh")
    triaged = {**view, "triage": {"reason": "outside_grid", "detail": "the location is not inside any grid"}}
    assert "网格" in i18n_reasons.why_text(triaged, "zh") and "inside" not in i18n_reasons.why_text(triaged, "zh")


ENGINE_ERRORS = [
    ConcurrentUpdate("c0ffee00-0000-0000-0000-000000000001", 3, 4),
    Forbidden("role 'hotline' may not 'dispatch' incidents (user lihua)"),
    Forbidden("incident X-1 is claimed by wangwu, not by user lihua: a claim is exclusive"),
    Forbidden("incident X-1 is outside the scope of user lihua"),
    NotFound("incident X-1 does not exist", field="id"),
    Invalid("incident X-1 has no category; give category_code", field="category_code"),
    Invalid("incident X-1 cannot be filed yet: the location is not inside any grid", field="outside_grid"),
    Invalid("something new the engine says", field="until"),
    Conflict("approval request 7 of incident X-1 is already approved"),
    Conflict("Idempotency-Key 'k' was already used with a different request body", field="Idempotency-Key"),
    NotFound("device 'dv-9' does not exist", field="device_id"),
    RuntimeError("boom"),
]


@pytest.mark.parametrize("exc", ENGINE_ERRORS, ids=lambda e: type(e).__name__ + ":" + str(e)[:30])
def test_every_error_reads_in_chinese_with_its_ids(exc):
    text = i18n_errors.error_text(exc, "zh")
    assert HAN.search(text) and not re.search(r"[a-z]{4,} [a-z]{4,}", text), text  # no English sentence left
    for ident in ("X-1", "dv-9", "wangwu"):
        if ident in str(exc) and "X-1 cannot" not in str(exc):
            assert ident in text, f"{text!r} lost the id {ident}"


def test_a_stale_case_says_who_changed_it_when_known():
    exc = ConcurrentUpdate("c0ffee00-0000-0000-0000-000000000001", 3, 4)
    text = i18n_errors.error_text(exc, "zh", case="2026-1201-0042", who="王五", when="10:02", action="claim")
    assert text == t("err_stale_by", "zh", id="2026-1201-0042", who="王五", time="10:02", action="签收")
    assert "刷新" in i18n_errors.error_text(exc, "zh")


def test_validation_errors_name_the_fields_in_chinese():
    from pydantic import ValidationError

    from dispatcher.cases.commands import ActionRequest

    with pytest.raises(ValidationError) as caught:
        ActionRequest(note="长" * 100_000, expected_version="x")
    text = i18n_errors.error_text(caught.value, "zh")
    assert "「意见」过长" in text and "「案件版本」" in text
