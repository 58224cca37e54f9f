"""The indicator engine (考核评价): tables of objects × indicators over a period, with month-on-month (环比),
year-on-year (同比) and a sparkline per cell, composite score, grade and rank; the cases behind any number; series
for trend charts.

Set-based: one grouped SQL statement of conditional sums (dispatcher/evaluation/counts.py) over the incident table
for the period and the trend before it, one more for the same period a year before — whatever the number of cases
(a post table runs one per post). Periods are evaluated up to `now`: a deadline later this month is not yet due.
The catalogue version is the one in force on the period's first local day (past results never change with weights).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, text, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatcher.cases.incident import Incident
from dispatcher.evaluation import frozen, objects
from dispatcher.evaluation.catalogue import Catalogue, Version
from dispatcher.evaluation.counts import condition, one_pass, runs
from dispatcher.evaluation.periods import Period, back, clipped, last_year, previous
from dispatcher.evaluation.tables import CaseRef, Cell, Direction, IndicatorDef, ObjectKind, Row, Table

Counts = dict[str, int]
TOTAL = "*"


def version_of(catalogue: Catalogue, period: Period) -> Version:
    """The catalogue version in force on the first local day of `period`."""
    return catalogue.version_at(period.start.date())


def grouped_counts(
    session: Session,
    label: ColumnElement[str | None] | InstrumentedAttribute[str | None] | None,
    where: ColumnElement[bool],
    periods: Sequence[Period],
    names: Sequence[str],
) -> dict[str, list[Counts]]:
    """object → one {count: n} per period (`label` None: one ungrouped total, keyed "*"), one pass over the incident
    rows per run of contiguous periods (dispatcher/evaluation/counts.py)."""
    if session.get_bind().dialect.name == "postgresql":  # the grouped keys sort in memory, not on disk (bench)
        session.execute(text("SET LOCAL work_mem = '64MB'"))
    out: dict[str, list[Counts]] = {}
    done = 0
    for run in runs(periods):
        for obj, found in one_pass(session, label, where, run, names):
            code = TOTAL if label is None else str(obj)
            out.setdefault(code, [dict.fromkeys(names, 0) for _ in range(done)]).extend(found)
        done += len(run)
        for series_ in out.values():  # objects absent from this run: zeros
            series_.extend(dict.fromkeys(names, 0) for _ in range(done - len(series_)))
    if label is None and TOTAL not in out:
        out[TOTAL] = [dict.fromkeys(names, 0) for _ in periods]
    return out


def kept_counts(
    session: Session,
    label: ColumnElement[str | None] | InstrumentedAttribute[str | None] | None,
    where: ColumnElement[bool],
    periods: Sequence[Period],
    names: Sequence[str],
    now: datetime | None,
) -> dict[str, list[Counts]]:
    """grouped_counts, with finished periods read from (and kept in) the frozen store (dispatcher/evaluation/
    frozen.py); `now` None keeps nothing."""
    compute = lambda spans: grouped_counts(session, label, where, spans, names)
    if now is None:
        return compute(periods)
    return frozen.counts_over(session, frozen.shape_key(session, label, where, names), periods, names, now, compute)


def _value(indicator: IndicatorDef, counts: Counts | None) -> float | None:
    if counts is None:
        return None
    den = counts.get(indicator.denominator, 0)
    return round(counts.get(indicator.numerator, 0) / den, 4) if den else None


def _summed(groups: Mapping[str, list[Counts]], n: int) -> list[Counts]:
    out: list[Counts] = [{} for _ in range(n)]
    for series in groups.values():
        for i, counts in enumerate(series):
            for name, v in counts.items():
                out[i][name] = out[i].get(name, 0) + v
    return out


# Composite score (综合指标值), grade and rank: a `higher` indicator scores 100 × value, a `lower` one 100 × (1 − value)
# (values clamped to 0–1); the score is the weighted mean over the scored indicators that have a denominator (weights
# renormalised over them); grades from the catalogue's bands; ranks best first, ties sharing.


def indicator_score(indicator: IndicatorDef, value: float) -> float:
    """100 × value (higher is better) or 100 × (1 − value) (lower is better), value clamped to [0, 1]."""
    v = min(max(value, 0.0), 1.0)
    return 100 * v if indicator.direction is Direction.HIGHER else 100 * (1 - v)


def composite(indicators: list[IndicatorDef], cells: Mapping[str, Cell]) -> float | None:
    """Σ weight × score / Σ weight over weighted indicators with a denominator; None when there is none."""
    total = weights = 0.0
    for ind in indicators:
        cell = cells.get(ind.code)
        if ind.weight <= 0 or cell is None or cell.value is None:
            continue
        total += ind.weight * indicator_score(ind, cell.numerator / cell.denominator)
        weights += ind.weight
    return round(total / weights, 2) if weights else None


def ranked(rows: list[Row]) -> list[Row]:
    """Rows best score first (unscored last, by code), each with its rank; equal scores share a rank (1, 1, 3)."""
    scored = sorted((r for r in rows if r.score is not None), key=lambda r: (-(r.score or 0.0), r.code))
    out: list[Row] = []
    for position, row in enumerate(scored, start=1):
        same = out and out[-1].score == row.score
        out.append(row.model_copy(update={"rank": out[-1].rank if same else position}))
    return out + sorted((r for r in rows if r.score is None), key=lambda r: r.code)


def _row(
    code: str,
    name: str,
    indicators: list[IndicatorDef],
    history: list[Counts],
    year_before: Counts | None,
    drill: ObjectKind | None,
) -> Row:
    """One object's row: its counts this period (the last of `history`), cells, score (grade and rank come later).
    Built without re-validation (`model_construct`: the numbers come straight from SQL; a unit-grid table has
    thousands of rows)."""
    now_counts = history[-1] if history else {}
    cells = {
        ind.code: Cell.model_construct(
            numerator=now_counts.get(ind.numerator, 0),
            denominator=now_counts.get(ind.denominator, 0),
            previous=_value(ind, history[-2]) if len(history) > 1 else None,
            last_year=_value(ind, year_before),
            trend=[_value(ind, c) for c in history],
        )
        for ind in indicators
    }
    score = composite(indicators, cells)
    return Row.model_construct(
        code=code, name=name, counts=dict(now_counts), cells=cells, score=score, grade=None, rank=None, drill=drill
    )


def _counted_names(indicators: list[IndicatorDef]) -> list[str]:
    return list(dict.fromkeys(n for ind in indicators for n in (ind.numerator, ind.denominator)))


def evaluate(
    session: Session,
    catalogue: Catalogue,
    *,
    kind: ObjectKind,
    period: Period,
    now: datetime,
    tz: str,
    scope: ColumnElement[bool] | None = None,
    parent: str | None = None,
    indicator_set: str | None = None,
    trend: int = 6,
    names: Mapping[str, str] | None = None,
) -> Table:
    """The table of `kind` objects (inside `parent`) over `period` inside `scope` (the caller's scope_clause)."""
    kind = ObjectKind(kind)
    version = version_of(catalogue, period)
    indicators = version.indicator_set(indicator_set or objects.default_set(catalogue, kind, parent))
    counted = _counted_names(indicators)
    history = [clipped(p, now) for p in back(period, max(trend, 2))]
    year = clipped(last_year(period), now)
    where = true() if scope is None else scope
    rows_now: dict[str, list[Counts]] = {}
    rows_year: dict[str, list[Counts]] = {}
    for s in objects.slices(catalogue, kind, parent):
        label = None if s.code else s.label
        found = kept_counts(session, label, and_(where, s.where), history, counted, now)
        found_year = kept_counts(session, label, and_(where, s.where), [year], counted, now)
        if s.code:
            found, found_year = {s.code: found[TOTAL]}, {s.code: found_year[TOTAL]}
        rows_now.update(found)
        rows_year.update(found_year)
    if kind is ObjectKind.POST:
        any_post = objects.object_filter(catalogue, kind, TOTAL, parent)
        total_now = kept_counts(session, None, and_(where, any_post), history, counted, now)[TOTAL]
        total_year = kept_counts(session, None, and_(where, any_post), [year], counted, now)[TOTAL][0]
    else:
        total_now = _summed(rows_now, len(history))
        total_year = _summed(rows_year, 1)[0]
    labels = objects.names_of(session, catalogue, kind, rows_now, names)
    drill = objects.DRILL.get(kind)
    rows = [
        _row(code, labels.get(code, code), indicators, series, (rows_year.get(code) or [{}])[0], drill)
        for code, series in rows_now.items()
    ]
    rows = [r.model_copy(update={"grade": catalogue.grade(r.score)}) for r in ranked(rows)]
    total = _row(TOTAL, "合计", indicators, total_now, total_year, None)
    return Table(
        kind=kind,
        parent=parent,
        period=period,
        previous=previous(period),
        last_year=last_year(period),
        catalogue_version=version.key,
        indicators=indicators,
        rows=rows,
        total=total.model_copy(update={"grade": catalogue.grade(total.score)}),
        computed_at=now,
    )


def cases_behind(
    session: Session,
    catalogue: Catalogue,
    *,
    kind: ObjectKind,
    code: str,
    count: str,
    period: Period,
    now: datetime,
    tz: str,
    scope: ColumnElement[bool] | None = None,
    parent: str | None = None,
    limit: int = 200,
) -> list[CaseRef]:
    """The cases count `count` counts for object `code` ("*": the table's total) over `period`, oldest first."""
    where = and_(
        true() if scope is None else scope,
        objects.object_filter(catalogue, ObjectKind(kind), code, parent),
        condition(count, clipped(period, now)),
    )
    query = select(Incident).where(where).order_by(Incident.created_at, Incident.id).limit(limit)
    return [
        CaseRef(
            id=i.id,
            case_number=i.case_number,
            status=i.status,
            category_code=i.category_code,
            department_code=i.department_code,
            grid_street=i.grid_street,
            created_at=i.created_at,
            closed_at=i.closed_at,
        )
        for i in session.scalars(query)
    ]


def series(
    session: Session,
    catalogue: Catalogue,
    *,
    kind: ObjectKind,
    code: str | None,
    indicator: str,
    periods: list[Period],
    scope: ColumnElement[bool] | None = None,
    parent: str | None = None,
    now: datetime | None = None,
) -> list[Cell]:
    """One indicator of one object (None: the whole table) per period, oldest first, in one statement."""
    version = version_of(catalogue, periods[-1])
    found = [ind for ind in version.indicators if ind.code == indicator]
    if not found:
        raise KeyError(f"unknown indicator {indicator!r}; known: {', '.join(i.code for i in version.indicators)}")
    ind = found[0]
    where = and_(
        true() if scope is None else scope, objects.object_filter(catalogue, ObjectKind(kind), code or TOTAL, parent)
    )
    spans = [clipped(p, now) for p in periods]
    history = kept_counts(session, None, where, spans, _counted_names([ind]), now)[TOTAL]
    return [Cell(numerator=c.get(ind.numerator, 0), denominator=c.get(ind.denominator, 0)) for c in history]
