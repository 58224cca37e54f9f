"""Finished periods are counted once and kept (dispatcher/evaluation/frozen.py): a second table reads them back, a
late edit of a finished month does not move it until `refreeze`, the running period is always live, and a
different scope never reads another scope's numbers. Both backends."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from dispatcher.cases.incident import Incident
from dispatcher.evaluation import engine, frozen, periods
from dispatcher.evaluation.catalogue import load_catalogue
from dispatcher.evaluation.frozen import FrozenCounts
from dispatcher.evaluation.tables import ObjectKind
from tests.integration.indicator_cases import NOW, TZ, at, case, flow, november

NOV = periods.period_of("month", date(2026, 11, 1), TZ)
DEC = periods.period_of("month", date(2026, 12, 1), TZ)


@pytest.fixture
def month(db):
    _, _, sessions = db
    with sessions.begin() as session:
        november(session)
    return sessions, load_catalogue()


def _closed_on_time(sessions, catalogue, period, scope=None) -> tuple[int, int, float | None]:
    with sessions.begin() as session:  # the store keeps what the caller's transaction commits
        table = engine.evaluate(
            session, catalogue, kind=ObjectKind.STREET, period=period, now=NOW, tz=TZ, parent="D", scope=scope
        )
    cell = table.total.cells["close_on_time_rate"]
    return cell.numerator, cell.denominator, cell.previous


def _late_closure(sessions, cid: str, day) -> None:
    """A case of street S-A closed late on `day` (a correction entered after the fact)."""
    with sessions.begin() as session:
        closed = day.replace(hour=17)
        case(session, cid, street="S-A", created=day, **flow(day, day, day, closed, total=day.replace(hour=12)))


def _kept(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(FrozenCounts)) or 0


def test_a_finished_month_is_kept_and_read_back_unchanged(month):
    sessions, catalogue = month
    first = _closed_on_time(sessions, catalogue, NOV)
    assert first == (8, 11, 0.5) and _kept(sessions) > 0  # November, October, … and November 2025 kept
    kept = _kept(sessions)
    _late_closure(sessions, "late-nov", at(11, 20))
    assert _closed_on_time(sessions, catalogue, NOV) == first  # read back: the late edit does not move November
    assert _kept(sessions) == kept
    with sessions.begin() as session:
        assert frozen.refreeze(session) == kept
    assert _closed_on_time(sessions, catalogue, NOV) == (8, 12, 0.5)  # recounted after the correction


def test_the_running_period_is_always_counted_live(month):
    sessions, catalogue = month
    before = _closed_on_time(sessions, catalogue, DEC)
    _late_closure(sessions, "late-dec", at(12, 1))
    after = _closed_on_time(sessions, catalogue, DEC)
    assert (after[0], after[1]) == (before[0], before[1] + 1)
    assert after[2] == before[2]  # November, kept, is the 环比 either way


def test_each_scope_keeps_its_own_numbers(month):
    sessions, catalogue = month
    assert _closed_on_time(sessions, catalogue, NOV)[1] == 11
    only_b = Incident.grid_street == "S-B"
    assert _closed_on_time(sessions, catalogue, NOV, scope=only_b)[:2] == (2, 4)  # S-B alone, not the city's 8 of 11
    assert _closed_on_time(sessions, catalogue, NOV)[:2] == (8, 11)


def test_the_refreeze_command_drops_what_was_kept(month, db, monkeypatch):
    from click.testing import CliRunner

    from dashboard.cli import main
    from dispatcher.settings import get_settings

    sessions, catalogue = month
    _closed_on_time(sessions, catalogue, NOV)
    kept = _kept(sessions)
    assert kept > 0
    monkeypatch.setenv("DATABASE_URL", db[0])
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["analysis", "refreeze"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert f"{kept} finished period" in result.output and _kept(sessions) == 0
