"""Statistics and event catch-up endpoints: today's figures and the live situation for the wall, outbox events after
a sequence number."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases import stats
from dispatcher.cases.scope import can_see_event, can_see_officer, scope_clause
from dispatcher.evaluation import periods
from dispatcher.evaluation.engine import TOTAL, grouped_counts
from dispatcher.evaluation.situation import Situation, situation
from dispatcher.fleet.officers import Officer
from dispatcher.store import outbox

TAG = "stats"
EVENTS_MAX = 1000


class TodayOut(BaseModel):
    """Today's figures (see dispatcher/cases/stats.py for the definitions; closed_on_time, due_to_close and
    on_time_closure_rate = closed_on_time / due_to_close are the indicator engine's, dispatcher/evaluation/counts.py)."""

    model_config = ConfigDict(extra="allow")
    day: str
    received: int


class EventsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    after_seq: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    limit: Annotated[int, Field(ge=1, le=EVENTS_MAX)] = 500


class EventsOut(BaseModel):
    items: list[dict]
    last_seq: int
    complete: bool


def engine_closures(session, now: datetime, tz: str, scope) -> dict[str, int]:
    """Today's 按期结案 and 应结案 (due to close, up to now) by the indicator engine's definitions (dispatcher/evaluation/
    counts.py): the wall, /stats/today and the analysis tables count closure on time one way."""
    day = periods.clipped(periods.today(now, tz), now)
    counts = grouped_counts(session, None, scope, [day], ["close_on_time", "due_close"])
    return counts[TOTAL][0]


def named_summary(session, rt, scope) -> dict:
    """today_summary inside `scope` (the caller's scope_clause), with category and street names added (zh and en);
    closed on time and its rate are the indicator engine's (按期结案 / 应结案 today)."""
    now, tz = rt.clock(), rt.settings.timezone
    summary = stats.today_summary(session, now=now, tz=tz, scope=scope)
    closures = engine_closures(session, now, tz, scope)
    on_time, due = closures["close_on_time"], closures["due_close"]
    summary["closed_on_time"], summary["due_to_close"] = on_time, due
    summary["on_time_closure_rate"] = round(on_time / due, 4) if due else None
    catalogue, grids = rt.city.catalogue, rt.city.grids
    for item in summary["top_categories"]:
        category = catalogue.find_category(item["code"])
        item["name_zh"] = category.name_zh if category else item["code"]
        item["name_en"] = category.name_en if category else item["code"]
    for item in summary["streets"]:
        grid = grids.find(item["code"])
        item["name_zh"] = grid.name if grid else item["code"]
        item["name_en"] = grid.properties.get("name_en", item["name_zh"]) if grid else item["code"]
    return summary


def situation_for(principal: Principal) -> dict:
    """The live situation (dispatcher/evaluation/situation.py) inside the principal's scope, as JSON-ready data with
    department and street names added (zh and en); staff from the live positions when Redis is there."""
    rt = current_runtime()
    now = rt.clock()
    grids, catalogue = rt.city.grids, rt.city.catalogue
    latest = rt.positions.latest() if rt.positions else None
    fixes = None if latest is None else {k: datetime.fromisoformat(v["at"]) for k, v in latest.items() if v.get("at")}

    def officer_visible(officer: Officer) -> bool:
        home = officer.grid_community
        path = grids.path_of(home).codes() if home and grids.find(home) else []
        return can_see_officer(principal, officer.department_code, path)

    with rt.sessions() as session:
        figures = situation(
            session,
            now=now,
            tz=rt.settings.timezone,
            scope=scope_clause(principal),
            last_fixes=fixes,
            officer_visible=officer_visible,
        )
    out = figures.model_dump(mode="json")
    for row in out["departments"]:
        department = catalogue.departments.get(row["code"])
        row["name_zh"] = department.name_zh if department else row["code"]
        row["name_en"] = department.name_en if department else row["code"]
    for row in out["streets"]:
        grid = grids.find(row["code"])
        row["name_zh"] = grid.name if grid else row["code"]
        row["name_en"] = grid.properties.get("name_en", row["name_zh"]) if grid else row["code"]
    return out


@api.get("/situation")
@spec.validate(resp=Response(HTTP_200=Situation), tags=[TAG])
def live_situation():
    """The wall's live situation inside the caller's scope: today's counts, open and open overdue cases, on-time
    closure today and over 7 days and the overdue share (each a rate with numerator, denominator and period), received
    per hour (today, yesterday) and per day (14 days, with closures), departments and streets ranked worst first,
    channel mix (today, 7 days) and staff on duty by status."""
    return jsonify(situation_for(require_principal()))


@api.get("/stats/today")
@spec.validate(resp=Response(HTTP_200=TodayOut), tags=[TAG])
def today():
    """Today's received / filed / dispatched / in handling / overdue / closed, on-time closure rate and rankings,
    counting only the incidents the caller may see."""
    scope = scope_clause(require_principal())
    rt = current_runtime()
    with rt.sessions() as session:
        return jsonify(named_summary(session, rt, scope))


@api.get("/events")
@spec.validate(query=EventsQuery, resp=Response(HTTP_200=EventsOut, HTTP_422=ErrorResponse), tags=[TAG])
def events(query: EventsQuery):
    """Outbox events after `after_seq`, oldest first: how a client catches up after missing pushes."""
    principal = require_principal()
    with current_runtime().sessions() as session:
        rows = outbox.since(session, query.after_seq, query.limit)
        items = [r.as_message() for r in rows if can_see_event(principal, list(r.scope or []))]
    last = rows[-1].id if rows else query.after_seq  # the caller has seen everything up to here, visible or not
    return jsonify(items=items, last_seq=last, complete=len(rows) < query.limit)
