"""Statistics and event catch-up endpoints: today's figures for the wall, outbox events after a sequence number."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.cases import stats
from dispatcher.cases.scope import can_see_event, scope_clause
from dispatcher.store import outbox

TAG = "stats"
EVENTS_MAX = 1000


class TodayOut(BaseModel):
    """Today's figures (see dispatcher/cases/stats.py for the definitions)."""

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


def named_summary(session, rt, scope) -> dict:
    """today_summary inside `scope` (the caller's scope_clause), with category and street names added (zh and en)."""
    summary = stats.today_summary(session, now=rt.clock(), tz=rt.settings.timezone, scope=scope)
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
