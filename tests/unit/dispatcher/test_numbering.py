"""Case numbers (案件编号): YYYY-MMDD-NNNN per district and local day, given when a report is received."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from dispatcher.cases.uow import UnitOfWork
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.numbers import (
    NO_DISTRICT,
    PATTERN,
    CaseNumberCounter,
    counting_district,
    format_number,
    local_day,
    next_seq,
)
from dispatcher.intake.reports import create_incident

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOON = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


def inside(grid) -> tuple[float, float]:
    point = grid.geometry.representative_point()
    return point.x, point.y


def report(sessions, city, now: datetime, *, lon: float | None = None, lat: float | None = None):
    if lon is None:
        lon, lat = inside(city.grids.by_level("unit")[3])
    cmd = CreateIncident(description="人行道上有暴露垃圾", category_code="020101", lon=lon, lat=lat)
    with UnitOfWork(sessions) as uow:
        incident = create_incident(uow, city, cmd, actor="hotline-1", now=now)
        uow.commit(now)
    return incident


def test_format_pads_to_four_digits_and_takes_an_optional_district_tag():
    assert format_number(date(2026, 12, 1), 42) == "2026-1201-0042"
    assert format_number(date(2026, 1, 9), 1) == "2026-0109-0001"
    assert format_number(date(2026, 12, 1), 12345) == "2026-1201-12345"  # a very busy day grows, never wraps
    assert format_number(date(2026, 12, 1), 7, "06") == "06-2026-1201-0007"
    for number in ("2026-1201-0042", "06-2026-1201-0007"):
        assert re.match(PATTERN, number)


def test_the_local_day_is_the_city_calendar_day():
    assert local_day(datetime(2026, 12, 1, 15, 59, tzinfo=UTC), SHANGHAI) == date(2026, 12, 1)  # 23:59 local
    assert local_day(datetime(2026, 12, 1, 16, 1, tzinfo=UTC), SHANGHAI) == date(2026, 12, 2)  # 00:01 local
    with pytest.raises(ValueError):
        local_day(datetime(2026, 12, 1, 12, 0), SHANGHAI)


def test_reports_are_numbered_in_order_within_a_day(sessions, city):
    numbers = [report(sessions, city, NOON + timedelta(minutes=i)).case_number for i in range(3)]
    assert numbers == ["2026-1201-0001", "2026-1201-0002", "2026-1201-0003"]


def test_2359_and_0001_local_fall_on_different_days_and_the_count_restarts(sessions, city):
    late = report(sessions, city, datetime(2026, 12, 1, 15, 59, tzinfo=UTC))  # 23:59 on 1 Dec in Shanghai
    later = report(sessions, city, datetime(2026, 12, 1, 15, 59, 30, tzinfo=UTC))
    early = report(sessions, city, datetime(2026, 12, 1, 16, 1, tzinfo=UTC))  # 00:01 on 2 Dec in Shanghai
    assert (late.case_number, later.case_number) == ("2026-1201-0001", "2026-1201-0002")
    assert early.case_number == "2026-1202-0001"
    with sessions() as session:
        counters = {(c.district, c.day): c.last for c in session.scalars(select(CaseNumberCounter))}
    district = late.grid_district
    assert counters == {(district, date(2026, 12, 1)): 2, (district, date(2026, 12, 2)): 1}


def test_a_report_outside_every_grid_counts_in_the_city_district(sessions, city):
    inside_case = report(sessions, city, NOON)
    outside = report(sessions, city, NOON + timedelta(minutes=1), lon=100.0, lat=30.0)
    assert outside.grid_district is None and outside.status == "triage"
    assert [c.case_number for c in (inside_case, outside)] == ["2026-1201-0001", "2026-1201-0002"]
    assert counting_district(city, outside) == inside_case.grid_district != NO_DISTRICT


def test_numbering_is_per_district(sessions, city):
    """Two districts count apart; in a city of several districts the number carries the district's last digits."""
    with sessions() as session, session.begin():
        assert next_seq(session, "330199", date(2026, 12, 1)) == 1
        assert next_seq(session, "330106", date(2026, 12, 1)) == 1
        assert next_seq(session, "330199", date(2026, 12, 1)) == 2
        assert next_seq(session, NO_DISTRICT, date(2026, 12, 1)) == 1


def test_the_number_is_in_the_snapshot_and_the_label(sessions, city):
    incident = report(sessions, city, NOON)
    assert incident.snapshot()["case_number"] == incident.label == "2026-1201-0001"
    incident.case_number = None  # a row from before numbers
    assert incident.label == incident.id[:8]
