"""What Open311 publishes (dispatcher/intake/publication.py, data/open311_public.yaml): the shipped rules, and
rules files that must be refused rather than publish more than the city meant."""

from __future__ import annotations

import pytest
import yaml

from dispatcher.cases.incident import Channel
from dispatcher.cases.lifecycle import Status
from dispatcher.intake.publication import (
    PUBLICATION_FILE,
    check_publication,
    load_publication,
    parse_publication,
)
from dispatcher.settings import REPO_ROOT

SHIPPED = REPO_ROOT / "data" / PUBLICATION_FILE


def shipped() -> dict:
    return yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))


def test_the_shipped_rules_publish_only_the_public_channels_and_name_real_codes(city):
    publication = load_publication(SHIPPED)
    assert publication.channels == {Channel.OPEN311, Channel.PUBLIC}
    assert check_publication(publication, city.catalogue) == []
    assert {str(s) for s in Status} == set(publication.status_notes)


def test_english_falls_back_to_chinese():
    raw = shipped()
    raw["status_notes"]["closed"] = {"zh": "已办结。"}
    assert parse_publication(raw).status_note("closed", "en") == "已办结。"


@pytest.mark.parametrize(
    "change, words",
    [
        ({"channels": ["open311", "telegram"]}, "channels"),
        ({"channels": "open311"}, "channels"),
        ({"categories": {"exclude": [206]}}, "QUOTED"),
        ({"categories": {"exclude": ["02-06"]}}, "categories.exclude"),
        ({"categories": {"include": ["020"]}}, "categories.include"),
        ({"categories": {"hide": ["0206"]}}, "include and exclude"),
        ({"publish_everything": True}, "unknown keys"),
        ({"status_notes": {"closed": {"zh": "已办结"}}}, "missing statuses"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_key(change, words):
    raw = {**shipped(), **change}
    with pytest.raises(ValueError, match=words) as err:
        parse_publication(raw)
    assert PUBLICATION_FILE in str(err.value)


def test_a_status_note_needs_chinese_and_no_empty_text():
    for texts in ({"en": "Closed."}, {"zh": "  "}, {"zh": "已办结", "fr": "Fermé"}):
        raw = shipped()
        raw["status_notes"]["closed"] = texts
        with pytest.raises(ValueError, match=r"status_notes\.closed"):
            parse_publication(raw)


def test_codes_the_catalogue_does_not_have_are_reported(city):
    raw = shipped()
    raw["categories"] = {"include": ["02"], "exclude": ["0299", "020601"]}
    problems = check_publication(parse_publication(raw), city.catalogue)
    assert problems == [
        f"{PUBLICATION_FILE}: categories.exclude: '0299' is not a family, big class or small class code"
    ]


def test_a_missing_or_broken_file_is_an_error_not_an_empty_rule_set(tmp_path):
    with pytest.raises(ValueError, match=f"{PUBLICATION_FILE}: cannot be read"):
        load_publication(tmp_path / PUBLICATION_FILE)
    broken = tmp_path / "broken" / PUBLICATION_FILE
    broken.parent.mkdir()
    broken.write_text("channels: [open311\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not valid YAML"):
        load_publication(broken)
