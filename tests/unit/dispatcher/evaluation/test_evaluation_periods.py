"""Calendar periods of the indicator engine: local bounds, readable keys, 环比, 同比 and sparkline runs."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from dispatcher.evaluation.periods import back, clipped, last_year, parse, period_of, previous, span

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)


@pytest.mark.parametrize(
    "kind,anchor,key,first,after",
    [
        ("day", date(2026, 11, 30), "2026-11-30", date(2026, 11, 30), date(2026, 12, 1)),
        ("week", date(2026, 11, 26), "2026-W48", date(2026, 11, 23), date(2026, 11, 30)),
        ("week", date(2027, 1, 1), "2026-W53", date(2026, 12, 28), date(2027, 1, 4)),
        ("month", date(2026, 12, 31), "2026-12", date(2026, 12, 1), date(2027, 1, 1)),
        ("quarter", date(2026, 11, 15), "2026-Q4", date(2026, 10, 1), date(2027, 1, 1)),
        ("year", date(2026, 2, 28), "2026", date(2026, 1, 1), date(2027, 1, 1)),
    ],
)
def test_a_period_runs_from_local_midnight_to_local_midnight(kind, anchor, key, first, after):
    p = period_of(kind, anchor, TZ)
    assert p.key == key
    assert p.start == datetime.combine(first, datetime.min.time(), tzinfo=SH)
    assert p.end == datetime.combine(after, datetime.min.time(), tzinfo=SH)
    assert p.start.utcoffset() == timedelta(hours=8)


def test_previous_and_last_year_of_each_kind():
    assert previous(period_of("month", date(2026, 1, 10), TZ)).key == "2025-12"
    assert previous(period_of("quarter", date(2026, 2, 1), TZ)).key == "2025-Q4"
    assert previous(period_of("week", date(2026, 1, 1), TZ)).key == "2025-W52"
    assert previous(period_of("day", date(2026, 3, 1), TZ)).key == "2026-02-28"
    assert last_year(period_of("month", date(2026, 11, 1), TZ)).key == "2025-11"
    assert last_year(period_of("week", date(2026, 11, 26), TZ)).key == "2025-W48"
    assert last_year(period_of("week", date(2026, 12, 30), TZ)).key == "2025-W52"  # 2025 has no week 53
    assert last_year(period_of("day", date(2028, 2, 29), TZ)).key == "2027-02-28"


def test_a_range_includes_its_last_day_and_compares_with_as_many_days_before():
    r = span(date(2026, 11, 1), date(2026, 11, 15), TZ)
    assert r.key == "2026-11-01..2026-11-15" and (r.end - r.start) == timedelta(days=15)
    assert previous(r).key == "2026-10-17..2026-10-31"
    assert last_year(r).key == "2025-11-01..2025-11-15"
    with pytest.raises(ValueError, match="before it starts"):
        span(date(2026, 11, 2), date(2026, 11, 1), TZ)


def test_back_gives_the_run_of_periods_ending_with_this_one():
    run = back(period_of("month", date(2026, 2, 1), TZ), 4)
    assert [p.key for p in run] == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert all(a.end == b.start for a, b in zip(run, run[1:], strict=False))


def test_parse_reads_keys_and_days_and_names_bad_input():
    assert parse("month", "2026-11", TZ).key == "2026-11"
    assert parse("quarter", "2026-Q4", TZ).key == "2026-Q4"
    assert parse("week", "2026-W48", TZ).key == "2026-W48"
    assert parse("month", "2026-11-17", TZ).key == "2026-11"
    assert parse("year", "2026", TZ).key == "2026"
    assert parse("range", "2026-11-01..2026-11-15", TZ).key == "2026-11-01..2026-11-15"
    for kind, at in [("month", "2026-13"), ("quarter", "2026-Q5"), ("fortnight", "2026-11"), ("day", "soon")]:
        with pytest.raises(ValueError):
            parse(kind, at, TZ)


def test_clipping_at_now_keeps_the_key_and_leaves_past_periods_alone():
    p = period_of("month", date(2026, 12, 1), TZ)
    now = datetime(2026, 12, 2, 10, tzinfo=SH)
    assert clipped(p, now).end == now and clipped(p, now).key == "2026-12"
    past = period_of("month", date(2026, 11, 1), TZ)
    assert clipped(past, now) == past
