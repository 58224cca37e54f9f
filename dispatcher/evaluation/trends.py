"""Trends: cases received per local hour (today and yesterday) and received and closed per local day.

Each series is one GROUP BY over a CASE that puts a timestamp into its bucket (portable SQL: the same query on
PostgreSQL and SQLite, no per-row work in Python)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatcher.cases.incident import Incident
from dispatcher.evaluation.clauses import CLOSED
from dispatcher.evaluation.periods import day_start, day_starts

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
