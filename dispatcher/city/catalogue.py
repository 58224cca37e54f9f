"""The category catalogue: departments, case categories with time limits, routing overrides and the escalation ladder."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, get_args

import yaml

TimeUnit = Literal["wh", "wd", "h", "min"]
TIME_UNITS: tuple[str, ...] = get_args(TimeUnit)
WORKING_UNITS = frozenset({"wh", "wd"})

_LIMIT_RE = re.compile(r"^\s*(\d+)\s*(wh|wd|h|min)\s*$")
_REGION_LENGTHS = {6: "district", 9: "street", 12: "community", 15: "unit"}


class Stage(StrEnum):
    """A timed stage of the case lifecycle."""

    FILE = "file"
    DISPATCH = "dispatch"
    HANDLE = "handle"
    VERIFY = "verify"


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
        return cls(int(match.group(1)), match.group(2))  # type: ignore[arg-type]

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
        return _REGION_LENGTHS[len(self.region)]


@dataclass(frozen=True)
class EscalationLevel:
    """One rung of the escalation ladder, lowest rank first."""

    code: str
    name_zh: str
    name_en: str
    rank: int
    auto_escalate_after: TimeLimit | None
    department: str | None = None


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


# ---------------------------------------------------------------- loading


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None


def _str(value: Any, where: str, key: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {key} must be a non-empty string (quote codes in YAML), got {value!r}")
    return value


def _limit(value: Any, where: str) -> TimeLimit:
    try:
        return TimeLimit.parse(value)
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def _load_departments(path: Path) -> dict[str, Department]:
    raw = _read_yaml(path)
    if not isinstance(raw, dict) or not isinstance(raw.get("departments"), list):
        raise ValueError(f"{path.name}: expected a top-level 'departments' list")
    out: dict[str, Department] = {}
    for i, item in enumerate(raw["departments"]):
        where = f"{path.name}: department #{i + 1}"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected a mapping, got {item!r}")
        code = _str(item.get("code"), where, "code")
        where = f"{path.name}: department {code}"
        if code in out:
            raise ValueError(f"{where}: duplicate department code")
        try:
            kind = DepartmentKind(item.get("kind"))
        except ValueError:
            raise ValueError(
                f"{where}: kind {item.get('kind')!r} is not one of {[k.value for k in DepartmentKind]}"
            ) from None
        out[code] = Department(
            code=code,
            name_zh=_str(item.get("name_zh"), where, "name_zh"),
            name_en=_str(item.get("name_en"), where, "name_en"),
            kind=kind,
            region=_str(item.get("region"), where, "region", optional=True),
        )
    return out


def _load_categories(
    path: Path, departments: Mapping[str, Department]
) -> tuple[dict[str, Family], dict[str, BigClass], dict[str, Category]]:
    raw = _read_yaml(path)
    name = path.name
    if not isinstance(raw, dict) or not isinstance(raw.get("families"), list):
        raise ValueError(f"{name}: expected a top-level 'families' list")
    defaults = raw.get("defaults") or {}
    default_limits = defaults.get("limits") or {}
    families: dict[str, Family] = {}
    bigs: dict[str, BigClass] = {}
    cats: dict[str, Category] = {}
    for fam in raw["families"]:
        fcode = _str(fam.get("code"), f"{name}: family", "code")
        where = f"{name}: family {fcode}"
        if len(fcode) != 2 or not fcode.isdigit() or fcode in families:
            raise ValueError(f"{where}: family code must be 2 unique digits")
        families[fcode] = Family(
            fcode, _str(fam.get("name_zh"), where, "name_zh"), _str(fam.get("name_en"), where, "name_en")
        )
        for big in fam.get("big_classes") or []:
            bcode = _str(big.get("code"), where, "big class code")
            bwhere = f"{name}: big class {bcode}"
            if len(bcode) != 4 or not bcode.isdigit() or not bcode.startswith(fcode) or bcode in bigs:
                raise ValueError(f"{bwhere}: big class code must be 4 unique digits starting with family {fcode}")
            bigs[bcode] = BigClass(
                bcode, _str(big.get("name_zh"), bwhere, "name_zh"), _str(big.get("name_en"), bwhere, "name_en"), fcode
            )
            for item in big.get("classes") or []:
                cat = _category(item, {**defaults, "limits": default_limits}, bcode, fcode, name, departments)
                if cat.code in cats:
                    raise ValueError(f"{name}: category {cat.code}: duplicate small class code")
                cats[cat.code] = cat
    return families, bigs, cats


def _category(
    item: Any, defaults: dict, bcode: str, fcode: str, name: str, departments: Mapping[str, Department]
) -> Category:
    if not isinstance(item, dict):
        raise ValueError(f"{name}: big class {bcode}: expected a mapping per small class, got {item!r}")
    code = _str(item.get("code"), f"{name}: big class {bcode}: small class", "code")
    where = f"{name}: category {code}"
    if len(code) != 6 or not code.isdigit() or not code.startswith(bcode):
        raise ValueError(f"{where}: small class code must be 6 digits starting with big class {bcode}")
    dept = item.get("default_department", defaults.get("default_department"))
    if dept is not None and dept not in departments:
        raise ValueError(f"{where}: default_department {dept!r} is not in departments.yaml")
    urgency = item.get("urgency", defaults.get("urgency", 1))
    if urgency not in (1, 2, 3):
        raise ValueError(f"{where}: urgency {urgency!r} must be 1, 2 or 3")
    level = item.get("handling_level", defaults.get("handling_level", "district"))
    try:
        handling_level = HandlingLevel(level)
    except ValueError:
        raise ValueError(
            f"{where}: handling_level {level!r} is not one of {[h.value for h in HandlingLevel]}"
        ) from None
    raw_limits = {**(defaults.get("limits") or {}), **(item.get("limits") or {})}
    limits: dict[Stage, TimeLimit] = {}
    for stage_name, text in raw_limits.items():
        try:
            stage = Stage(stage_name)
        except ValueError:
            raise ValueError(
                f"{where}: unknown stage {stage_name!r} in limits; stages are {[s.value for s in Stage]}"
            ) from None
        limits[stage] = _limit(text, f"{where}: limits.{stage_name}")
    keywords = item.get("keywords") or []
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ValueError(f"{where}: keywords must be a list of strings")
    numbers = {}
    for key in ("dup_radius_m", "dup_window_h"):
        value = item.get(key, defaults.get(key))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            raise ValueError(f"{where}: {key} must be a positive number, got {value!r}")
        numbers[key] = value
    return Category(
        code=code,
        name_zh=_str(item.get("name_zh"), where, "name_zh"),
        name_en=_str(item.get("name_en"), where, "name_en"),
        family=fcode,
        big_class=bcode,
        keywords=tuple(keywords),
        default_department=dept,
        urgency=urgency,
        handling_level=handling_level,
        dup_radius_m=numbers["dup_radius_m"],
        dup_window_h=numbers["dup_window_h"],
        limits=MappingProxyType(limits),
    )


def _load_routing(
    path: Path, departments: Mapping[str, Department], families: Mapping, bigs: Mapping, cats: Mapping
) -> tuple[tuple[RoutingOverride, ...], tuple[EscalationLevel, ...]]:
    raw = _read_yaml(path)
    name = path.name
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: expected a mapping with 'overrides' and 'escalation'")
    overrides: list[RoutingOverride] = []
    seen: set[str] = set()
    for i, item in enumerate(raw.get("overrides") or []):
        rid = _str(item.get("id") if isinstance(item, dict) else None, f"{name}: override #{i + 1}", "id")
        where = f"{name}: override {rid}"
        if rid in seen:
            raise ValueError(f"{where}: duplicate override id")
        seen.add(rid)
        region = _str(item.get("region"), where, "region")
        if not region.isdigit() or len(region) not in _REGION_LENGTHS:
            raise ValueError(f"{where}: region {region!r} must be a grid code of 6, 9, 12 or 15 digits")
        category = _str(item.get("category"), where, "category")
        if category not in cats and category not in bigs and category not in families:
            raise ValueError(f"{where}: category {category!r} is not a small class, big class or family code")
        dept = _str(item.get("department"), where, "department")
        if dept not in departments:
            raise ValueError(f"{where}: department {dept!r} is not in departments.yaml")
        level = item.get("level")
        if level is not None and level not in {h.value for h in HandlingLevel} | {"grid_worker", "leadership"}:
            raise ValueError(f"{where}: level {level!r} is not a ladder level")
        overrides.append(RoutingOverride(rid, region, category, dept, level, str(item.get("note") or "")))
    ladder: list[EscalationLevel] = []
    items = raw.get("escalation") or []
    if not items:
        raise ValueError(f"{name}: 'escalation' ladder is missing or empty")
    for rank, item in enumerate(items):
        code = _str(item.get("code") if isinstance(item, dict) else None, f"{name}: escalation #{rank + 1}", "code")
        where = f"{name}: escalation level {code}"
        if any(lvl.code == code for lvl in ladder):
            raise ValueError(f"{where}: duplicate level code")
        after = item.get("auto_escalate_after")
        dept = item.get("department")
        if dept is not None and dept not in departments:
            raise ValueError(f"{where}: department {dept!r} is not in departments.yaml")
        ladder.append(
            EscalationLevel(
                code=code,
                name_zh=_str(item.get("name_zh"), where, "name_zh"),
                name_en=_str(item.get("name_en"), where, "name_en"),
                rank=rank,
                auto_escalate_after=None if after is None else _limit(after, f"{where}: auto_escalate_after"),
                department=dept,
            )
        )
    return tuple(overrides), tuple(ladder)


def load_catalogue(data_dir: Path) -> Catalogue:
    """Load departments.yaml, categories.yaml and routing.yaml from data_dir, checking every cross-reference."""
    data_dir = Path(data_dir)
    departments = _load_departments(data_dir / "departments.yaml")
    families, bigs, cats = _load_categories(data_dir / "categories.yaml", departments)
    overrides, ladder = _load_routing(data_dir / "routing.yaml", departments, families, bigs, cats)
    return Catalogue(
        departments=MappingProxyType(departments),
        families=MappingProxyType(families),
        big_classes=MappingProxyType(bigs),
        categories=MappingProxyType(cats),
        overrides=overrides,
        escalation=ladder,
    )
