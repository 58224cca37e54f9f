"""Routing: defaults, overrides by specificity, triage reasons and the escalation ladder."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dispatcher.city.catalogue import Catalogue, RoutingOverride
from dispatcher.city.reading import load_catalogue
from dispatcher.city.routing import Router, RoutingDecision, TriageReason
from geo.grids import GridPath

DATA = Path(__file__).resolve().parents[3] / "data"


def unit_path(unit: str) -> GridPath:
    return GridPath(unit=unit, community=unit[:12], street=unit[:9], district=unit[:6])


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue(DATA)


@pytest.fixture(scope="module")
def router(catalogue: Catalogue) -> Router:
    return Router(catalogue)


def decided(result: RoutingDecision | TriageReason) -> RoutingDecision:
    assert isinstance(result, RoutingDecision), result
    return result


def triaged(result: RoutingDecision | TriageReason) -> TriageReason:
    assert isinstance(result, TriageReason), result
    return result


# ------------------------------------------------------------ decisions


def test_default_department(router: Router) -> None:
    d = decided(router.route("020103", unit_path("330199001002003"), "v7"))
    assert d.department == "HW"
    assert d.rule == "default:category 020103"
    assert d.grid_version == "v7"
    assert d.level == "community"  # 道路不洁's handling level
    assert "020103" in d.reason and "道路不洁" in d.reason and "330199001002003" in d.reason


def test_street_override_beats_default(router: Router) -> None:
    d = decided(router.route("020101", unit_path("330199003001004"), "v1"))
    assert (d.department, d.level, d.rule, d.region) == ("JD-330199003", "street", "override:hw-street-3", "330199003")
    assert "category 020101 暴露垃圾 in street 330199003: override rule hw-street-3" in d.reason
    # the same category in another street keeps its default
    assert decided(router.route("020101", unit_path("330199004001004"), "v1")).department == "HW"


def test_community_override_beats_street_override(router: Router) -> None:
    d = decided(router.route("020101", unit_path("330199003002005"), None))
    assert (d.department, d.level, d.rule) == ("SQ", "community", "override:sq-community-3-2")
    assert d.region == "330199003002"  # the incident's own community workstation
    assert "community 330199003002" in d.reason


def test_big_class_prefix_override(router: Router) -> None:
    # 0205 街面秩序 in 小营街道 → the street's own squad, for every small class of the big class
    for code in ("020501", "020504", "020599"):
        d = decided(router.route(code, unit_path("330199005003001"), None))
        assert (d.department, d.rule) == ("JD-330199005", "override:street-order-street-5")
    # other big classes in the same street keep their defaults
    assert decided(router.route("020601", unit_path("330199005003001"), None)).department == "SCJG"


def test_override_applies_to_street_level_path(router: Router) -> None:
    path = GridPath(street="330199003", district="330199")
    assert decided(router.route("020101", path, None)).rule == "override:hw-street-3"


# ------------------------------------------------------------ triage


def test_no_department_goes_to_triage(router: Router) -> None:
    t = triaged(router.route("010602", unit_path("330199001001001"), "v1"))
    assert t.code == "no_department" and "010602" in t.detail
    # ... unless a local override knows who owns it
    assert decided(router.route("010602", unit_path("330199002001001"), "v1")).department == "JD-330199002"


def test_unknown_category_goes_to_triage(router: Router) -> None:
    t = triaged(router.route("029999", unit_path("330199001001001"), None))
    assert t.code == "unknown_category" and "029999" in t.detail
    assert triaged(router.route(None, unit_path("330199001001001"), None)).code == "unknown_category"
    assert triaged(router.route("0201", unit_path("330199001001001"), None)).code == "unknown_category"


def test_outside_the_grid_goes_to_triage(router: Router) -> None:
    assert triaged(router.route("020101", None, "v1")).code == "outside_grid"
    assert triaged(router.route("020101", GridPath(), "v1")).code == "outside_grid"


# ------------------------------------------------------------ specificity


def _with_rules(catalogue: Catalogue, *rules: RoutingOverride) -> Router:
    return Router(dataclasses.replace(catalogue, overrides=tuple(rules)))


def test_small_class_beats_big_class_beats_family(catalogue: Catalogue) -> None:
    family = RoutingOverride("family", "330199006", "02", "YJ")
    big = RoutingOverride("big", "330199006", "0201", "GA")
    small = RoutingOverride("small", "330199006", "020101", "SZ")
    path = unit_path("330199006001001")
    assert decided(_with_rules(catalogue, family, big, small).route("020101", path, None)).rule == "override:small"
    assert decided(_with_rules(catalogue, family, big).route("020101", path, None)).rule == "override:big"
    assert decided(_with_rules(catalogue, family).route("020101", path, None)).rule == "override:family"


def test_region_level_dominates_category_specificity(catalogue: Catalogue) -> None:
    street_small = RoutingOverride("street-small", "330199006", "020101", "SZ")
    community_family = RoutingOverride("community-family", "330199006001", "02", "SQ")
    unit_family = RoutingOverride("unit-family", "330199006001001", "02", "GA")
    district_small = RoutingOverride("district-small", "330199", "020101", "YL")
    router = _with_rules(catalogue, district_small, street_small, community_family, unit_family)
    assert decided(router.route("020101", unit_path("330199006001001"), None)).rule == "override:unit-family"
    assert decided(router.route("020101", unit_path("330199006001002"), None)).rule == "override:community-family"
    assert decided(router.route("020101", unit_path("330199006002001"), None)).rule == "override:street-small"
    assert decided(router.route("020101", unit_path("330199001002001"), None)).rule == "override:district-small"


def test_ties_go_to_the_rule_listed_first(catalogue: Catalogue) -> None:
    first = RoutingOverride("first", "330199006", "020101", "SZ")
    second = RoutingOverride("second", "330199006", "020101", "YL")
    path = unit_path("330199006001001")
    assert decided(_with_rules(catalogue, first, second).route("020101", path, None)).rule == "override:first"
    assert decided(_with_rules(catalogue, second, first).route("020101", path, None)).rule == "override:second"


def test_level_defaults_from_department_kind(catalogue: Catalogue) -> None:
    router = _with_rules(
        catalogue,
        RoutingOverride("to-street", "330199006", "020101", "JD-330199006"),
        RoutingOverride("to-command", "330199006", "020103", "QZH"),
    )
    path = unit_path("330199006001001")
    assert decided(router.route("020101", path, None)).level == "street"
    assert decided(router.route("020103", path, None)).level == "district"


# ------------------------------------------------------------ escalation ladder


def test_escalation_ladder(router: Router) -> None:
    chain = []
    level = router.escalation_ladder[0]
    while level is not None:
        chain.append(level.code)
        level = router.next_level(level)
    assert chain == ["grid_worker", "community", "street", "district", "city", "leadership"]
    assert router.next_level("street").code == "district"  # type: ignore[union-attr]
    assert router.next_level("leadership") is None
    with pytest.raises(ValueError, match="mayor"):
        router.next_level("mayor")
