"""The wall's live situation (dispatcher/evaluation): exact figures for a hand-built set of cases at a fixed `now`
(10:00 in Shanghai on Wednesday 2 December 2026), on an in-memory SQLite database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import sqlalchemy as sa

from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.evaluation.situation import situation
from dispatcher.fleet.officers import Officer

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # 10:00 Shanghai
MIDNIGHT = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)  # 00:00 Shanghai, 2 December
_ids = count(1)


def case(
    session,
    *,
    created: datetime,
    status: str = "reported",
    channel: str = "hotline",
    department: str | None = None,
    street: str | None = None,
    closed: datetime | None = None,
    total_deadline: datetime | None = None,
    stage_deadline: datetime | None = None,
    actions: tuple[tuple[str, datetime], ...] = (),
) -> Incident:
    """One incident row with the timeline records given (action, at)."""
    incident = Incident(
        id=f"case-{next(_ids):04d}",
        channel=channel,
        status=status,
        description="测试",
        department_code=department,
        grid_street=street,
        created_at=created,
        updated_at=created,
        closed_at=closed,
        total_deadline=total_deadline,
        stage_deadline=stage_deadline,
    )
    for seq, (action, at) in enumerate(actions, start=1):
        incident.timeline.append(
            TimelineEntry(seq=seq, at=at, actor="t", action=action, from_status=None, to_status=status)
        )
    session.add(incident)
    return incident


def closed_case(session, closed: datetime, *, late: bool = False, flagged: bool = False, **kw) -> Incident:
    """A case closed at `closed`: after its overall limit (`late`) or with a red card on one stage (`flagged`)."""
    limit = closed - timedelta(hours=1) if late else closed + timedelta(days=1)
    actions = [("file", closed - timedelta(hours=5)), ("close", closed)]
    if flagged:
        actions.insert(1, ("overdue", closed - timedelta(hours=2)))
    return case(
        session,
        created=closed - timedelta(hours=6),
        status="closed",
        closed=closed,
        total_deadline=limit,
        actions=tuple(actions),
        **kw,
    )


@pytest.fixture
def session(sessions):
    with sessions() as s:
        yield s


def test_on_time_closure_today_and_over_seven_days_shows_exact_numerator_and_denominator(session):
    closed_case(session, NOW - timedelta(hours=1))  # on time
    closed_case(session, NOW - timedelta(hours=2), late=True)  # after its overall limit
    # a stage ran out on the way but it closed by its overall limit: 按期结案 (the stage's lateness is counted by that
    # stage's own rate, e.g. 按期处置率) — one rule with the indicator engine, dispatcher/evaluation/counts.py
    closed_case(session, NOW - timedelta(hours=3), flagged=True)
    closed_case(session, MIDNIGHT - timedelta(seconds=1))  # 23:59:59 yesterday: on time, this week, not today
    closed_case(session, MIDNIGHT - timedelta(days=7))  # eight days ago: outside the week
    void = case(session, created=NOW - timedelta(hours=3), status="voided", closed=NOW - timedelta(hours=1))
    session.commit()
    s = situation(session, now=NOW)
    assert (s.on_time_today.numerator, s.on_time_today.denominator) == (2, 3)
    assert s.on_time_today.value == round(2 / 3, 4) and s.on_time_today.period.key == "today"
    assert s.on_time_today.period.start == MIDNIGHT and s.on_time_today.period.end == MIDNIGHT + timedelta(days=1)
    assert (s.on_time_week.numerator, s.on_time_week.denominator) == (3, 4)
    assert s.on_time_week.period.start == MIDNIGHT - timedelta(days=6)
    assert s.today.closed == 3 and s.today.closed_on_time == 2  # a voided case is no closure
    assert void.status == "voided"


def test_nothing_closed_today_is_no_rate_not_a_hundred_percent(session):
    case(session, created=NOW - timedelta(days=3), status="dispatched", stage_deadline=NOW - timedelta(days=1))
    session.commit()
    s = situation(session, now=NOW)
    assert s.on_time_today.denominator == 0 and s.on_time_today.value is None
    assert s.open_overdue == 1


def test_an_open_overdue_case_counts_as_open_overdue_and_never_as_a_closure(session):
    case(session, created=NOW - timedelta(days=2), status="dispatched", stage_deadline=NOW - timedelta(hours=1))
    case(session, created=NOW - timedelta(days=2), status="claimed", total_deadline=NOW - timedelta(minutes=1))
    case(session, created=NOW - timedelta(days=2), status="claimed", stage_deadline=NOW + timedelta(hours=1))
    case(session, created=NOW - timedelta(days=2), status="suspended", stage_deadline=NOW - timedelta(hours=1))
    case(session, created=NOW - timedelta(hours=1), status="reported")
    closed_case(session, NOW - timedelta(hours=1))
    session.commit()
    s = situation(session, now=NOW)
    assert s.open == 5 and s.open_overdue == 2  # the suspended one's clock is stopped
    assert (s.overdue_share.numerator, s.overdue_share.denominator) == (2, 5)
    assert s.today.in_handling == 4 and s.today.closed == 1
    # 应结案 today: the closed case, and the claimed one that ran past its overall limit a minute ago (counted against
    # today's 按期结案率 like the engine does, not only once it is closed)
    assert (s.on_time_today.numerator, s.on_time_today.denominator) == (1, 2)


def test_the_day_turns_at_shanghai_midnight(session):
    case(session, created=MIDNIGHT - timedelta(seconds=1))  # 23:59:59 on 1 December in Shanghai
    case(session, created=MIDNIGHT)  # 00:00:00 on 2 December
    case(session, created=MIDNIGHT + timedelta(hours=9, minutes=59))  # 09:59
    case(session, created=NOW + timedelta(minutes=5))  # a clock skew: later today still counts today
    session.commit()
    s = situation(session, now=NOW)
    assert s.day == "2026-12-02" and s.today.received == 3
    assert s.hourly.today[0] == 1 and s.hourly.today[9] == 1 and s.hourly.today[10] == 1 and sum(s.hourly.today) == 3
    assert s.hourly.yesterday[23] == 1 and sum(s.hourly.yesterday) == 1
    assert s.hourly.current_hour == 10
    assert s.daily.days[-2:] == ["2026-12-01", "2026-12-02"] and len(s.daily.days) == 14
    assert s.daily.received[-2:] == [1, 3]


def test_daily_trend_counts_received_and_closed_per_local_day(session):
    closed_case(session, NOW - timedelta(days=1))  # created and closed yesterday
    closed_case(session, NOW - timedelta(days=13))  # the first day of the fourteen
    closed_case(session, NOW - timedelta(days=14))  # one day too old
    session.commit()
    d = situation(session, now=NOW).daily
    assert d.days[0] == "2026-11-19" and d.closed[0] == 1 and d.closed[-2] == 1 and sum(d.closed) == 2
    assert sum(d.received) == 2


def test_rankings_put_the_worst_department_and_street_first_with_their_denominators(session):
    late = NOW - timedelta(hours=1)
    for _ in range(2):
        case(
            session,
            created=NOW - timedelta(days=1),
            status="claimed",
            department="HW",
            street="S1",
            stage_deadline=late,
        )
    case(session, created=NOW - timedelta(days=1), status="claimed", department="SZ", street="S2", stage_deadline=late)
    for _ in range(3):
        case(session, created=NOW - timedelta(days=1), status="dispatched", department="SZ", street="S2")
    case(session, created=NOW - timedelta(days=1), status="dispatched", department="YL", street="S3")
    closed_case(session, NOW - timedelta(hours=3), department="YL", street="S3")
    closed_case(session, NOW - timedelta(hours=3), department="YL", street="S3", late=True)
    closed_case(session, NOW - timedelta(days=2), department="GD", street="S3")  # closed only, nothing open
    session.commit()
    s = situation(session, now=NOW)
    ranked = [(r.code, r.open, r.overdue) for r in s.departments]
    assert ranked == [("HW", 2, 2), ("SZ", 4, 1), ("YL", 1, 0), ("GD", 0, 0)]
    yl = next(r for r in s.departments if r.code == "YL")
    assert (yl.on_time.numerator, yl.on_time.denominator, yl.on_time.period.key) == (1, 2, "7d")
    assert [r.code for r in s.streets] == ["S1", "S2", "S3"]
    s3 = s.streets[2]
    assert (s3.open, s3.on_time.numerator, s3.on_time.denominator) == (1, 2, 3)


def test_channel_mix_today_and_over_the_week(session):
    for channel, created in [
        ("hotline", NOW - timedelta(hours=1)),
        ("hotline", NOW - timedelta(hours=2)),
        ("grid_worker", NOW - timedelta(hours=1)),
        ("open311", NOW - timedelta(days=3)),
        ("sensor", NOW - timedelta(days=8)),  # outside the week
    ]:
        case(session, created=created, channel=channel)
    session.commit()
    mix = situation(session, now=NOW).channels
    assert {k: v for k, v in mix.today.items() if v} == {"hotline": 2, "grid_worker": 1}
    assert {k: v for k, v in mix.week.items() if v} == {"hotline": 2, "grid_worker": 1, "open311": 1}
    assert mix.today["video"] == 0 and mix.week["sensor"] == 0  # every channel present


def test_staff_on_duty_by_status_and_recent_positions(session):
    roster = [
        ("o1", True, "grid_worker"),
        ("o2", True, "enforcement"),
        ("o3", True, "handler"),
        ("o4", True, "handler"),
        ("o5", False, "handler"),
    ]
    for officer_id, on_duty, role in roster:
        session.add(Officer(id=officer_id, name=officer_id, role=role, device_id=f"d-{officer_id}", on_duty=on_duty))
    case(session, created=NOW - timedelta(hours=1), status="claimed").assignee = "o2"
    session.commit()
    fixes = {
        "o1": NOW - timedelta(seconds=30),  # on duty
        "o2": NOW - timedelta(seconds=60),  # busy: an open case is assigned to them
        "o3": NOW - timedelta(minutes=4),  # stale (over 2 minutes)
        "o5": NOW - timedelta(seconds=10),  # off duty, whatever the tracker says
    }  # o4 never sent a fix: offline
    staff = situation(session, now=NOW, last_fixes=fixes).staff
    assert staff is not None and staff.total == 5
    assert staff.by_status == {"on_duty": 1, "busy": 1, "stale": 1, "offline": 1, "off_duty": 1}
    assert staff.on_shift_by_role == {"grid_worker": 1, "enforcement": 1, "handler": 2}
    assert staff.reporting == 4 and staff.recent_minutes == 5  # o4 (never) is the only one without a recent fix
    only_handlers = situation(session, now=NOW, last_fixes=fixes, officer_visible=lambda o: o.role == "handler").staff
    assert only_handlers is not None and only_handlers.total == 3


def test_every_figure_stays_inside_the_scope(session):
    case(session, created=NOW - timedelta(hours=1), department="HW", street="S1", status="dispatched")
    case(session, created=NOW - timedelta(hours=1), department="SZ", street="S2", status="dispatched")
    closed_case(session, NOW - timedelta(hours=1), department="SZ", street="S2")
    session.commit()
    s = situation(session, now=NOW, scope=Incident.grid_street == "S1")
    assert s.today.received == 1 and s.open == 1 and s.today.closed == 0
    assert [r.code for r in s.departments] == ["HW"] and [r.code for r in s.streets] == ["S1"]
    assert sum(s.channels.week.values()) == 1 and sum(s.daily.received) == 1


def test_the_number_of_queries_does_not_grow_with_the_number_of_cases(session, engine):
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))

    def queries() -> int:
        statements.clear()
        situation(session, now=NOW, last_fixes={})
        return len(statements)

    for _ in range(3):
        closed_case(session, NOW - timedelta(hours=2), department="HW", street="S1")
    session.commit()
    few = queries()
    for n in range(60):
        closed_case(session, NOW - timedelta(hours=2, minutes=n), department=f"D{n % 7}", street=f"S{n % 5}")
        case(session, created=NOW - timedelta(days=n % 10), status="claimed", department="HW")
    session.commit()
    assert queries() == few
