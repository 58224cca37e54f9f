"""The indicator engine over HTTP (dispatcher/evaluation/engine.py), for the /analysis page: tables, the cases behind a
number, series for trend charts, and the catalogue — inside the caller's scope (leaders, shift leaders, department
heads; others 403). A bad parameter is a 400 naming it.

Query parameters: `kind` (district, street, community, unit, department, post, person; default street), `period`
(day, week, month, quarter, year, range; default month), `at` (a period key such as 2026-11, 2026-Q4, 2026-W48, 2026,
2026-11-30, a day inside the period, or for a range 2026-11-01..2026-11-15; default: the period containing today),
`parent` (the grid one level up, the post of a person table, or a department for its handlers), `set` (indicator
set), `trend` (sparkline length, 0–24), `code`, `count`, `indicator`, `n` (series length, 1–36), `limit`.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from flask import jsonify, request
from pydantic import BaseModel, ConfigDict
from spectree import Response

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role
from dispatcher.cases.scope import scope_clause
from dispatcher.errors import EngineError, Forbidden
from dispatcher.evaluation import engine, periods
from dispatcher.evaluation.catalogue import Catalogue, load_catalogue
from dispatcher.evaluation.counts import COUNTS
from dispatcher.evaluation.tables import CaseRef, Cell, ObjectKind, PeriodKind, Table

TAG = "analysis"
ANALYSTS = frozenset({Role.LEADER, Role.SHIFT_LEADER, Role.DEPT_HEAD})
GRID_KINDS = (ObjectKind.DISTRICT, ObjectKind.STREET, ObjectKind.COMMUNITY, ObjectKind.UNIT)
_CATALOGUE: list[Catalogue] = []


class BadParameter(EngineError):
    """A query parameter that cannot be read: 400, naming it."""

    status, code = 400, "bad_parameter"


class CasesOut(BaseModel):
    items: list[CaseRef]
    limit: int


class SeriesOut(BaseModel):
    periods: list[str]
    cells: list[Cell]


class CatalogueOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    versions: list[dict]
    posts: list[dict]
    grades: list[dict]


def catalogue() -> Catalogue:
    """The shipped catalogue, read once per process."""
    if not _CATALOGUE:
        _CATALOGUE.append(load_catalogue(current_runtime().settings.data_dir / "indicators.yaml"))
    return _CATALOGUE[0]


def may_analyse(principal: Principal) -> bool:
    """Leaders, shift leaders and department heads see the analysis (each within their scope)."""
    return principal.role in ANALYSTS


def analyst(principal: Principal | None = None) -> Principal:
    """The caller (or `principal`), when they may see the analysis (403 otherwise)."""
    principal = principal or require_principal()
    if not may_analyse(principal):
        raise Forbidden(f"role {principal.role} has no analysis (leaders, shift leaders and department heads do)")
    return principal


def choice(args: Any, name: str, enum: Any, default: str) -> Any:
    """Query parameter `name` as a member of `enum` (default `default`), or a 400 naming the choices."""
    value = args.get(name) or default
    try:
        return enum(value)
    except ValueError:
        raise BadParameter(
            f"unknown {name} {value!r}; one of: {', '.join(e.value for e in enum)}", field=name
        ) from None


def _number(name: str, default: int, low: int, high: int) -> int:
    value = request.args.get(name)
    if value in (None, ""):
        return default
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadParameter(f"{name} {value!r} is not a whole number from {low} to {high}", field=name)
    return int(value)


def period_for(args: Any, today: date, tz: str) -> periods.Period:
    """The period `period` + `at` name (default: the period containing `today`)."""
    kind = choice(args, "period", PeriodKind, "month")
    at = args.get("at") or today.isoformat()
    if kind is PeriodKind.RANGE and ".." not in at:
        raise BadParameter(f"a range is written first..last (2026-11-01..2026-11-15), not {at!r}", field="at")
    try:
        return periods.parse(str(kind), at, tz)
    except ValueError as exc:
        raise BadParameter(f"at {at!r} does not name a {kind}: {exc}", field="at") from None


def _period() -> periods.Period:
    rt = current_runtime()
    tz = rt.settings.timezone
    return period_for(request.args, rt.clock().astimezone(ZoneInfo(tz)).date(), tz)


def _names(kind: ObjectKind) -> dict[str, str] | None:
    """Grid and department names from the city (the engine names posts and persons itself)."""
    city = current_runtime().city
    if kind is ObjectKind.DEPARTMENT:
        return {code: d.name_zh for code, d in city.catalogue.departments.items()}
    if kind in GRID_KINDS:
        return {g.code: g.name for g in city.grids.by_level(kind.value)}
    return None


def parent_of(args: Any, cat: Catalogue, kind: ObjectKind) -> str | None:
    """Query parameter `parent`: required by a person table (its post or department)."""
    parent = args.get("parent") or None
    if kind is ObjectKind.PERSON and parent is None:
        raise BadParameter(
            f"a person table needs parent: a post ({', '.join(cat.posts)}) or a department", field="parent"
        )
    return parent


def checked(call: Any) -> Any:
    """Run an engine call, turning its complaints about a named set, indicator or count into a 400."""
    try:
        return call()
    except KeyError as exc:
        message = str(exc.args[0]) if exc.args else str(exc)
        field = "set" if "set" in message else "indicator" if "indicator" in message else "count"
        raise BadParameter(message, field=field) from None
    except ValueError as exc:
        raise BadParameter(str(exc), field="at") from None


@api.get("/analysis/table")
@spec.validate(resp=Response(HTTP_200=Table, HTTP_400=ErrorResponse, HTTP_403=ErrorResponse), tags=[TAG])
def analysis_table():
    """Objects of `kind` (inside `parent`) × the indicators of `set` over the period: counts, rates with 环比, 同比 and
    a sparkline, composite score, grade and rank, and the total row; inside the caller's scope."""
    principal = analyst()
    rt, cat = current_runtime(), catalogue()
    kind = choice(request.args, "kind", ObjectKind, "street")
    period, trend, parent = _period(), _number("trend", 6, 0, 24), parent_of(request.args, cat, kind)
    indicator_set = request.args.get("set") or None
    with rt.sessions.begin() as session:  # finished periods counted here are kept (dispatcher/evaluation/frozen.py)
        table = checked(
            lambda: engine.evaluate(
                session, cat, kind=kind, period=period, now=rt.clock(), tz=rt.settings.timezone,
                scope=scope_clause(principal), parent=parent, indicator_set=indicator_set, trend=trend,
                names=_names(kind),
            )
        )  # fmt: skip
    return jsonify(table.model_dump(mode="json"))


@api.get("/analysis/cases")
@spec.validate(resp=Response(HTTP_200=CasesOut, HTTP_400=ErrorResponse, HTTP_403=ErrorResponse), tags=[TAG])
def analysis_cases():
    """The cases behind one number: count `count` of object `code` ("*": the table's total) over the period, inside
    the caller's scope (at most `limit`, oldest first)."""
    principal = analyst()
    rt, cat = current_runtime(), catalogue()
    kind = choice(request.args, "kind", ObjectKind, "street")
    code, count = request.args.get("code") or "*", request.args.get("count") or ""
    if count not in COUNTS:
        raise BadParameter(f"unknown count {count!r}; one of: {', '.join(COUNTS)}", field="count")
    period, limit, parent = _period(), _number("limit", 200, 1, 1000), request.args.get("parent") or None
    with rt.sessions() as session:
        items = checked(
            lambda: engine.cases_behind(
                session, cat, kind=kind, code=code, count=count, period=period, now=rt.clock(),
                tz=rt.settings.timezone, scope=scope_clause(principal), parent=parent, limit=limit,
            )
        )  # fmt: skip
    return jsonify(items=[c.model_dump(mode="json") for c in items], limit=limit)


@api.get("/analysis/series")
@spec.validate(resp=Response(HTTP_200=SeriesOut, HTTP_400=ErrorResponse, HTTP_403=ErrorResponse), tags=[TAG])
def analysis_series():
    """One indicator of one object (`code`; none: the whole table) over the `n` periods ending with the one named,
    oldest first, inside the caller's scope."""
    principal = analyst()
    rt, cat = current_runtime(), catalogue()
    kind = choice(request.args, "kind", ObjectKind, "street")
    indicator = request.args.get("indicator") or ""
    run = periods.back(_period(), _number("n", 12, 1, 36))
    code, parent = request.args.get("code") or None, request.args.get("parent") or None
    with rt.sessions.begin() as session:
        cells = checked(
            lambda: engine.series(
                session, cat, kind=kind, code=code, indicator=indicator, periods=run,
                scope=scope_clause(principal), parent=parent, now=rt.clock(),
            )
        )  # fmt: skip
    return jsonify(periods=[p.key for p in run], cells=[c.model_dump(mode="json") for c in cells])


@api.get("/analysis/catalogue")
@spec.validate(resp=Response(HTTP_200=CatalogueOut, HTTP_403=ErrorResponse), tags=[TAG])
def analysis_catalogue():
    """The indicator catalogue: versions (effective date, indicators, weighted sets), posts and grade bands."""
    analyst()
    cat = catalogue()
    return jsonify(
        versions=[v.model_dump(mode="json") for v in cat.versions],
        posts=[p.model_dump(mode="json") for p in cat.posts.values()],
        grades=[g.model_dump(mode="json") for g in cat.grades],
    )
