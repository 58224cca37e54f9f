"""After-dispatch rules as data (data/handling.yaml): return reasons, feedback evidence, closing paths, spot checks."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

from dispatcher.city.catalogue import DepartmentKind

CLOSERS = frozenset({DepartmentKind.COMMUNITY_STATION, DepartmentKind.STREET_OFFICE, DepartmentKind.COMMAND_CENTER})


@dataclass(frozen=True)
class ReturnReason:
    """A 退单 reason code; `evidence`: the return must carry a file of the case."""

    code: str
    name_zh: str
    name_en: str
    evidence: bool


@dataclass(frozen=True)
class HandlingRules:
    """What the loop after dispatch asks for, read from data/handling.yaml."""

    return_reasons: Mapping[str, ReturnReason]
    feedback_photos: tuple[str, ...]  # category prefixes whose feedback needs before and after photos
    closing: Mapping[str, DepartmentKind]  # ladder level → the kind of body that verifies and closes
    spot_check_levels: frozenset[str]

    def return_reason(self, code: str) -> ReturnReason:
        """The reason with this code; ValueError naming the known ones otherwise."""
        try:
            return self.return_reasons[code]
        except KeyError:
            known = ", ".join(self.return_reasons)
            raise ValueError(f"unknown return reason {code!r}; known: {known}") from None

    def needs_photos(self, category_code: str | None) -> bool:
        """Whether feedback on this category must carry before and after photos."""
        return category_code is not None and any(category_code.startswith(p) for p in self.feedback_photos)

    def closer(self, level: str | None) -> DepartmentKind:
        """The kind of body that closes cases owned at this level (the command center when unknown)."""
        return self.closing.get(level or "", DepartmentKind.COMMAND_CENTER)


def load_handling_rules(path: Path, levels: set[str]) -> HandlingRules:
    """Read data/handling.yaml; ValueError naming the file and the entry for anything malformed."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    where = path.name
    reasons = {}
    for item in raw.get("return_reasons") or []:
        try:
            reason = ReturnReason(str(item["code"]), str(item["name_zh"]), str(item["name_en"]), bool(item["evidence"]))
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{where}: return reason {item!r} lacks {exc}") from None
        reasons[reason.code] = reason
    if not reasons:
        raise ValueError(f"{where}: 'return_reasons' is missing or empty")
    closing = {}
    for level, kind in (raw.get("closing") or {}).items():
        if level not in levels:
            raise ValueError(f"{where}: closing.{level}: not a ladder level ({', '.join(sorted(levels))})")
        try:
            closing[level] = DepartmentKind(kind)
        except ValueError:
            raise ValueError(f"{where}: closing.{level}: {kind!r} is not a department kind") from None
        if closing[level] not in CLOSERS:
            raise ValueError(f"{where}: closing.{level}: a {kind} does not close cases")
    return HandlingRules(
        return_reasons=MappingProxyType(reasons),
        feedback_photos=tuple(str(p) for p in raw.get("feedback_photos") or []),
        closing=MappingProxyType(closing),
        spot_check_levels=frozenset(str(level) for level in raw.get("spot_check_levels") or []),
    )
