"""Reading the catalogue's YAML files (departments, categories, routing) into a `Catalogue`; every error names
the file, the entry and the key."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, overload

import yaml

from dispatcher.city.catalogue import (
    REGION_LENGTHS,
    BigClass,
    Catalogue,
    Category,
    Department,
    DepartmentKind,
    EscalationLevel,
    Family,
    HandlingLevel,
    RoutingOverride,
    Stage,
    TimeLimit,
)


def _read_yaml(path: Path) -> Any:
    try:
        with path.open(encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None


@overload
def _str(value: Any, where: str, key: str, *, optional: Literal[False] = False) -> str: ...
@overload
def _str(value: Any, where: str, key: str, *, optional: bool) -> str | None: ...
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
        kind_name = item.get("kind")
        try:
            if not isinstance(kind_name, str):
                raise ValueError(kind_name)
            kind = DepartmentKind(kind_name)
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
    item: Any, defaults: dict[str, Any], bcode: str, fcode: str, name: str, departments: Mapping[str, Department]
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
    path: Path,
    departments: Mapping[str, Department],
    families: Mapping[str, Family],
    bigs: Mapping[str, BigClass],
    cats: Mapping[str, Category],
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
        if not region.isdigit() or len(region) not in REGION_LENGTHS:
            raise ValueError(f"{where}: region {region!r} must be a grid code of 6, 9, 12 or 15 digits")
        category = _str(item.get("category"), where, "category")
        if category not in cats and category not in bigs and category not in families:
            raise ValueError(f"{where}: category {category!r} is not a small class, big class or family code")
        dept = _str(item.get("department"), where, "department")
        if dept not in departments:
            raise ValueError(f"{where}: department {dept!r} is not in departments.yaml")
        level = item.get("level")
        if level is not None and level not in {h.value for h in HandlingLevel} | {"grid_worker", "city", "leadership"}:
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
        owners = {str(prefix): str(owner) for prefix, owner in (item.get("owners") or {}).items()}
        for prefix, owner in owners.items():
            if owner not in departments:
                raise ValueError(f"{where}: owners.{prefix}: department {owner!r} is not in departments.yaml")
        ladder.append(
            EscalationLevel(
                code=code,
                name_zh=_str(item.get("name_zh"), where, "name_zh"),
                name_en=_str(item.get("name_en"), where, "name_en"),
                rank=rank,
                auto_escalate_after=None if after is None else _limit(after, f"{where}: auto_escalate_after"),
                department=dept,
                owners=MappingProxyType(owners),
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
