"""Periods on the local calendar (Asia/Shanghai days by default) and rates that name their period."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
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


def clipped(period: Period, now: datetime | None) -> Period:
    """`period` cut at `now` (nothing falls due after now; the key is kept); unchanged when it ended before."""
    if now is None or now >= period.end:
        return period
    return Period(key=period.key, start=period.start, end=max(now, period.start))


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


# Calendar periods of the indicator engine (day, ISO week, month, quarter, year, any range), keyed readably:
# `2026-11-30`, `2026-W48`, `2026-11`, `2026-Q4`, `2026`, `2026-11-01..2026-11-15` (a range's end day included).
KINDS = ("day", "week", "month", "quarter", "year", "range")


def _midnight(day: date, tz: str) -> datetime:
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz))


def _first_day(kind: str, anchor: date) -> tuple[date, date, str]:
    """The first day of the `kind` period containing `anchor`, the first day after it, and its key."""
    if kind == "day":
        return anchor, anchor + timedelta(days=1), anchor.isoformat()
    if kind == "week":
        year, week, weekday = anchor.isocalendar()
        first = anchor - timedelta(days=weekday - 1)
        return first, first + timedelta(days=7), f"{year}-W{week:02d}"
    if kind == "month":
        first = anchor.replace(day=1)
        return first, _add_months(first, 1), f"{anchor.year}-{anchor.month:02d}"
    if kind == "quarter":
        quarter = (anchor.month - 1) // 3
        first = date(anchor.year, 3 * quarter + 1, 1)
        return first, _add_months(first, 3), f"{anchor.year}-Q{quarter + 1}"
    if kind == "year":
        return date(anchor.year, 1, 1), date(anchor.year + 1, 1, 1), str(anchor.year)
    raise ValueError(f"unknown period kind {kind!r}; known: {', '.join(KINDS[:-1])} (and a range)")


def _add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def period_of(kind: str, anchor: date, tz: str) -> Period:
    """The local day, ISO week (Monday first), month, quarter or year containing `anchor`."""
    first, after, key = _first_day(str(kind), anchor)
    return Period(key=key, start=_midnight(first, tz), end=_midnight(after, tz))


def span(start: date, end: date, tz: str) -> Period:
    """The local days `start` to `end`, both included, as a range `start..end`."""
    if end < start:
        raise ValueError(f"range ends ({end}) before it starts ({start})")
    return Period(
        key=f"{start.isoformat()}..{end.isoformat()}",
        start=_midnight(start, tz),
        end=_midnight(end, tz) + timedelta(days=1),
    )


def kind_of(p: Period) -> str:
    """Which kind of period `p` is, read from its key."""
    key = p.key
    if ".." in key:
        return "range"
    if "-W" in key:
        return "week"
    if "-Q" in key:
        return "quarter"
    return {4: "year", 7: "month", 10: "day"}.get(len(key), "range")


def _local_days(p: Period) -> tuple[date, date, str]:
    """First and last local day of `p` and its time zone name."""
    zone = p.start.tzinfo
    tz = getattr(zone, "key", "UTC")
    return p.start.date(), (p.end - timedelta(days=1)).astimezone(zone).date(), tz


def previous(p: Period) -> Period:
    """环比: the period of the same kind just before `p` (a range: as many days just before it)."""
    first, last, tz = _local_days(p)
    kind = kind_of(p)
    if kind == "range":
        length = (last - first).days + 1
        return span(first - timedelta(days=length), first - timedelta(days=1), tz)
    return period_of(kind, first - timedelta(days=1), tz)


def _year_before(day: date) -> date:
    return day.replace(year=day.year - 1) if (day.month, day.day) != (2, 29) else date(day.year - 1, 2, 28)


def last_year(p: Period) -> Period:
    """同比: the same period one year before (the same ISO week number for a week)."""
    first, last, tz = _local_days(p)
    kind = kind_of(p)
    if kind == "range":
        return span(_year_before(first), _year_before(last), tz)
    if kind == "week":
        year, week, _ = first.isocalendar()
        try:
            return period_of("week", date.fromisocalendar(year - 1, week, 1), tz)
        except ValueError:  # week 53 of a year whose previous year has 52
            return period_of("week", date.fromisocalendar(year - 1, 52, 1), tz)
    return period_of(kind, _year_before(first), tz)


def back(p: Period, n: int) -> list[Period]:
    """The `n` periods ending with `p`, oldest first (for sparklines)."""
    out = [p]
    while len(out) < n:
        out.insert(0, previous(out[0]))
    return out


def parse(kind: str, at: str, tz: str) -> Period:
    """The period of `kind` named by `at`: a key (`2026-11`, `2026-Q4`, `2026-W48`, `2026`, `2026-11-30`), any day
    inside it (`2026-11-15`), or for a range `2026-11-01..2026-11-15`; ValueError naming what is wrong."""
    text = at.strip()
    if kind == "range" or ".." in text:
        first, _, last = text.partition("..")
        return span(date.fromisoformat(first), date.fromisoformat(last or first), tz)
    if kind not in KINDS:
        raise ValueError(f"unknown period kind {kind!r}; known: {', '.join(KINDS)}")
    return period_of(kind, _anchor_day(text), tz)


def _anchor_day(text: str) -> date:
    """A day inside the period `text` names."""
    if "-W" in text:
        year, week = text.split("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    if "-Q" in text:
        year, quarter = text.split("-Q")
        if not 1 <= int(quarter) <= 4:
            raise ValueError(f"quarter {quarter} is not 1 to 4")
        return date(int(year), 3 * int(quarter) - 2, 1)
    if len(text) == 4:
        return date(int(text), 1, 1)
    if len(text) == 7:
        return date.fromisoformat(text + "-01")
    return date.fromisoformat(text)
