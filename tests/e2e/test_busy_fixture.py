"""The busy server the desk's browser tests run on: a thousand open cases, and new ones arriving from the simulator."""

from __future__ import annotations

import time

from tests.e2e.busy import open_case_count
from tests.e2e.conftest import BUSY_CASES

QUEUE_ROWS = "#cc-queue .gc-qrow[data-id]"


def _all_cases(busy_server) -> int:
    from sqlalchemy import func, select

    from dispatcher.cases.incident import Incident
    from dispatcher.store.db import make_engine, make_sessions

    engine = make_engine(busy_server.env["DATABASE_URL"])
    try:
        with make_sessions(engine)() as session:
            return int(session.scalar(select(func.count()).select_from(Incident)) or 0)
    finally:
        engine.dispose()


def test_busy_server_has_a_thousand_open_cases_and_new_ones_keep_arriving(busy_server, open_busy_page):
    assert open_case_count(busy_server.env["DATABASE_URL"]) >= BUSY_CASES
    page = open_busy_page("/").page
    page.wait_for_selector(QUEUE_ROWS, timeout=15_000)
    assert page.locator(QUEUE_ROWS).count() > 0  # the command center lists them

    before, started = _all_cases(busy_server), time.monotonic()
    time.sleep(45)
    arrived = _all_cases(busy_server) - before
    per_minute = arrived * 60 / (time.monotonic() - started)
    # Poisson at 20 a minute: 15 expected in 45 s; fewer than 5 or more than 35 is (far) below one in a thousand
    assert 5 <= arrived <= 35, f"{arrived} new cases in 45 s ({per_minute:.1f}/min), expected about 20/min"
