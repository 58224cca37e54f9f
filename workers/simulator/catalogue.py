"""The category catalogue as the simulator needs it: small class names, codes, and which classes lack a department."""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class Catalogue:
    """The small classes the simulator can describe (name_zh → code) and the codes that have no default department."""

    class_codes: dict[str, str]
    no_department: frozenset[str]

    @classmethod
    def load(cls, path: str | Path | None = None) -> Catalogue:
        """The catalogue of categories.yaml (the configured data folder's unless a path is given)."""
        codes = load_category_codes(path)
        return cls(
            class_codes={name: codes[name] for name in TEMPLATES if name in codes},
            no_department=frozenset(load_no_department_codes(path)),
        )

    @cached_property
    def code_names(self) -> dict[str, str]:
        """Code → small class name_zh."""
        return {code: name for name, code in self.class_codes.items()}
