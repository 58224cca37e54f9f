"""Today's figures for the wall display, computed with set-based SQL (a handful of queries, no row loops).

Definitions (the local day is midnight to midnight in `tz`):
- received: incidents created today.
- filed / dispatched / closed: distinct incidents with a `file` / `dispatch` / `close` timeline row today
  (a re-dispatch of the same incident counts once).
- in_handling: open incidents now at a department: dispatched, claimed, suspended or rework.
- overdue: open, not suspended, past their stage deadline now.
- closed on time and its rate are not here: the API adds the indicator engine's 按期结案 / 应结案 of the day
  (dashboard/api/stats.py, dispatcher/evaluation/counts.py), so the wall and the analysis tables never disagree.
- by_hour: incidents received today per local hour (24 buckets).
- top_categories: the categories received most today; streets: open and overdue incidents per street now, and
  how many of them the district sent down to the street (区下派, the street's assessment column).

Every query takes a `scope`: an SQL condition on `Incident` (dispatcher.cases.scope.scope_clause of the caller),
default everything. Timeline counts join their incident so that the scope applies to them too.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import TypedDict
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, distinct, func, select, true
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status

IN_HANDLING = (Status.DISPATCHED, Status.CLAIMED, Status.SUSPENDED, Status.REWORK)
TOP_CATEGORIES = 8
EVERYTHING = true()  # the default scope: every incident


class TodaySummary(TypedDict):
    """The figures of `today_summary` (their definitions are in the module docstring)."""

    day: str
    timezone: str
    received: int
    filed: int
    dispatched: int
    in_handling: int
    overdue: int
    closed: int
    open: int
    open_by_status: dict[str, int]
    by_hour: list[int]
    top_categories: list[dict[str, str | int]]  # {"code", "count"}
    streets: list[dict[str, str | int]]  # {"code", "open", "overdue", "down_dispatched"}: 区下派 in the street's column


def day_window(now: datetime, tz: str) -> tuple[datetime, datetime]:
    """The local day containing `now`, as two aware datetimes [start, end)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(now.astimezone(zone).date(), time(0), tzinfo=zone)
    return start, start + timedelta(days=1)


def _open_statuses() -> list[str]:
    return [str(s) for s in OPEN_STATUSES]


def _late(now: datetime) -> ColumnElement[bool]:
    """SQL condition: open, clock running and past the stage deadline."""
    running = [s for s in _open_statuses() if s != Status.SUSPENDED]
    return and_(Incident.status.in_(running), Incident.stage_deadline < now)


def _touched_today(session: Session, start: datetime, end: datetime, scope: ColumnElement[bool]) -> dict[str, int]:
    """Distinct incidents per timeline action (file, dispatch, close) today."""
    query = (
        select(TimelineEntry.action, func.count(distinct(TimelineEntry.incident_id)))
        .join(Incident, Incident.id == TimelineEntry.incident_id)
        .where(
            TimelineEntry.at >= start,
            TimelineEntry.at < end,
            TimelineEntry.action.in_(["file", "dispatch", "close"]),
            scope,
        )
        .group_by(TimelineEntry.action)
    )
    return {key: n for key, n in session.execute(query)}


def _by_hour(session: Session, start: datetime, scope: ColumnElement[bool]) -> list[int]:
    """Received per local hour, as one row of 24 conditional sums."""
    bounds = [start + timedelta(hours=h) for h in range(25)]
    columns = [
        func.coalesce(
            func.sum(case((and_(Incident.created_at >= bounds[h], Incident.created_at < bounds[h + 1]), 1), else_=0)), 0
        )
        for h in range(24)
    ]
    row = session.execute(
        select(*columns).where(Incident.created_at >= bounds[0], Incident.created_at < bounds[24], scope)
    ).one()
    return [int(n) for n in row]


def _top_categories(
    session: Session, start: datetime, end: datetime, scope: ColumnElement[bool]
) -> list[dict[str, str | int]]:
    n = func.count().label("n")
    query = (
        select(Incident.category_code, n)
        .where(Incident.created_at >= start, Incident.created_at < end, Incident.category_code.is_not(None), scope)
        .group_by(Incident.category_code)
        .order_by(n.desc(), Incident.category_code)
        .limit(TOP_CATEGORIES)
    )
    rows = session.execute(query)
    return [{"code": code, "count": count} for code, count in rows if code is not None]  # the query excludes None


def _streets(session: Session, now: datetime, scope: ColumnElement[bool]) -> list[dict[str, str | int]]:
    open_n = func.count().label("open")
    overdue_n = func.coalesce(func.sum(case((_late(now), 1), else_=0)), 0).label("overdue")
    down = Incident.down_dispatch_street == Incident.grid_street
    down_n = func.coalesce(func.sum(case((down, 1), else_=0)), 0).label("down_dispatched")
    query = (
        select(Incident.grid_street, open_n, overdue_n, down_n)
        .where(Incident.status.in_(_open_statuses()), Incident.grid_street.is_not(None), scope)
        .group_by(Incident.grid_street)
        .order_by(open_n.desc(), overdue_n.desc(), Incident.grid_street)
    )
    return [
        {"code": code, "open": int(o), "overdue": int(late), "down_dispatched": int(d)}
        for code, o, late, d in session.execute(query)
    ]


def open_by_status(session: Session, scope: ColumnElement[bool] = EVERYTHING) -> dict[str, int]:
    """Open incidents per status now (inside `scope`)."""
    query = (
        select(Incident.status, func.count())
        .where(Incident.status.in_(_open_statuses()), scope)
        .group_by(Incident.status)
    )
    return {key: n for key, n in session.execute(query)}


def open_by_community(
    session: Session, now: datetime, scope: ColumnElement[bool] = EVERYTHING
) -> dict[str, dict[str, int]]:
    """Open and overdue incidents per community now (the map's shading), inside `scope`."""
    overdue_n = func.coalesce(func.sum(case((_late(now), 1), else_=0)), 0)
    query = (
        select(Incident.grid_community, func.count(), overdue_n)
        .where(Incident.status.in_(_open_statuses()), Incident.grid_community.is_not(None), scope)
        .group_by(Incident.grid_community)
    )
    return {code: {"open": int(o), "overdue": int(late)} for code, o, late in session.execute(query)}


def today_summary(
    session: Session, *, now: datetime, tz: str = "Asia/Shanghai", scope: ColumnElement[bool] = EVERYTHING
) -> TodaySummary:
    """Today's received / filed / dispatched / in handling / overdue / closed, on-time rate, by hour, rankings,
    counting only the incidents inside `scope` (dispatcher.cases.scope.scope_clause of the caller)."""
    start, end = day_window(now, tz)
    received = (
        session.scalar(
            select(func.count())
            .select_from(Incident)
            .where(Incident.created_at >= start, Incident.created_at < end, scope)
        )
        or 0
    )
    touched = _touched_today(session, start, end, scope)
    statuses = open_by_status(session, scope)
    overdue = session.scalar(select(func.count()).select_from(Incident).where(_late(now), scope)) or 0
    closed = touched.get("close", 0)
    return {
        "day": start.date().isoformat(),
        "timezone": tz,
        "received": received,
        "filed": touched.get("file", 0),
        "dispatched": touched.get("dispatch", 0),
        "in_handling": sum(statuses.get(str(s), 0) for s in IN_HANDLING),
        "overdue": overdue,
        "closed": closed,
        "open": sum(statuses.values()),
        "open_by_status": statuses,
        "by_hour": _by_hour(session, start, scope),
        "top_categories": _top_categories(session, start, end, scope),
        "streets": _streets(session, now, scope),
    }
