"""Worked examples of the indicator engine (dispatcher/evaluation/engine.py): the counts, rates, scores, grades and
ranks of a hand-built November 2026 (tests/integration/indicator_cases.py), each expected number computed BY HAND
below with the cases that make it. Both backends."""

from __future__ import annotations

from datetime import date

import pytest

from dispatcher.evaluation import engine, periods
from dispatcher.evaluation.catalogue import load_catalogue
from dispatcher.evaluation.counts import COUNTS
from dispatcher.evaluation.tables import ObjectKind
from tests.integration.indicator_cases import NOW, TZ, november

K = ObjectKind
NOV = periods.period_of("month", date(2026, 11, 1), TZ)
DEC = periods.period_of("month", date(2026, 12, 1), TZ)
NOV_2025 = periods.period_of("month", date(2025, 11, 1), TZ)

# November 2026, every street together. Why each case counts (c = case id of indicator_cases.py):
NOVEMBER_TOTAL = {
    # created in Nov, any status: not c03/c21/c26/c27 (October), c22/c23 (2025)
    "reported": 19,  # c01 c02 c04 c05 c06 c07 c08 c09 c10 c11 c12 c13 c14 c15 c16 c18 c19 c20 c24
    "filed": 16,  # the reported ones filed, minus voided c09 and merged c10 (c18 never filed)
    "dispatched": 15,  # the filed ones but c19 (not dispatched yet)
    "due_dispatch": 15,  # the same 15 (c19's dispatch falls due on 1 Dec)
    "dispatch_on_time": 14,  # all but c05 (2 h late)
    "dispatch_accurate": 13,  # all but c08 (reworked) and c11 (returned)
    "returned": 1,  # c11
    # handling due in Nov: done or ran out in Nov, whichever first
    "due_handle": 13,  # c01 c03 c04(ran out 15th) c05 c06 c07 c08 c11 c12 c13 c14(ran out 23rd) c20 c24
    "handle_done": 11,  # minus c04 and c14 (not handled in Nov)
    "handle_on_time": 10,  # minus c05 (a day late); c06 exactly on its deadline counts
    "due_close": 11,  # c01 c03 c04(20th) c05 c06 c07 c08 c11 c13 c14(27th) c24 — not c12 (Dec 10) nor c20 (1 Dec 00:00)
    "close_done": 9,  # minus c04 (closed 1 Dec) and c14 (open)
    "close_on_time": 8,  # minus c05
    "reworked": 1,  # c08 (twice: still one case)
    "extended": 1,  # c13
    "closed": 9,  # closed in Nov: c01 c03 c05 c06 c07 c08 c11 c13 c24 (voided c09 is no closure)
    "grid_reports": 4,  # c01 c10 (merged) c18 (voided) c19
    "grid_verified": 2,  # c01 c19
    "callbacks_reached": 2,  # c01 satisfied, c08 unsatisfied; c24 not reached
    "callbacks_satisfied": 1,  # c01
}


@pytest.fixture
def month(db):
    """The worked month stored on the current backend: (sessions, catalogue)."""
    _, _, sessions = db
    with sessions.begin() as session:
        november(session)
    return sessions, load_catalogue()


def _total_counts(session, catalogue, period, names) -> dict[str, int]:
    counts = engine.grouped_counts(session, None, engine.true(), [periods.clipped(period, NOW)], names)
    return counts[engine.TOTAL][0]


def test_every_count_of_november_matches_the_hand_computed_table(month):
    sessions, catalogue = month
    with sessions() as session:
        assert _total_counts(session, catalogue, NOV, list(NOVEMBER_TOTAL)) == NOVEMBER_TOTAL


def test_december_so_far_counts_only_what_fell_due_by_now(month):
    sessions, catalogue = month
    with sessions() as session:
        got = _total_counts(session, catalogue, DEC, ["due_handle", "handle_done", "due_close", "close_on_time"])
        got |= _total_counts(session, catalogue, DEC, ["closed", "due_dispatch", "dispatch_done"])
    assert got == {
        "due_handle": 2,  # c02 (handled 1 Dec), c16 (ran out 1 Dec 08:00); c15's deadline is after now
        "handle_done": 1,  # c02
        "due_close": 2,  # c02 (closed 1 Dec), c20 (closed on its limit, 1 Dec 00:00)
        "close_on_time": 2,
        "closed": 3,  # c02 c04 c20
        "due_dispatch": 1,  # c19 (due 1 Dec 00:30, not dispatched)
        "dispatch_done": 0,
    }


def test_street_table_rates_scores_grades_and_comparisons(month):
    sessions, catalogue = month
    with sessions() as session:
        table = engine.evaluate(session, catalogue, kind=K.STREET, period=NOV, now=NOW, tz=TZ, parent="D")
    assert table.catalogue_version == "2026-07-01" and table.period.key == "2026-11"
    assert (table.previous.key, table.last_year.key) == ("2026-10", "2025-11")
    rows = {r.code: r for r in table.rows}
    a, b = rows["S-A"].cells, rows["S-B"].cells
    # S-A: due to close c01 c03 c06 c08 c13 c14 c24 (7), closed 6, all on time; S-B: c04 c05 c07 c11 (4), 3, 2
    assert (a["close_rate"].numerator, a["close_rate"].denominator) == (6, 7)
    assert (b["close_on_time_rate"].numerator, b["close_on_time_rate"].denominator) == (2, 4)
    # S-A reported c01 c02 c06 c08 c09 c10 c13 c14 c19 c20 c24 (11), filed 9; grid-worker filed c01 c19 (2 of 9)
    assert (a["filing_rate"].numerator, a["filing_rate"].denominator) == (9, 11)
    assert (a["supervision_report_rate"].numerator, a["supervision_report_rate"].denominator) == (2, 9)
    # 2026 region weights: filing .1, close .3, on time .4, supervision .2
    score_a = 0.1 * 100 * 9 / 11 + 0.3 * 100 * 6 / 7 + 0.4 * 100 * 6 / 7 + 0.2 * 100 * 2 / 9
    score_b = 0.1 * 100 * 7 / 8 + 0.3 * 100 * 3 / 4 + 0.4 * 100 * 2 / 4 + 0.2 * 0
    assert rows["S-A"].score == round(score_a, 2) == 72.63 and rows["S-A"].grade == "C" and rows["S-A"].rank == 1
    assert rows["S-B"].score == round(score_b, 2) == 51.25 and rows["S-B"].grade == "D" and rows["S-B"].rank == 2
    assert [r.code for r in table.rows] == ["S-A", "S-B"] and rows["S-A"].drill is K.COMMUNITY
    # 环比: October S-A closed c26 on time (1/1), S-B closed c27 late (0/1); 同比: Nov 2025 c22 on time, c23 late
    assert (a["close_on_time_rate"].previous, b["close_on_time_rate"].previous) == (1.0, 0.0)
    assert (a["close_on_time_rate"].last_year, b["close_on_time_rate"].last_year) == (1.0, 0.0)
    total = table.total.cells["close_on_time_rate"]
    assert (total.numerator, total.denominator, total.previous, total.last_year) == (8, 11, 0.5, 0.5)
    assert len(total.trend) == 6 and total.trend[-1] == round(8 / 11, 4) and total.trend[-2] == 0.5


def test_weights_in_force_on_the_first_day_decide_past_scores(month):
    sessions, catalogue = month
    with sessions() as session:
        past = engine.evaluate(session, catalogue, kind=K.STREET, period=NOV_2025, now=NOW, tz=TZ)
    assert past.catalogue_version == "2025-01-01"
    row = {r.code: r for r in past.rows}["S-B"]
    # c23: filed (1/1), closed (1/1), late (0/1), not a grid worker's (0/1); 2025 weights .2 .3 .3 .2 → 50, not the
    # 2026 weights' 40
    assert row.score == 50.0 and row.grade == "D"


def test_departments_and_their_handlers(month):
    sessions, catalogue = month
    with sessions() as session:
        depts = engine.evaluate(session, catalogue, kind=K.DEPARTMENT, period=NOV, now=NOW, tz=TZ)
        people = engine.evaluate(session, catalogue, kind=K.PERSON, parent="D1", period=NOV, now=NOW, tz=TZ)
    rows = {r.code: r for r in depts.rows}
    # D1: close 4/5 (c14 open), handled on time 6/7 (c14), reworked 1/5 (c08), returned 0/7
    # D2: close 5/6 (c04), handled on time 4/6 (c04 c05), reworked 0/6, returned 1/8 (c11)
    d1 = 0.25 * 80 + 0.35 * 100 * 6 / 7 + 0.25 * 80 + 0.15 * 100
    d2 = 0.25 * 100 * 5 / 6 + 0.35 * 100 * 4 / 6 + 0.25 * 100 + 0.15 * 100 * 7 / 8
    assert (rows["D1"].score, rows["D1"].grade, rows["D1"].rank) == (round(d1, 2), "B", 1)
    assert (rows["D2"].score, rows["D2"].grade, rows["D2"].rank) == (round(d2, 2), "B", 2)
    assert rows["D1"].drill is K.PERSON
    handlers = {r.code: r for r in people.rows}
    assert set(handlers) == {"h1", "h2"}  # D1's handlers only
    # h1: handled 5 of 6 due (c14 not), all on time, no rework, no return; h2 (c08): all on time, reworked
    h1 = 0.2 * 100 * 5 / 6 + 0.4 * 100 * 5 / 6 + 0.2 * 100 + 0.2 * 100
    assert (handlers["h1"].score, handlers["h1"].grade) == (round(h1, 2), "A")
    assert (handlers["h2"].score, handlers["h2"].grade, handlers["h2"].rank) == (80.0, "B", 2)


@pytest.mark.parametrize("kind,code", [(K.STREET, "S-A"), (K.STREET, "*"), (K.DEPARTMENT, "D2")])
def test_the_cases_behind_each_number_are_as_many_as_the_number(month, kind, code):
    sessions, catalogue = month
    with sessions() as session:
        table = engine.evaluate(session, catalogue, kind=kind, period=NOV, now=NOW, tz=TZ, parent="D")
        row = table.total if code == "*" else next(r for r in table.rows if r.code == code)
        for count, number in row.counts.items():
            found = engine.cases_behind(
                session, catalogue, kind=kind, code=code, count=count, period=NOV, now=NOW, tz=TZ, parent="D"
            )
            assert len(found) == number, count
    assert set(row.counts) <= set(COUNTS)


def test_late_cases_behind_closure(month):
    sessions, catalogue = month
    with sessions() as session:
        due = engine.cases_behind(session, catalogue, kind=K.STREET, code="S-B", count="due_close", period=NOV,
                                  now=NOW, tz=TZ)  # fmt: skip
        on_time = engine.cases_behind(session, catalogue, kind=K.STREET, code="S-B", count="close_on_time",
                                      period=NOV, now=NOW, tz=TZ)  # fmt: skip
    assert sorted(c.id for c in due) == ["c04", "c05", "c07", "c11"]
    assert sorted(c.id for c in on_time) == ["c07", "c11"]


def test_series_gives_one_cell_per_period(month):
    sessions, catalogue = month
    months = periods.back(NOV, 3)
    with sessions() as session:
        cells = engine.series(session, catalogue, kind=K.STREET, code=None, indicator="close_on_time_rate",
                              periods=months, now=NOW)  # fmt: skip
    assert [(c.numerator, c.denominator) for c in cells] == [(0, 0), (1, 2), (8, 11)]
    assert cells[0].value is None  # September: nothing due, no fake 0 %


@pytest.mark.parametrize("day", [2, 8, 9, 14, 20, 23, 27, 30])
def test_the_wall_and_the_engine_agree_on_closure_on_time(month, day):
    """The wall's 今日/近7日按期结案率 at 18:00 on a November day are the engine's close_on_time_rate for that day and
    for the seven days to it (with the same numerator and denominator)."""
    from dispatcher.evaluation.situation import situation
    from tests.integration.indicator_cases import at

    sessions, catalogue = month
    now = at(11, day, 18)
    today = periods.period_of("day", date(2026, 11, day), TZ)
    week = periods.span(date(2026, 11, day - 6) if day > 6 else date(2026, 10, 25 + day), date(2026, 11, day), TZ)
    with sessions() as session:
        wall = situation(session, now=now, tz=TZ, with_staff=False)
        by_day = engine.evaluate(session, catalogue, kind=K.STREET, period=today, now=now, tz=TZ, trend=1)
        by_week = engine.evaluate(session, catalogue, kind=K.STREET, period=week, now=now, tz=TZ, trend=1)
    cell, week_cell = by_day.total.cells["close_on_time_rate"], by_week.total.cells["close_on_time_rate"]
    assert (wall.on_time_today.numerator, wall.on_time_today.denominator) == (cell.numerator, cell.denominator)
    assert (wall.on_time_week.numerator, wall.on_time_week.denominator) == (week_cell.numerator, week_cell.denominator)
    assert wall.today.closed_on_time == cell.numerator
    streets = {r.code: (r.on_time.numerator, r.on_time.denominator) for r in wall.streets}
    for row in by_week.rows:
        c = row.cells["close_on_time_rate"]
        assert streets.get(row.code, (0, 0)) == (c.numerator, c.denominator), row.code


def test_the_wall_and_the_engine_agree_on_a_day_with_a_late_closure(month):
    """9 November: c05 closed a day after its limit (due 8th) — the 8th counts it, not the 9th."""
    from dispatcher.evaluation.situation import situation
    from tests.integration.indicator_cases import at

    sessions, _ = month
    with sessions() as session:
        eighth = situation(session, now=at(11, 8, 18), tz=TZ, with_staff=False).on_time_today
        ninth = situation(session, now=at(11, 9, 18), tz=TZ, with_staff=False)
    assert (eighth.numerator, eighth.denominator) == (0, 1)  # c05 ran past its limit on the 8th
    assert (ninth.on_time_today.numerator, ninth.on_time_today.denominator) == (0, 0)
    assert ninth.today.closed == 1  # c05 closed on the 9th (c09 voided and c18 rejected are no closures)


def test_the_total_row_the_whole_table_series_and_its_cases_count_the_same_cases(month):
    """A department table leaves out cases with no department (c10 c18 c19 here) in its total, its series and the
    cases behind its total alike."""
    sessions, catalogue = month
    with sessions() as session:
        table = engine.evaluate(session, catalogue, kind=K.DEPARTMENT, period=NOV, now=NOW, tz=TZ,
                                indicator_set="region")  # fmt: skip
        whole = engine.series(session, catalogue, kind=K.DEPARTMENT, code=None, indicator="filing_rate",
                              periods=[NOV], now=NOW)  # fmt: skip
        behind = engine.cases_behind(session, catalogue, kind=K.DEPARTMENT, code="*", count="reported", period=NOV,
                                     now=NOW, tz=TZ)  # fmt: skip
    cell = table.total.cells["filing_rate"]
    # reported in Nov with a department: the 19 reported but c10 c18 c19 (16); filed: those but voided c09 (15)
    assert (cell.numerator, cell.denominator) == (15, 16) == (whole[0].numerator, whole[0].denominator)
    assert len(behind) == 16 and {"c10", "c18", "c19"}.isdisjoint(c.id for c in behind)
