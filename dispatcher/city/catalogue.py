"""The category catalogue: departments, case categories with time limits, routing overrides and the escalation ladder."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal, cast, get_args

TimeUnit = Literal["wh", "wd", "h", "min"]
TIME_UNITS: tuple[str, ...] = get_args(TimeUnit)
WORKING_UNITS = frozenset({"wh", "wd"})

_LIMIT_RE = re.compile(r"^\s*(\d+)\s*(wh|wd|h|min)\s*$")
REGION_LENGTHS = {6: "district", 9: "street", 12: "community", 15: "unit"}


class Stage(StrEnum):
    """A timed stage of the case lifecycle."""

    FILE = "file"
    DISPATCH = "dispatch"
    HANDLE = "handle"
    VERIFY = "verify"
    TOTAL = "total"  # 总时限: not a stage of its own, the overall limit from filing to closing


class DepartmentKind(StrEnum):
    """What sort of body a department is."""

    DEPARTMENT = "department"
    COMMAND_CENTER = "command_center"
    LEADERSHIP = "leadership"
    STREET_OFFICE = "street_office"
    COMMUNITY_STATION = "community_station"


class HandlingLevel(StrEnum):
    """The lowest grid level that normally handles a category."""

    COMMUNITY = "community"
    STREET = "street"
    DISTRICT = "district"


class UnknownCategory(KeyError, ValueError):
    """A category code that is not in the catalogue."""

    def __init__(self, code: object) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"unknown category {self.code!r}"


class UnknownDepartment(KeyError, ValueError):
    """A department code that is not in the catalogue."""

    def __init__(self, code: object) -> None:
        super().__init__(code)
        self.code = code

    def __str__(self) -> str:
        return f"unknown department {self.code!r}"


@dataclass(frozen=True)
class TimeLimit:
    """A time allowance such as 5 working hours ("5wh"), 1 working day ("1wd"), 4 hours ("4h") or 30 minutes ("30min")."""

    amount: int
    unit: TimeUnit

    def __post_init__(self) -> None:
        if self.unit not in TIME_UNITS:
            raise ValueError(f"time limit unit {self.unit!r} is not one of {', '.join(TIME_UNITS)}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int) or self.amount < 0:
            raise ValueError(f"time limit amount {self.amount!r} must be a whole number >= 0")

    @classmethod
    def parse(cls, text: str) -> TimeLimit:
        """Parse "5wh", "1wd", "4h" or "30min"; ValueError naming the text otherwise."""
        if not isinstance(text, str):
            raise ValueError(f"time limit {text!r} is not a string like '5wh', '1wd', '4h' or '30min'")
        match = _LIMIT_RE.match(text)
        if not match:
            raise ValueError(
                f"time limit {text!r} is not a whole number followed by wh, wd, h or min (e.g. '5wh', '1wd', '4h', '30min')"
            )
        return cls(int(match.group(1)), cast(TimeUnit, match.group(2)))  # the pattern admits only these units

    @property
    def is_working_time(self) -> bool:
        """True when counted on the working calendar (wh/wd), False for wall-clock time (h/min)."""
        return self.unit in WORKING_UNITS

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


@dataclass(frozen=True)
class Department:
    """A body cases can be dispatched to: a functional department or a grid level's own handling body."""

    code: str
    name_zh: str
    name_en: str
    kind: DepartmentKind
    region: str | None = None


@dataclass(frozen=True)
class Family:
    """A category family: 部件 (components, "01") or 事件 (events, "02")."""

    code: str
    name_zh: str
    name_en: str


@dataclass(frozen=True)
class BigClass:
    """A big class (大类) inside a family, with a 4-digit code."""

    code: str
    name_zh: str
    name_en: str
    family: str


@dataclass(frozen=True)
class Category:
    """A small class (小类): the unit cases are categorised by, with its default department and stage time limits."""

    code: str
    name_zh: str
    name_en: str
    family: str
    big_class: str
    keywords: tuple[str, ...]
    default_department: str | None
    urgency: int
    handling_level: HandlingLevel
    dup_radius_m: float
    dup_window_h: float
    limits: Mapping[Stage, TimeLimit] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash(self.code)

    def limit(self, stage: Stage | str) -> TimeLimit | None:
        """The time limit of one stage, or None when the stage is not timed."""
        return self.limits.get(Stage(stage))


@dataclass(frozen=True)
class RoutingOverride:
    """A local routing exception: cases of a category (or prefix) in a region go to another department."""

    id: str
    region: str
    category: str
    department: str
    level: str | None = None
    note: str = ""

    @property
    def region_level(self) -> str:
        """The grid level of the region code: district, street, community or unit."""
        return REGION_LENGTHS[len(self.region)]


@dataclass(frozen=True)
class EscalationLevel:
    """One rung of the escalation ladder, lowest rank first."""

    code: str
    name_zh: str
    name_en: str
    rank: int
    auto_escalate_after: TimeLimit | None
    department: str | None = None
    owners: Mapping[str, str] = field(default_factory=dict)  # category prefix → the department owning it here


@dataclass(frozen=True)
class Catalogue:
    """Everything the engine knows about departments, categories, routing overrides and escalation."""

    departments: Mapping[str, Department]
    families: Mapping[str, Family]
    big_classes: Mapping[str, BigClass]
    categories: Mapping[str, Category]
    overrides: tuple[RoutingOverride, ...]
    escalation: tuple[EscalationLevel, ...]

    def category(self, code: str) -> Category:
        """The small class with this code; UnknownCategory otherwise."""
        try:
            return self.categories[code]
        except (KeyError, TypeError):
            raise UnknownCategory(code) from None

    def find_category(self, code: str | None) -> Category | None:
        """The small class with this code, or None."""
        if code is None:
            return None
        return self.categories.get(code)

    def department(self, code: str) -> Department:
        """The department with this code; UnknownDepartment otherwise."""
        try:
            return self.departments[code]
        except (KeyError, TypeError):
            raise UnknownDepartment(code) from None

    def escalation_level(self, code: str) -> EscalationLevel:
        """The ladder rung with this code; ValueError naming it otherwise."""
        for level in self.escalation:
            if level.code == code:
                return level
        raise ValueError(f"unknown escalation level {code!r}; ladder is {[lvl.code for lvl in self.escalation]}")

    def search_categories(self, text: str) -> list[Category]:
        """Small classes matching text by code, name (zh/en), keyword or big-class name; best matches first."""
        needle = (text or "").strip().casefold()
        if not needle:
            return []
        scored: list[tuple[int, str, Category]] = []
        for cat in self.categories.values():
            big = self.big_classes[cat.big_class]
            names = (cat.name_zh.casefold(), cat.name_en.casefold())
            keywords = [k.casefold() for k in cat.keywords]
            if cat.code == needle:
                score = 0
            elif cat.code.startswith(needle):
                score = 1
            elif needle in names:
                score = 2
            elif any(needle in n for n in names):
                score = 3
            elif needle in keywords:
                score = 4
            elif any(needle in k for k in keywords):
                score = 5
            elif needle in big.name_zh.casefold() or needle in big.name_en.casefold():
                score = 6
            else:
                continue
            scored.append((score, cat.code, cat))
        scored.sort(key=lambda item: (item[0], item[1]))
        return [cat for _, _, cat in scored]
