"""The catalogue as the simulator needs it: small class names and codes, which classes lack a department, the
departments that take cases, and the rules of the loop after dispatch (data/handling.yaml)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

from dispatcher.settings import get_settings

from .phrases import TEMPLATES


def categories_path() -> Path:
    """categories.yaml in the configured data folder (GRIDCOMMAND_DATA_DIR)."""
    return get_settings().data_dir / "categories.yaml"


def _small_classes(path: str | Path | None) -> list[dict]:
    data = yaml.safe_load(Path(path or categories_path()).read_text(encoding="utf-8"))
    return [
        cls
        for family in data.get("families", [])
        for big in family.get("big_classes", [])
        for cls in big.get("classes", [])
    ]


def load_category_codes(path: str | Path | None = None) -> dict[str, str]:
    """Small class name_zh → code, from categories.yaml (the configured data folder's unless a path is given)."""
    return {str(cls["name_zh"]): str(cls["code"]) for cls in _small_classes(path)}


def load_no_department_codes(path: str | Path | None = None) -> set[str]:
    """Codes of the classes without a default department (they need a department named at filing)."""
    return {str(cls["code"]) for cls in _small_classes(path) if cls.get("default_department", "x") is None}


# The district departments that usually work together on street cases (partners, re-dispatch targets).
COMMON_DEPARTMENTS = ("CGZF", "HW", "SZ", "YL", "ZJ", "SCJG", "JJ", "SW", "STHJ", "JT")


def load_departments(data_dir: Path) -> tuple[str, ...]:
    """The common district departments that departments.yaml has (kind "department"): partners, re-dispatch targets."""
    path = data_dir / "departments.yaml"
    if not path.exists():
        return ()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    rows = data.get("departments", []) if isinstance(data, dict) else []
    known = {str(d["code"]) for d in rows if d.get("kind", "department") == "department"}
    return tuple(code for code in COMMON_DEPARTMENTS if code in known)


def load_loop_rules(data_dir: Path) -> tuple[dict[str, bool], tuple[str, ...], frozenset[str]]:
    """From handling.yaml: return reason code → needs evidence, feedback photo prefixes, levels the station closes."""
    path = data_dir / "handling.yaml"
    if not path.exists():
        return {}, (), frozenset()
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    reasons = {str(r["code"]): bool(r.get("evidence")) for r in data.get("return_reasons") or []}
    photos = tuple(str(p) for p in data.get("feedback_photos") or [])
    station = frozenset(str(level) for level, who in (data.get("closing") or {}).items() if who == "community_station")
    return reasons, photos, station


@dataclass(frozen=True)
class Catalogue:
    """The small classes the simulator can describe (name_zh → code), the codes that have no default department,
    the functional departments, and the loop's rules: return reasons (→ needs evidence), the category prefixes whose
    feedback needs before/after photos, and the levels whose cases the community workstation closes."""

    class_codes: dict[str, str]
    no_department: frozenset[str]
    departments: tuple[str, ...] = ()
    return_reasons: Mapping[str, bool] = field(default_factory=dict)
    feedback_photos: tuple[str, ...] = ()
    station_levels: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        """The catalogue of categories.yaml (the configured data folder's unless a path is given) and its siblings."""
        codes = load_category_codes(path)
        data_dir = Path(path).parent if path else categories_path().parent
        reasons, photos, station = load_loop_rules(data_dir)
        return cls(
            class_codes={name: codes[name] for name in TEMPLATES if name in codes},
            no_department=frozenset(load_no_department_codes(path)),
            departments=load_departments(data_dir),
            return_reasons=reasons,
            feedback_photos=photos,
            station_levels=station,
        )

    @cached_property
    def code_names(self) -> dict[str, str]:
        """Code → small class name_zh."""
        return {code: name for name, code in self.class_codes.items()}

    def needs_photos(self, category_code: object) -> bool:
        """Whether feedback on this category must carry before and after photos."""
        code = str(category_code or "")
        return bool(code) and any(code.startswith(p) for p in self.feedback_photos)
