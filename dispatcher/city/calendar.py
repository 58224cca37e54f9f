"""The working calendar: working days, working hours, deadlines, suspensions and traffic lights."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from dispatcher.city.catalogue import TimeLimit, TimeUnit

YELLOW_AT = 0.8
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_MAX_DAYS = 3660  # a deadline search never walks further than ten years


class Light(StrEnum):
    """A clock's traffic light: green < 80 % of the allowance used, yellow 80–100 %, red over 100 %."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


@dataclass(frozen=True)
class Holiday:
    """A public holiday (法定节假日): days off from first to last, inclusive."""

    name_zh: str
    name_en: str
    first: date
    last: date


def _aware(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise ValueError(f"{name} must be a datetime, got {value!r}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()} must be timezone-aware")
    return value


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


class WorkingCalendar:
    """Working days (weekdays, holidays, make-up days) and daily working periods in one local time zone.

    Working-time limits (wh, wd) only run inside working periods on working days; wall-clock limits
    (h, min) are plain timedeltas. All inputs must be timezone-aware; results are UTC-aware.

    A working-day limit (wd) is N working days of working time: N × the length of a working day,
    counted on the working clock. The deadline is therefore the same position on the working clock
    N working days later (filed 10:00 Tuesday with 1wd → due 10:00 Wednesday; filed after hours or
    at the close of day → due at the close of the Nth following working day; filed before opening on
    a working day → due at that day's close for 1wd).
    """

    def __init__(
        self,
        tz: str | ZoneInfo,
        periods: Iterable[tuple[time, time]],
        weekdays: Iterable[int] = range(5),
        holidays: Iterable[Holiday] = (),
        makeup_workdays: Iterable[date] = (),
    ) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.periods: tuple[tuple[time, time], ...] = tuple(sorted(periods))
        if not self.periods:
            raise ValueError("a working calendar needs at least one working period")
        for (s1, e1), nxt in zip(self.periods, self.periods[1:] + ((None, None),)):
            if not s1 < e1:
                raise ValueError(f"working period {s1}-{e1} ends before it starts")
            if nxt[0] is not None and nxt[0] < e1:
                raise ValueError(f"working periods {s1}-{e1} and {nxt[0]}-{nxt[1]} overlap")
        self.weekdays = frozenset(weekdays)
        self.holidays: tuple[Holiday, ...] = tuple(holidays)
        self._days_off = frozenset(
            h.first + timedelta(days=i) for h in self.holidays for i in range((h.last - h.first).days + 1)
        )
        self.makeup_workdays = frozenset(makeup_workdays)
        clash = self._days_off & self.makeup_workdays
        if clash:
            raise ValueError(f"dates both holiday and make-up working day: {sorted(d.isoformat() for d in clash)}")
        self._period_seconds = tuple(
            (datetime.combine(date.min, e) - datetime.combine(date.min, s)).total_seconds() for s, e in self.periods
        )
        self.day_seconds = sum(self._period_seconds)

    # ------------------------------------------------------------ days

    def is_working_day(self, day: date | datetime) -> bool:
        """True when the (local) date is a working day: a make-up day, or a regular weekday that is not a holiday."""
        if isinstance(day, datetime):
            day = _aware(day, "day").astimezone(self.tz).date()
        if day in self.makeup_workdays:
            return True
        return day.weekday() in self.weekdays and day not in self._days_off

    def holiday(self, day: date) -> Holiday | None:
        """The holiday covering this date, or None."""
        for h in self.holidays:
            if h.first <= day <= h.last:
                return h
        return None

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after day."""
        for i in range(1, _MAX_DAYS):
            candidate = day + timedelta(days=i)
            if self.is_working_day(candidate):
                return candidate
        raise ValueError(f"no working day within {_MAX_DAYS} days after {day.isoformat()}")

    def _windows(self, day: date) -> list[tuple[datetime, datetime]]:
        return [
            (datetime.combine(day, s, tzinfo=self.tz), datetime.combine(day, e, tzinfo=self.tz))
            for s, e in self.periods
        ]

    # ------------------------------------------------------------ arithmetic

    def add_working_seconds(self, start: datetime, seconds: float) -> datetime:
        """The earliest moment at which `seconds` of working time have passed since start (UTC)."""
        _aware(start, "start")
        if seconds < 0:
            raise ValueError(f"cannot add negative working time {seconds!r}s to {start.isoformat()}")
        if seconds == 0:
            return _utc(start)
        local = start.astimezone(self.tz)
        remaining = timedelta(seconds=seconds)
        day = local.date()
        # Skip whole working days quickly once the first (partial) day is done.
        for i in range(_MAX_DAYS):
            if self.is_working_day(day):
                if i > 0 and remaining.total_seconds() > self.day_seconds:
                    remaining -= timedelta(seconds=self.day_seconds)
                else:
                    for ws, we in self._windows(day):
                        seg_start = max(ws, local)
                        if seg_start >= we:
                            continue
                        available = we - seg_start
                        if remaining <= available:
                            return _utc(seg_start + remaining)
                        remaining -= available
            day += timedelta(days=1)
        raise ValueError(f"no deadline within {_MAX_DAYS} days of {start.isoformat()} (calendar without working days?)")

    def add(self, start: datetime, limit: TimeLimit) -> datetime:
        """The deadline `limit` after start: working time for wh/wd (see class docstring), wall time for h/min (UTC)."""
        _aware(start, "start")
        if limit.unit == "wh":
            return self.add_working_seconds(start, limit.amount * 3600)
        if limit.unit == "wd":
            return self.add_working_seconds(start, limit.amount * self.day_seconds)
        if limit.unit == "h":
            return _utc(start + timedelta(hours=limit.amount))
        if limit.unit == "min":
            return _utc(start + timedelta(minutes=limit.amount))
        raise ValueError(f"unknown time limit unit {limit.unit!r}")

    def working_seconds_between(self, start: datetime, end: datetime) -> float:
        """Seconds of working time from start to end (0 when end is not after start)."""
        _aware(start, "start")
        _aware(end, "end")
        if end <= start:
            return 0.0
        lo, hi = start.astimezone(self.tz), end.astimezone(self.tz)
        total = 0.0
        day = lo.date()
        last = hi.date()
        while day <= last:
            if self.is_working_day(day):
                for ws, we in self._windows(day):
                    s, e = max(ws, lo), min(we, hi)
                    if e > s:
                        total += (e - s).total_seconds()
            day += timedelta(days=1)
        return total

    def elapsed(self, start: datetime, end: datetime, unit: TimeUnit) -> float:
        """Seconds between start and end on the clock the unit uses: working time for wh/wd, wall time for h/min."""
        if unit in ("wh", "wd"):
            return self.working_seconds_between(start, end)
        _aware(start, "start")
        _aware(end, "end")
        return max(0.0, (end - start).total_seconds())

    def shift(self, deadline: datetime, paused_from: datetime, paused_to: datetime, unit: TimeUnit) -> datetime:
        """The deadline pushed back by the time the clock stood still during a suspension (working time for wh/wd)."""
        _aware(deadline, "deadline")
        _aware(paused_from, "paused_from")
        _aware(paused_to, "paused_to")
        if paused_to < paused_from:
            raise ValueError(f"suspension ends {paused_to.isoformat()} before it starts {paused_from.isoformat()}")
        if unit in ("wh", "wd"):
            paused = self.working_seconds_between(paused_from, paused_to)
            if paused == 0:
                return _utc(deadline)
            return self.add_working_seconds(deadline, paused)
        if unit in ("h", "min"):
            return _utc(deadline + (paused_to - paused_from))
        raise ValueError(f"unknown time limit unit {unit!r}")

    def traffic_light(self, started_at: datetime, deadline: datetime, now: datetime, limit: TimeLimit) -> Light:
        """Green below 80 % of the allowed time used, yellow from 80 % to 100 %, red past 100 % or past the deadline."""
        _aware(started_at, "started_at")
        _aware(deadline, "deadline")
        _aware(now, "now")
        if now > deadline:
            return Light.RED
        allowed = self.elapsed(started_at, deadline, limit.unit)
        used = self.elapsed(started_at, now, limit.unit)
        if allowed <= 0:
            return Light.YELLOW
        ratio = used / allowed
        if ratio > 1:
            return Light.RED
        if ratio >= YELLOW_AT:
            return Light.YELLOW
        return Light.GREEN

    def fraction_used(self, started_at: datetime, deadline: datetime, now: datetime, unit: TimeUnit) -> float:
        """The share of the allowed time used so far (1.0 = at the deadline), on the unit's clock."""
        allowed = self.elapsed(started_at, deadline, unit)
        used = self.elapsed(started_at, now, unit)
        if allowed <= 0:
            return 1.0 if used <= 0 else float("inf")
        return used / allowed


# ---------------------------------------------------------------- loading


def _parse_time(text: str, where: str) -> time:
    try:
        hh, mm = text.strip().split(":")
        return time(int(hh), int(mm))
    except (ValueError, AttributeError):
        raise ValueError(f"{where}: {text!r} is not a HH:MM time") from None


def _parse_date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{where}: {value!r} is not a YYYY-MM-DD date") from None


def load_calendar(path: Path) -> WorkingCalendar:
    """Read a WorkingCalendar from a calendar.yaml file; ValueError naming the file and entry on bad data."""
    path = Path(path)
    name = path.name
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{name}: expected a mapping")
    tz_name = raw.get("timezone", "Asia/Shanghai")
    try:
        tz = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"{name}: unknown timezone {tz_name!r}") from None
    periods = []
    for text in raw.get("periods") or []:
        if not isinstance(text, str) or "-" not in text:
            raise ValueError(f"{name}: period {text!r} is not 'HH:MM-HH:MM'")
        a, b = text.split("-", 1)
        periods.append((_parse_time(a, f"{name}: period {text}"), _parse_time(b, f"{name}: period {text}")))
    weekdays = []
    for wd in raw.get("weekdays") or []:
        if str(wd).lower()[:3] not in _WEEKDAYS:
            raise ValueError(f"{name}: weekday {wd!r} is not one of {_WEEKDAYS}")
        weekdays.append(_WEEKDAYS.index(str(wd).lower()[:3]))
    holidays = []
    for item in raw.get("holidays") or []:
        where = f"{name}: holiday {item.get('name_zh', '?')} {item.get('from')}"
        first, last = _parse_date(item.get("from"), where), _parse_date(item.get("to", item.get("from")), where)
        if last < first:
            raise ValueError(f"{where}: 'to' {last} is before 'from' {first}")
        holidays.append(Holiday(str(item.get("name_zh", "")), str(item.get("name_en", "")), first, last))
    makeups = [
        _parse_date(item.get("date"), f"{name}: make-up day {item}") for item in raw.get("makeup_workdays") or []
    ]
    try:
        return WorkingCalendar(tz, periods, weekdays, holidays, makeups)
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None
