"""Routing: which department and ladder level a case goes to, and why; or why it needs a human (triage)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from dispatcher.city.catalogue import Catalogue, Category, DepartmentKind, EscalationLevel, RoutingOverride

if TYPE_CHECKING:
    from geo.grids import GridPath

TriageCode = Literal[
    "no_location",
    "outside_grid",
    "unknown_category",
    "no_department",
    "near_border",
    "machine_detected",
    "low_confidence",
]

_REGION_RANK = {"district": 1, "street": 2, "community": 3, "unit": 4}
_REGION_NAME = {6: "district", 9: "street", 12: "community", 15: "unit grid"}
_KIND_LEVEL = {
    DepartmentKind.COMMUNITY_STATION: "community",
    DepartmentKind.STREET_OFFICE: "street",
    DepartmentKind.COMMAND_CENTER: "district",
    DepartmentKind.LEADERSHIP: "leadership",
}


@dataclass(frozen=True)
class RoutingDecision:
    """Where a case goes: department, owning ladder level, the rule that decided it and why.

    `region` is the grid code of a level-scoped handling body: the incident's community for the
    generic community workstation "SQ", the street for a street office; None for district-wide bodies.
    """

    department: str
    level: str
    rule: str
    reason: str
    grid_version: str | None
    region: str | None = None


@dataclass(frozen=True)
class TriageReason:
    """Why a case cannot be routed automatically and must go to a dispatcher's triage queue."""

    code: TriageCode
    detail: str


# A report that came with no point at all (an address nobody placed): not the same as a point outside every grid.
NO_LOCATION = TriageReason("no_location", "the report has no location: place it on the map or by its address")


def _where(code: str) -> str:
    return f"{_REGION_NAME.get(len(code), 'grid')} {code}"


class Router:
    """Routes cases by category and grid path using the catalogue's defaults and routing overrides."""

    def __init__(self, catalogue: Catalogue) -> None:
        self.catalogue = catalogue

    @property
    def escalation_ladder(self) -> tuple[EscalationLevel, ...]:
        """The escalation ladder, lowest level first."""
        return self.catalogue.escalation

    def next_level(self, level: str | EscalationLevel) -> EscalationLevel | None:
        """The ladder level above this one, or None at the top; ValueError for an unknown level."""
        code = level.code if isinstance(level, EscalationLevel) else level
        current = self.catalogue.escalation_level(code)
        ladder = self.catalogue.escalation
        return ladder[current.rank + 1] if current.rank + 1 < len(ladder) else None

    def owner(self, level: str, category_code: str | None, path: GridPath | None) -> str | None:
        """Who owns a case of this category at a ladder level (上报 hands it over to them), None when nobody is named.

        An override for the case's region with that `level` first, then the level's `owners` by the most specific
        category prefix, then the level's department; on the street level without one, the acceptance center of
        the incident's street.
        """
        rung = self.catalogue.escalation_level(level)
        category = self.catalogue.find_category(category_code)
        if category is not None and path is not None:
            for rule in self.matching_overrides(category, path):
                if rule.level == level:
                    return rule.department
        code = category_code or ""
        prefixes = sorted((p for p in rung.owners if code.startswith(p)), key=len, reverse=True)
        if prefixes:
            return rung.owners[prefixes[0]]
        if rung.department is not None:
            return rung.department
        if level == "street" and path is not None and path.street is not None:
            return next(
                (
                    d.code
                    for d in self.catalogue.departments.values()
                    if d.kind is DepartmentKind.STREET_OFFICE and d.region == path.street
                ),
                None,
            )
        return None

    def matching_overrides(self, category: Category, path: GridPath) -> list[RoutingOverride]:
        """The overrides that apply to this category and path, most specific first (ties in rule order)."""
        codes = set(path.codes())
        hits = [
            (i, rule)
            for i, rule in enumerate(self.catalogue.overrides)
            if rule.region in codes and category.code.startswith(rule.category)
        ]
        hits.sort(key=lambda item: (-_REGION_RANK[item[1].region_level], -len(item[1].category), item[0]))
        return [rule for _, rule in hits]

    def route(
        self, category_code: str | None, path: GridPath | None, grid_version: str | None
    ) -> RoutingDecision | TriageReason:
        """Decide the department for a case of category_code located at path; a TriageReason when a human must decide.

        Order: no grid path → outside_grid; unknown category → unknown_category; the most specific
        matching override (region level unit > community > street > district first, then small
        class > big class > family, then rule order); else the category's default department;
        a category without one → no_department.
        """
        codes = path.codes() if path is not None else []
        if path is None or not codes:
            return TriageReason("outside_grid", "the location is not inside any grid of the city")
        if not category_code:
            return TriageReason("unknown_category", "no category given")
        category = self.catalogue.find_category(category_code)
        if category is None:
            return TriageReason("unknown_category", f"category {category_code!r} is not in the catalogue")
        label = f"category {category.code} {category.name_zh}"
        rules = self.matching_overrides(category, path)
        if rules:
            rule = rules[0]
            return self._decide(
                category,
                path,
                rule.department,
                rule.level,
                f"override:{rule.id}",
                f"{label} in {_where(rule.region)}: override rule {rule.id}",
                grid_version,
            )
        if category.default_department is None:
            return TriageReason(
                "no_department", f"{label} has no default department and no override applies in {_where(codes[-1])}"
            )
        return self._decide(
            category,
            path,
            category.default_department,
            None,
            f"default:category {category.code}",
            f"{label} in {_where(codes[-1])}: default department {category.default_department}",
            grid_version,
        )

    def _decide(
        self,
        category: Category,
        path: GridPath,
        department: str,
        level: str | None,
        rule: str,
        reason: str,
        grid_version: str | None,
    ) -> RoutingDecision | TriageReason:
        dept = self.catalogue.department(department)
        region = None
        if dept.kind is DepartmentKind.COMMUNITY_STATION:
            region = path.community
            if region is None:
                return TriageReason(
                    "no_department", f"{reason}, but the location has no community grid for {dept.code}"
                )
        elif dept.kind is DepartmentKind.STREET_OFFICE:
            region = dept.region
        level = level or _KIND_LEVEL.get(dept.kind) or category.handling_level.value
        return RoutingDecision(
            department=dept.code,
            level=level,
            rule=rule,
            reason=f"{reason} ({dept.name_zh}, level {level})",
            grid_version=grid_version,
            region=region,
        )
