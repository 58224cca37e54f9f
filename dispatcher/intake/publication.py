"""What the city publishes on Open311 (data/open311_public.yaml): which cases, by channel and category, and the
neutral status notes; read once per path, checked against the catalogue, applied as one SQL condition."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from sqlalchemy import ColumnElement, and_, not_, or_

from dispatcher.cases.incident import Channel, Incident
from dispatcher.cases.lifecycle import Status
from dispatcher.city.catalogue import Catalogue

PUBLICATION_FILE = "open311_public.yaml"  # in settings.data_dir
LANGUAGES = ("zh", "en")
_KEYS = {"channels", "categories", "status_notes"}
_CATEGORY_KEYS = {"include", "exclude"}


@dataclass(frozen=True)
class Publication:
    """The rules of the public feed: a case is published when its channel is listed, its category is included
    (every category when `include` is empty) and not excluded; codes are catalogue code prefixes."""

    channels: frozenset[str]
    include: tuple[str, ...]
    exclude: tuple[str, ...]
    status_notes: Mapping[str, Mapping[str, str]]

    def published(self) -> ColumnElement[bool]:
        """The SQL condition on `Incident` that selects exactly the published cases."""
        condition: ColumnElement[bool] = Incident.channel.in_(sorted(self.channels))
        code = Incident.category_code
        if self.include:
            condition = and_(condition, or_(*(code.startswith(p, autoescape=True) for p in self.include)))
        if self.exclude:
            hidden = or_(*(code.startswith(p, autoescape=True) for p in self.exclude))
            condition = and_(condition, or_(code.is_(None), not_(hidden)))
        return condition

    def status_note(self, status: str, lang: str = "zh") -> str:
        """The neutral note of a lifecycle status, in `lang` (zh when the file has none in it)."""
        texts = self.status_notes[status]
        return texts.get(lang) or texts["zh"]


def _codes(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
        raise ValueError(f"{where} must be a list of QUOTED category codes, got {value!r}")
    for code in value:
        if not code.isdigit() or len(code) not in (2, 4, 6):
            raise ValueError(f"{where}: {code!r} is not a family (2 digits), big class (4) or small class (6) code")
    return tuple(value)


def _status_notes(value: Any, name: str) -> dict[str, MappingProxyType[str, str]]:
    if not isinstance(value, dict):
        raise ValueError(f"{name}: status_notes must map every lifecycle status to {{zh: ..., en: ...}}")
    unknown = sorted(str(k) for k in value if k not in {str(s) for s in Status})
    missing = sorted(str(s) for s in Status if str(s) not in value)
    if unknown or missing:
        raise ValueError(f"{name}: status_notes: unknown statuses {unknown}, missing statuses {missing}")
    notes: dict[str, MappingProxyType[str, str]] = {}
    for status, texts in value.items():
        where = f"{name}: status_notes.{status}"
        if not isinstance(texts, dict) or set(texts) - set(LANGUAGES):
            raise ValueError(f"{where} must be a mapping with zh (and en), got {texts!r}")
        if not all(isinstance(t, str) and t.strip() for t in texts.values()) or "zh" not in texts:
            raise ValueError(f"{where}: zh is required and every text must be a non-empty string")
        notes[str(status)] = MappingProxyType({lang: str(text).strip() for lang, text in texts.items()})
    return notes


def parse_publication(raw: Any, name: str = PUBLICATION_FILE) -> Publication:
    """The rules from the parsed YAML; ValueError naming the file and the key at fault."""
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: expected a mapping with channels, categories and status_notes")
    if unknown := sorted(set(raw) - _KEYS):
        raise ValueError(f"{name}: unknown keys {unknown} (known: {sorted(_KEYS)})")
    channels = raw.get("channels")
    known = {str(c) for c in Channel}
    if not isinstance(channels, list) or not all(isinstance(c, str) and c in known for c in channels):
        raise ValueError(f"{name}: channels must be a list of {sorted(known)}, got {channels!r}")
    categories = raw.get("categories") or {}
    if not isinstance(categories, dict) or set(categories) - _CATEGORY_KEYS:
        raise ValueError(f"{name}: categories may only have include and exclude lists, got {categories!r}")
    return Publication(
        channels=frozenset(channels),
        include=_codes(categories.get("include"), f"{name}: categories.include"),
        exclude=_codes(categories.get("exclude"), f"{name}: categories.exclude"),
        status_notes=MappingProxyType(_status_notes(raw.get("status_notes"), name)),
    )


@lru_cache(maxsize=4)
def load_publication(path: Path) -> Publication:
    """The rules in `path` (settings.data_dir / PUBLICATION_FILE), read once per path; ValueError naming the
    file when it is missing or invalid (nothing is published then)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"{path.name}: cannot be read ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path.name}: not valid YAML: {exc}") from None
    return parse_publication(raw, path.name)


def check_publication(publication: Publication, catalogue: Catalogue) -> list[str]:
    """Codes of the rules that name nothing in the catalogue (a typo would publish what it meant to hide)."""
    known = set(catalogue.families) | set(catalogue.big_classes) | set(catalogue.categories)
    return [
        f"{PUBLICATION_FILE}: categories.{key}: {code!r} is not a family, big class or small class code"
        for key, codes in (("include", publication.include), ("exclude", publication.exclude))
        for code in codes
        if code not in known
    ]
