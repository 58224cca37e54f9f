"""The live situation for the leader's wall: what happened today, what is open and late now, how well cases close
on time (today and over 7 days, each rate with its numerator, denominator and period), trends, rankings, channel mix
and staff on duty — a dozen set-based queries inside the caller's `scope`, whatever the number of cases.

Definitions of open, overdue, closed and on time: dispatcher/evaluation/clauses.py. Today's counts:
- received: cases created today (local day in `tz`);
- filed / dispatched: distinct cases with a `file` / `dispatch` timeline record today (a re-dispatch counts once);
- in_handling: open cases now with a department: dispatched, claimed, suspended or in rework;
- closed / closed_on_time: cases closed today, and those of them closed on time.
Open, overdue and closure counts come from one query grouped by department × street (dispatcher/evaluation/
rankings.py), summed for the totals and the two rankings; received today is the channel mix's total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, distinct, func, select, true
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.evaluation import channels, rankings, staff, trends
from dispatcher.evaluation.periods import Period, Rate, days, today
from dispatcher.fleet.officers import Officer

WEEK_DAYS = 7


class TodayCounts(BaseModel):
    """Today's flow (definitions in the module docstring)."""

    model_config = ConfigDict(frozen=True)
    received: int
    filed: int
    dispatched: int
    in_handling: int
    closed: int
    closed_on_time: int


class Situation(BaseModel):
    """Every figure of the wall, for one scope at one moment."""

    model_config = ConfigDict(frozen=True)
    at: datetime
    timezone: str
    day: str
    today: TodayCounts
    open: int
    open_overdue: int
    on_time_today: Rate
    on_time_week: Rate
    overdue_share: Rate
    hourly: trends.HourlyTrend
    daily: trends.DailyTrend
    departments: list[rankings.RankRow]
    streets: list[rankings.RankRow]
    channels: channels.ChannelMix
    staff: staff.StaffOnDuty | None


def _touched(session: Session, period: Period, scope: ColumnElement[bool]) -> dict[str, int]:
    """Distinct cases per timeline action (file, dispatch) in `period`."""
    query = (
        select(TimelineEntry.action, func.count(distinct(TimelineEntry.incident_id)))
        .join(Incident, Incident.id == TimelineEntry.incident_id)
        .where(
            TimelineEntry.at >= period.start,
            TimelineEntry.at < period.end,
            TimelineEntry.action.in_(["file", "dispatch"]),
            scope,
        )
        .group_by(TimelineEntry.action)
    )
    return {action: int(n) for action, n in session.execute(query)}


def situation(
    session: Session,
    *,
    now: datetime,
    tz: str = "Asia/Shanghai",
    scope: ColumnElement[bool] | None = None,
    last_fixes: Mapping[str, datetime] | None = None,
    officer_visible: Callable[[Officer], bool] | None = None,
    with_staff: bool = True,
) -> Situation:
    """The situation at `now` inside `scope` (dispatcher.cases.scope.scope_clause of the caller; None: everything).
    Staff counts use `last_fixes` (officer id → time of the last live fix; None reads the stored history) and only
    the officers `officer_visible` lets through."""
    where = true() if scope is None else scope
    day, week = today(now, tz), days(now, tz, WEEK_DAYS, "7d")
    groups = rankings.tallies(session, now, day, week, where)
    t = rankings.total(groups)
    mix = channels.mix(session, day, week, where)
    touched = _touched(session, day, where)
    return Situation(
        at=now,
        timezone=tz,
        day=day.start.date().isoformat(),
        today=TodayCounts(
            received=sum(mix.today.values()),
            filed=touched.get("file", 0),
            dispatched=touched.get("dispatch", 0),
            in_handling=t.in_handling,
            closed=t.closed_day,
            closed_on_time=t.on_time_day,
        ),
        open=t.open,
        open_overdue=t.overdue,
        on_time_today=Rate(numerator=t.on_time_day, denominator=t.closed_day, period=day),
        on_time_week=Rate(numerator=t.on_time_week, denominator=t.closed_week, period=week),
        overdue_share=Rate(numerator=t.overdue, denominator=t.open, period=Period(key="now", start=now, end=now)),
        hourly=trends.hourly(session, now, tz, where),
        daily=trends.daily(session, now, tz, where),
        departments=rankings.rank(groups, 0, week),
        streets=rankings.rank(groups, 1, week),
        channels=mix,
        staff=staff.staff_on_duty(session, now, last_fixes, visible=officer_visible) if with_staff else None,
    )
