"""Periods on the local calendar (Asia/Shanghai days by default) and rates that name their period."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, computed_field


class Period(BaseModel):
    """A half-open stretch of time [start, end) with a key the UI labels (`today`, `7d`, ...)."""

    model_config = ConfigDict(frozen=True)
    key: str
    start: datetime
    end: datetime


class Rate(BaseModel):
    """A share with what it is made of: `numerator` of `denominator` over `period` (value None when nothing counts)."""

    model_config = ConfigDict(frozen=True)
    numerator: int
    denominator: int
    period: Period

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        """The share, rounded to 4 places; None when the denominator is 0 (never a fake 100 % or 0 %)."""
        return round(self.numerator / self.denominator, 4) if self.denominator else None


def day_start(now: datetime, tz: str, days_back: int = 0) -> datetime:
    """Local midnight of the day `days_back` days before the one containing `now`, as an aware datetime."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone).date() - timedelta(days=days_back)
    return datetime.combine(local, time(0), tzinfo=zone)


def days(now: datetime, tz: str, count: int, key: str) -> Period:
    """The last `count` local days, today included: from midnight `count - 1` days ago to next midnight."""
    return Period(key=key, start=day_start(now, tz, count - 1), end=day_start(now, tz, -1))


def today(now: datetime, tz: str) -> Period:
    return days(now, tz, 1, "today")


def yesterday(now: datetime, tz: str) -> Period:
    return Period(key="yesterday", start=day_start(now, tz, 1), end=day_start(now, tz))


def day_starts(now: datetime, tz: str, count: int) -> list[datetime]:
    """Local midnights of the last `count` days, oldest first, and the next midnight (count + 1 bounds)."""
    return [day_start(now, tz, back) for back in range(count - 1, -2, -1)]
