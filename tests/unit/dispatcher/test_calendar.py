"""Working-calendar arithmetic: deadlines, working time between moments, suspensions and traffic lights."""

from __future__ import annotations

import time as clock
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispatcher.city.calendar import Holiday, Light, WorkingCalendar, load_calendar
from dispatcher.city.catalogue import TimeLimit

DATA = Path(__file__).resolve().parents[3] / "data"
SH = ZoneInfo("Asia/Shanghai")
UTC = UTC


def local(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


SHIPPED = load_calendar(DATA / "calendar.yaml")


@pytest.fixture(scope="module")
def cal() -> WorkingCalendar:
    return SHIPPED


def wh(n: int) -> TimeLimit:
    return TimeLimit(n, "wh")


def wd(n: int) -> TimeLimit:
    return TimeLimit(n, "wd")


# ------------------------------------------------------------ working days


def test_working_days_follow_holidays_and_makeup_days(cal: WorkingCalendar) -> None:
    assert cal.is_working_day(date(2026, 3, 10))  # Tuesday
    assert not cal.is_working_day(date(2026, 3, 7))  # Saturday
    assert not cal.is_working_day(date(2026, 1, 1))  # 元旦
    assert cal.is_working_day(date(2026, 1, 4))  # Sunday, 调休上班
    assert not cal.is_working_day(date(2026, 2, 17))  # 春节
    assert cal.is_working_day(date(2026, 2, 28))  # Saturday, 调休上班
    assert not cal.is_working_day(date(2026, 10, 7))  # 国庆
    assert cal.is_working_day(date(2026, 10, 10))  # Saturday, 调休上班
    assert cal.holiday(date(2026, 10, 3)).name_zh == "国庆节"  # type: ignore[union-attr]


def test_is_working_day_uses_local_date_of_a_datetime(cal: WorkingCalendar) -> None:
    # 2026-03-08 20:00 UTC is Monday 04:00 in Shanghai
    assert cal.is_working_day(datetime(2026, 3, 8, 20, 0, tzinfo=UTC))


# ------------------------------------------------------------ deadlines


def test_working_hours_across_lunch_break(cal: WorkingCalendar) -> None:
    assert cal.add(local(2026, 3, 10, 11, 0), wh(2)) == local(2026, 3, 10, 14, 30)


def test_deadline_at_end_of_period_is_not_pushed_past_lunch(cal: WorkingCalendar) -> None:
    assert cal.add(local(2026, 3, 10, 9, 0), wh(3)) == local(2026, 3, 10, 12, 0)


def test_working_hours_across_weekend(cal: WorkingCalendar) -> None:
    # Friday 16:30 + 2wh: one hour on Friday, one on Monday
    assert cal.add(local(2026, 3, 6, 16, 30), wh(2)) == local(2026, 3, 9, 9, 30)


def test_working_hours_across_public_holiday(cal: WorkingCalendar) -> None:
    # Friday before 清明 (Apr 4–6, Sat–Mon): resumes Tuesday
    assert cal.add(local(2026, 4, 3, 17, 0), wh(1)) == local(2026, 4, 7, 9, 0)
    # Thursday before 劳动节 (May 1–5)
    assert cal.add(local(2026, 4, 30, 17, 0), wh(1)) == local(2026, 5, 6, 9, 0)


def test_working_hours_onto_makeup_working_day(cal: WorkingCalendar) -> None:
    # Friday 2026-02-27 17:00 → Saturday 2026-02-28 is a make-up working day
    assert cal.add(local(2026, 2, 27, 17, 0), wh(1)) == local(2026, 2, 28, 9, 0)
    # New Year's Eve 2025 → 元旦 Jan 1–3 off → Sunday Jan 4 is a make-up working day
    assert cal.add(local(2025, 12, 31, 17, 0), wh(1)) == local(2026, 1, 4, 9, 0)


def test_start_outside_working_hours(cal: WorkingCalendar) -> None:
    assert cal.add(local(2026, 3, 10, 7, 0), wh(1)) == local(2026, 3, 10, 9, 30)
    assert cal.add(local(2026, 3, 10, 12, 30), wh(1)) == local(2026, 3, 10, 14, 30)
    assert cal.add(local(2026, 3, 10, 20, 0), wh(1)) == local(2026, 3, 11, 9, 30)
    assert cal.add(local(2026, 3, 7, 10, 0), wh(1)) == local(2026, 3, 9, 9, 30)  # Saturday


def test_working_days_keep_the_working_clock_position(cal: WorkingCalendar) -> None:
    assert cal.add(local(2026, 3, 10, 10, 0), wd(1)) == local(2026, 3, 11, 10, 0)
    assert cal.add(local(2026, 3, 6, 10, 0), wd(1)) == local(2026, 3, 9, 10, 0)  # over a weekend
    assert cal.add(local(2026, 3, 10, 20, 0), wd(1)) == local(2026, 3, 11, 17, 30)  # after hours
    assert cal.add(local(2026, 3, 10, 7, 0), wd(1)) == local(2026, 3, 10, 17, 30)  # before opening
    assert cal.add(local(2026, 3, 10, 10, 0), wd(5)) == local(2026, 3, 17, 10, 0)


def test_fifteen_working_days_over_mid_autumn_and_national_day(cal: WorkingCalendar) -> None:
    # Mon 2026-09-21: 中秋 Sep 25–27 and 国庆 Oct 1–7 off, Sat Oct 10 is a make-up working day
    assert cal.add(local(2026, 9, 21, 10, 0), wd(15)) == local(2026, 10, 19, 10, 0)


def test_wall_clock_limits_ignore_the_calendar(cal: WorkingCalendar) -> None:
    assert cal.add(local(2026, 3, 7, 22, 0), TimeLimit(4, "h")) == local(2026, 3, 8, 2, 0)
    assert cal.add(local(2026, 10, 1, 23, 50), TimeLimit(30, "min")) == local(2026, 10, 2, 0, 20)


def test_results_are_utc_and_naive_inputs_are_rejected(cal: WorkingCalendar) -> None:
    result = cal.add(local(2026, 3, 10, 9, 0), wh(1))
    assert result.tzinfo == UTC and result == datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.add(datetime(2026, 3, 10, 9, 0), wh(1))
    with pytest.raises(ValueError, match="end"):
        cal.working_seconds_between(local(2026, 3, 10), datetime(2026, 3, 11))


def test_add_is_fast_for_long_limits(cal: WorkingCalendar) -> None:
    started = clock.perf_counter()
    for i in range(200):
        cal.add(local(2026, 1, 5, 9, 0) + timedelta(hours=i), wd(15))
    assert clock.perf_counter() - started < 2.0


# ------------------------------------------------------------ working time between


def test_working_seconds_between(cal: WorkingCalendar) -> None:
    assert cal.working_seconds_between(local(2026, 3, 6, 17, 0), local(2026, 3, 9, 9, 0)) == 3600
    assert cal.working_seconds_between(local(2026, 3, 10, 8, 30), local(2026, 3, 10, 17, 30)) == 7.5 * 3600
    assert cal.working_seconds_between(local(2026, 3, 10, 12, 0), local(2026, 3, 10, 13, 30)) == 0
    assert cal.working_seconds_between(local(2026, 3, 10, 12), local(2026, 3, 10, 11)) == 0
    assert cal.working_seconds_between(local(2026, 10, 1), local(2026, 10, 8)) == 0  # 国庆


@settings(max_examples=150, deadline=None)
@given(
    start=st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2027, 11, 30), timezones=st.just(SH)),
    hours=st.integers(min_value=0, max_value=200),
)
def test_add_and_between_agree(start: datetime, hours: int) -> None:
    cal = SHIPPED
    deadline = cal.add(start, wh(hours))
    assert deadline >= start
    assert cal.working_seconds_between(start, deadline) == pytest.approx(hours * 3600)
    if hours:
        assert cal.working_seconds_between(start, deadline - timedelta(seconds=1)) < hours * 3600


# ------------------------------------------------------------ suspension


def test_shift_by_working_time_of_suspension(cal: WorkingCalendar) -> None:
    deadline = local(2026, 3, 10, 15, 0)
    # paused 2 working hours on Monday morning → deadline 2 working hours later
    assert cal.shift(deadline, local(2026, 3, 9, 9, 0), local(2026, 3, 9, 11, 0), "wh") == local(2026, 3, 10, 17, 0)
    # paused overnight Mon 17:00 → Tue 09:00 only stops 1 working hour
    assert cal.shift(local(2026, 3, 11, 17, 0), local(2026, 3, 9, 17, 0), local(2026, 3, 10, 9, 0), "wd") == local(
        2026, 3, 12, 9, 0
    )
    # a pause over a weekend costs no working time
    assert cal.shift(deadline, local(2026, 3, 7, 9, 0), local(2026, 3, 8, 18, 0), "wh") == deadline


def test_shift_wall_clock_and_errors(cal: WorkingCalendar) -> None:
    deadline = local(2026, 3, 7, 12, 0)
    assert cal.shift(deadline, local(2026, 3, 7, 8, 0), local(2026, 3, 7, 9, 30), "h") == local(2026, 3, 7, 13, 30)
    with pytest.raises(ValueError, match="before it starts"):
        cal.shift(deadline, local(2026, 3, 7, 9, 0), local(2026, 3, 7, 8, 0), "h")


# ------------------------------------------------------------ traffic lights


def test_traffic_light_working_hours(cal: WorkingCalendar) -> None:
    # 10wh from Tue 08:30: 7.5h on Tuesday + 2.5h on Wednesday → Wed 11:00
    start, limit = local(2026, 3, 10, 8, 30), wh(10)
    deadline = cal.add(start, limit)
    assert deadline == local(2026, 3, 11, 11, 0)
    assert cal.traffic_light(start, deadline, local(2026, 3, 11, 8, 54), limit) is Light.GREEN  # 79 %
    assert cal.traffic_light(start, deadline, local(2026, 3, 11, 9, 0), limit) is Light.YELLOW  # 80 %
    assert cal.traffic_light(start, deadline, local(2026, 3, 11, 11, 0), limit) is Light.YELLOW  # 100 %
    assert cal.traffic_light(start, deadline, local(2026, 3, 11, 11, 6), limit) is Light.RED  # 101 %
    # overnight the working clock stands still: Tuesday 23:00 is 75 % used
    assert cal.traffic_light(start, deadline, local(2026, 3, 10, 23, 0), limit) is Light.GREEN


def test_traffic_light_wall_clock(cal: WorkingCalendar) -> None:
    start, limit = local(2026, 3, 7, 0, 0), TimeLimit(100, "min")
    deadline = cal.add(start, limit)
    at = lambda minutes: start + timedelta(minutes=minutes)
    assert cal.traffic_light(start, deadline, at(79), limit) is Light.GREEN
    assert cal.traffic_light(start, deadline, at(80), limit) is Light.YELLOW
    assert cal.traffic_light(start, deadline, at(100), limit) is Light.YELLOW
    assert cal.traffic_light(start, deadline, at(101), limit) is Light.RED
    assert cal.traffic_light(start, deadline, start - timedelta(minutes=5), limit) is Light.GREEN


def test_fraction_used(cal: WorkingCalendar) -> None:
    start = local(2026, 3, 10, 8, 30)
    deadline = cal.add(start, wh(10))
    assert cal.fraction_used(start, deadline, local(2026, 3, 11, 9, 0), "wh") == pytest.approx(0.8)


# ------------------------------------------------------------ loading


def test_bad_calendar_data_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "calendar.yaml"
    path.write_text("timezone: Asia/Shanghai\nperiods: ['08:30-12:00', '11:00-17:30']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="overlap"):
        load_calendar(path)
    path.write_text("timezone: Mars/Olympus\nperiods: ['08:30-12:00']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="Mars/Olympus"):
        load_calendar(path)
    path.write_text("periods: ['8.30-12']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="8.30"):
        load_calendar(path)


def test_holiday_and_makeup_clash_is_rejected() -> None:
    with pytest.raises(ValueError, match="2026-01-01"):
        WorkingCalendar(
            "Asia/Shanghai",
            [(time(9), time(17))],
            holidays=[Holiday("元旦", "New Year", date(2026, 1, 1), date(2026, 1, 1))],
            makeup_workdays=[date(2026, 1, 1)],
        )
