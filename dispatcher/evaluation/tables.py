"""What the indicator engine answers (考核评价): a table of objects × indicators over one period, each cell a rate
with what it is made of, compared with the previous period (环比) and the same period a year before (同比)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, computed_field

from dispatcher.evaluation.periods import Period


class ObjectKind(StrEnum):
    """What is evaluated: a grid level, a department, a post (岗位) or a person."""

    DISTRICT = "district"  # Incident.grid_district
    STREET = "street"  # Incident.grid_street
    COMMUNITY = "community"  # Incident.grid_community
    UNIT = "unit"  # Incident.grid_unit (单元网格)
    DEPARTMENT = "department"  # Incident.department_code
    POST = "post"  # grid_worker, call_taker, dispatcher, shift_leader, handler
    PERSON = "person"  # the people of one post (the table's parent is the post)


class PeriodKind(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"
    RANGE = "range"


class Direction(StrEnum):
    """Which way is better: a high 结案率, a low 返工率."""

    HIGHER = "higher"
    LOWER = "lower"


class IndicatorDef(BaseModel):
    """One indicator of the catalogue version in force: numerator ÷ denominator, both named counts."""

    model_config = ConfigDict(frozen=True)
    code: str
    name_zh: str
    name_en: str
    numerator: str
    denominator: str
    direction: Direction = Direction.HIGHER
    weight: float = 0.0  # share of the composite score (综合指标值); 0: shown, not scored


class Cell(BaseModel):
    """One indicator of one object: numerator of denominator, with its comparisons and a sparkline."""

    model_config = ConfigDict(frozen=True)
    numerator: int
    denominator: int
    previous: float | None = None  # the same indicator over the previous period of the same kind (环比)
    last_year: float | None = None  # the same period one year before (同比)
    trend: list[float | None] = Field(default_factory=list)  # the last periods, oldest first, this one last

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        """The share, rounded to 4 places; None when the denominator is 0 (never a fake 100 % or 0 %)."""
        return round(self.numerator / self.denominator, 4) if self.denominator else None


class Row(BaseModel):
    """One object of the table: its named counts, its indicators, composite score, grade and rank."""

    model_config = ConfigDict(frozen=True)
    code: str  # grid code, department code, post code or person id; "*" for the table's total
    name: str
    counts: dict[str, int]
    cells: dict[str, Cell]  # indicator code → cell
    score: float | None = None  # 综合指标值, 0–100; None when no scored indicator has a denominator
    grade: str | None = None  # A–E
    rank: int | None = None  # 1 = best score within the table; None when unscored
    drill: ObjectKind | None = None  # the kind one level down (street → community, department → person)


class Table(BaseModel):
    """Objects of one kind (inside `parent` when given) over one period, best score first, and their total."""

    model_config = ConfigDict(frozen=True)
    kind: ObjectKind
    parent: str | None
    period: Period
    previous: Period
    last_year: Period
    catalogue_version: str  # the effective date of the catalogue version used for this period
    indicators: list[IndicatorDef]
    rows: list[Row]
    total: Row
    computed_at: datetime


class CaseRef(BaseModel):
    """A case behind a number (click a cell): enough to list it and open it."""

    model_config = ConfigDict(frozen=True)
    id: str
    case_number: str | None
    status: str
    category_code: str | None
    department_code: str | None
    grid_street: str | None
    created_at: datetime
    closed_at: datetime | None
