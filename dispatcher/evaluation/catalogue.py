"""The indicator catalogue (data/indicators.yaml): versions by effective date, each with its indicators and the sets
that score regions, departments and posts; the posts; the grade bands. Validated on load: every numerator and
denominator is a known count (dispatcher/evaluation/counts.py), every set names known indicators and its weights
sum to 1 (or are all 0)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from dispatcher.evaluation.counts import COUNTS
from dispatcher.evaluation.tables import IndicatorDef
from dispatcher.settings import REPO_ROOT

PERSON_COLUMNS = ("reported_by", "filed_by", "dispatched_by", "assignee", "verifier")
WEIGHT_TOLERANCE = 1e-6


class Grade(BaseModel):
    model_config = ConfigDict(frozen=True)
    grade: str
    min: float


class Post(BaseModel):
    """A post (岗位): the case column naming its person, the intake channel it covers (if any), its indicator set."""

    model_config = ConfigDict(frozen=True)
    code: str
    name_zh: str
    name_en: str
    person: str
    channel: str | None = None
    set: str

    @field_validator("person")
    @classmethod
    def _known_column(cls, value: str) -> str:
        if value not in PERSON_COLUMNS:
            raise ValueError(f"person column {value!r} is not one of {', '.join(PERSON_COLUMNS)}")
        return value


class Version(BaseModel):
    """The catalogue in force from `effective_from`: indicators and weighted sets."""

    model_config = ConfigDict(frozen=True)
    effective_from: date
    indicators: list[IndicatorDef]
    sets: dict[str, dict[str, float]]

    @model_validator(mode="after")
    def _consistent(self) -> Version:
        where = f"version {self.effective_from}"
        for ind in self.indicators:
            for count in (ind.numerator, ind.denominator):
                if count not in COUNTS:
                    raise ValueError(f"{where}: indicator {ind.code} counts {count!r}, not a known count")
        codes = {ind.code for ind in self.indicators}
        for name, weights in self.sets.items():
            unknown = sorted(set(weights) - codes)
            if unknown:
                raise ValueError(f"{where}: set {name} names unknown indicators {', '.join(unknown)}")
            total = sum(weights.values())
            if any(w < 0 for w in weights.values()) or (total and abs(total - 1) > WEIGHT_TOLERANCE):
                raise ValueError(f"{where}: weights of set {name} sum to {total:g}, not 1 (or all 0)")
        return self

    @property
    def key(self) -> str:
        return self.effective_from.isoformat()

    def indicator_set(self, name: str) -> list[IndicatorDef]:
        """The indicators of set `name` in catalogue order, each with the set's weight; KeyError naming the sets."""
        if name not in self.sets:
            raise KeyError(f"unknown indicator set {name!r}; known: {', '.join(self.sets)}")
        weights = self.sets[name]
        return [ind.model_copy(update={"weight": weights[ind.code]}) for ind in self.indicators if ind.code in weights]


class Catalogue(BaseModel):
    """Every version, the posts and the grade bands."""

    model_config = ConfigDict(frozen=True)
    versions: list[Version]
    posts: dict[str, Post]
    grades: list[Grade]

    @model_validator(mode="after")
    def _ordered(self) -> Catalogue:
        if not self.versions:
            raise ValueError("the catalogue has no version")
        days = [v.effective_from for v in self.versions]
        if days != sorted(days) or len(set(days)) != len(days):
            raise ValueError(f"versions must be in increasing effective_from order: {days}")
        for post in self.posts.values():
            missing = [v.key for v in self.versions if post.set not in v.sets]
            if missing:
                raise ValueError(f"post {post.code}: set {post.set!r} missing in versions {', '.join(missing)}")
        return self

    @property
    def sets(self) -> dict[str, dict[str, float]]:
        """The indicator sets of the latest version (set name → indicator code → weight)."""
        return self.versions[-1].sets

    def version_at(self, day: date) -> Version:
        """The version in force on `day` (the last one effective by then); ValueError before the first."""
        found = [v for v in self.versions if v.effective_from <= day]
        if not found:
            raise ValueError(f"no catalogue version in force on {day}; the first is from {self.versions[0].key}")
        return found[-1]

    def grade(self, score: float | None) -> str | None:
        """The first band whose minimum `score` reaches (bands are listed best first)."""
        if score is None:
            return None
        for band in sorted(self.grades, key=lambda g: -g.min):
            if score >= band.min:
                return band.grade
        return self.grades[-1].grade


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue (default: the shipped data/indicators.yaml); ValueError naming the file and
    what is wrong."""
    path = path or REPO_ROOT / "data" / "indicators.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    posts = {code: {"code": code, **body} for code, body in (raw.get("posts") or {}).items()}
    try:
        return Catalogue(versions=raw.get("versions") or [], posts=posts, grades=raw.get("grades") or [])
    except ValidationError as exc:
        raise ValueError(f"{path.name}: {exc}") from None
