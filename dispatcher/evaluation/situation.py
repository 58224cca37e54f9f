"""The live situation for the leader's wall: what happened today, what is open and late now, how well cases close
on time (today and over 7 days, each rate with its numerator, denominator and period), trends, rankings, channel mix
and staff on duty — a dozen set-based queries inside the caller's `scope`, whatever the number of cases.

Definitions of open, overdue, closed and on time: dispatcher/evaluation/clauses.py. Today's counts:
- received: cases created today (local day in `tz`);
- filed / dispatched: cases filed (last 立案) / first dispatched today, from the case row's milestones (the engine's
  `filed` and `dispatched` counts: a re-dispatch counts once, voided and merged cases not at all);
- in_handling: open cases now with a department: dispatched, claimed, suspended or in rework;
- closed: cases closed today; closed_on_time: 按期结案 today, the indicator engine's count
  (dispatcher/evaluation/counts.py: closed today by the overall limit);
- on_time_today / on_time_week: 按期结案率 = closed on time / due to close (应结案: closed, or ran past the overall
  limit, in the period up to now), the engine's close_on_time_rate over the same periods.
Open, overdue and closure counts come from one query grouped by department × street (dispatcher/evaluation/
rankings.py), summed for the totals and the two rankings; received today is the channel mix's total.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, case, func, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatcher.cases.incident import Channel, Incident
from dispatcher.evaluation import rankings, staff
from dispatcher.evaluation.clauses import CLOSED, count_if, created_in
from dispatcher.evaluation.counts import COUNTS
from dispatcher.evaluation.periods import Period, Rate, day_start, day_starts, days, today
from dispatcher.fleet.officers import Officer

WEEK_DAYS = 7


# Where cases come from: received per intake channel today and over a longer period (one GROUP BY).


class ChannelMix(BaseModel):
    """Received per channel code (every known channel present, 0 when none) in two periods."""

    model_config = ConfigDict(frozen=True)
    today: dict[str, int]
    week: dict[str, int]
    today_period: Period
    week_period: Period


def mix(session: Session, today: Period, week: Period, scope: ColumnElement[bool]) -> ChannelMix:
    """Received per channel today and over `week` (which contains today)."""
    rows = session.execute(
        select(Incident.channel, count_if(created_in(today)), func.count())
        .where(created_in(week), scope)
        .group_by(Incident.channel)
    )
    day = {str(c): 0 for c in Channel}
    longer = dict(day)
    for channel, n_today, n_week in rows:
        day[channel] = day.get(channel, 0) + int(n_today)
        longer[channel] = longer.get(channel, 0) + int(n_week)
    return ChannelMix(today=day, week=longer, today_period=today, week_period=week)


# Trends: received per local hour (today and yesterday), received and closed per local day; each series is one
# GROUP BY over a CASE that puts a timestamp into its bucket (the same SQL on PostgreSQL and SQLite).

TREND_DAYS = 14


class HourlyTrend(BaseModel):
    """Received per local hour (24 values each): today so far, and yesterday for comparison."""

    model_config = ConfigDict(frozen=True)
    today: list[int]
    yesterday: list[int]
    current_hour: int


class DailyTrend(BaseModel):
    """Received and closed per local day, oldest first (`days` are ISO dates)."""

    model_config = ConfigDict(frozen=True)
    days: list[str]
    received: list[int]
    closed: list[int]


def bucketed(
    session: Session,
    column: InstrumentedAttribute[datetime] | InstrumentedAttribute[datetime | None],
    bounds: list[datetime],
    scope: ColumnElement[bool],
    *extra: ColumnElement[bool],
) -> list[int]:
    """How many incidents have `column` in each [bounds[i], bounds[i + 1]) (len(bounds) - 1 values)."""
    bucket = case(*[(column < bounds[i + 1], i) for i in range(len(bounds) - 1)], else_=-1).label("bucket")
    query = select(bucket, func.count()).where(column >= bounds[0], column < bounds[-1], scope, *extra).group_by(bucket)
    counts = [0] * (len(bounds) - 1)
    for index, n in session.execute(query):
        if 0 <= index < len(counts):
            counts[index] = int(n)
    return counts


def hourly(session: Session, now: datetime, tz: str, scope: ColumnElement[bool]) -> HourlyTrend:
    """Received per hour of today and of yesterday (one query for both days)."""
    start = day_start(now, tz, 1)
    midnight = day_start(now, tz)
    bounds = [start + timedelta(hours=h) for h in range(24)] + [midnight + timedelta(hours=h) for h in range(25)]
    counts = bucketed(session, Incident.created_at, bounds, scope)
    current = int((now - midnight).total_seconds() // 3600)
    return HourlyTrend(today=counts[24:], yesterday=counts[:24], current_hour=min(max(current, 0), 23))


def daily(session: Session, now: datetime, tz: str, scope: ColumnElement[bool], count: int = TREND_DAYS) -> DailyTrend:
    """Received and closed per day over the last `count` days, today included."""
    bounds = day_starts(now, tz, count)
    received = bucketed(session, Incident.created_at, bounds, scope)
    closed = bucketed(session, Incident.closed_at, bounds, scope, and_(Incident.status.in_(CLOSED)))
    return DailyTrend(days=[b.date().isoformat() for b in bounds[:-1]], received=received, closed=closed)


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
    hourly: HourlyTrend
    daily: DailyTrend
    departments: list[rankings.RankRow]
    streets: list[rankings.RankRow]
    channels: ChannelMix
    staff: staff.StaffOnDuty | None


def _touched(session: Session, period: Period, scope: ColumnElement[bool]) -> dict[str, int]:
    """Cases filed and dispatched in `period` (up to now), from the case row's milestones (one indexed query)."""
    filed, dispatched = COUNTS["filed"](period), COUNTS["dispatched"](period)
    query = select(count_if(filed), count_if(dispatched)).where(or_(filed, dispatched), scope)
    n_filed, n_dispatched = session.execute(query).one()
    return {"file": int(n_filed), "dispatch": int(n_dispatched)}


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
    channel_mix = mix(session, day, week, where)
    touched = _touched(session, day, where)
    return Situation(
        at=now,
        timezone=tz,
        day=day.start.date().isoformat(),
        today=TodayCounts(
            received=sum(channel_mix.today.values()),
            filed=touched.get("file", 0),
            dispatched=touched.get("dispatch", 0),
            in_handling=t.in_handling,
            closed=t.closed_day,
            closed_on_time=t.on_time_day,
        ),
        open=t.open,
        open_overdue=t.overdue,
        on_time_today=Rate(numerator=t.on_time_day, denominator=t.due_day, period=day),
        on_time_week=Rate(numerator=t.on_time_week, denominator=t.due_week, period=week),
        overdue_share=Rate(numerator=t.overdue, denominator=t.open, period=Period(key="now", start=now, end=now)),
        hourly=hourly(session, now, tz, where),
        daily=daily(session, now, tz, where),
        departments=rankings.rank(groups, 0, week),
        streets=rankings.rank(groups, 1, week),
        channels=channel_mix,
        staff=staff.staff_on_duty(session, now, last_fixes, visible=officer_visible) if with_staff else None,
    )
