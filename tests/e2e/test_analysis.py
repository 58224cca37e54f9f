"""The analysis page (/analysis) in a browser at 1366×768: a shift leader sees the street table of this month, drills
into a street, clicks a cell and sees exactly the cases behind it, downloads the xlsx, and the page never scrolls
sideways."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from dispatcher.cases.actions import perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.loader import load_city
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from dispatcher.settings import REPO_ROOT
from dispatcher.store.db import make_engine, make_sessions
from geo.grids import GridIndex
from geo.importer import load_grids
from tests.conftest import DEMO_GRIDS
from tests.e2e.conftest import Watched

pytestmark = pytest.mark.browser

CLOSE = [Action.FILE, Action.DISPATCH, Action.CLAIM, Action.HANDLE, Action.VERIFY, Action.CLOSE]
UNIT = 321  # a demo unit grid no other e2e module reports in


@pytest.fixture(scope="module")
def closed_here(live_server) -> dict:
    """Two cases closed now in one unit grid and one left open there; their community, street and case numbers."""
    index = GridIndex(load_grids(DEMO_GRIDS), version="1")
    city = load_city(REPO_ROOT / "data", index)
    engine = make_engine(live_server.env["DATABASE_URL"])
    sessions = make_sessions(engine)
    unit = city.grids.by_level("unit")[UNIT]
    point = unit.geometry.representative_point()
    closed = []
    for n in range(3):
        now = datetime.now(UTC)
        cmd = CreateIncident(description=f"分析页测试 {n}", category_code="020101", lon=point.x, lat=point.y)
        with UnitOfWork(sessions) as uow:
            incident = create_incident(uow, city, cmd, actor="e2e-analysis", now=now)
            uow.commit(now)
            incident_id, number = incident.id, incident.case_number
        for action in CLOSE if n < 2 else []:
            body = {"result": "已清运"} if action is Action.HANDLE else {}
            with UnitOfWork(sessions) as uow:
                perform_action(uow, city, incident_id, action, ActionRequest(**body), actor="e2e-analysis", now=now)
                uow.commit(now)
        if n < 2:
            closed.append(number)
    engine.dispose()
    path = city.grids.path_of(unit.code)
    return {"community": path.community, "street": path.street, "closed": sorted(closed)}


def test_a_shift_leader_drills_clicks_a_cell_and_downloads_the_table(browser, live_server, closed_here):
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN", accept_downloads=True)
    try:
        watched = Watched(context, live_server)
        page = watched.sign_in("/analysis", account="leader")
        page.wait_for_selector("#an-table table, #an-table .gc-hint", timeout=30_000)  # last month: maybe empty
        today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
        page.fill("#an-anchor", today.isoformat())
        page.press("#an-anchor", "Enter")
        first = today.replace(day=1).isoformat()
        page.wait_for_selector(f"#an-caption:has-text('{first}')", timeout=30_000)
        street = page.locator(f"tr[data-code='{closed_here['street']}']")
        assert street.count() == 1
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366  # the wide table scrolls inside
        # drill into the street: its communities
        street.locator(".gc-an-drill").click()
        community = page.locator(f"tr[data-code='{closed_here['community']}']")
        community.wait_for(timeout=30_000)
        assert page.locator(".gc-an-crumbs b").inner_text() != ""
        # the community's closure rate: the cases behind its numerator are exactly the two closed ones
        community.locator("button.gc-an-cell").nth(_column(page, "结案率")).click()
        page.wait_for_selector("#an-cases-list", timeout=30_000)
        numerator = page.locator("#an-cases-list > div").nth(0)
        listed = sorted(numerator.locator("a.gc-an-case").all_inner_texts())
        assert listed == closed_here["closed"]
        assert all("/?incident=" in (a.get_attribute("href") or "") for a in numerator.locator("a").all())
        # the xlsx of the table on screen
        codes = page.eval_on_selector_all("#an-table tbody tr:not(.gc-an-total)", "rs => rs.map(r => r.dataset.code)")
        with page.expect_download() as info:
            page.click("#an-xlsx")
        sheet = load_workbook(io.BytesIO(open(info.value.path(), "rb").read())).active
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        assert [r[1] for r in rows[2:-1]] == codes
        assert page.evaluate("document.documentElement.scrollWidth") <= 1366
        assert not [e for e in watched.errors if "favicon" not in e]
    finally:
        context.close()


def _column(page, name: str) -> int:
    """The index of an indicator among the table's indicator columns (after rank, object, score, grade)."""
    heads = page.eval_on_selector_all("#an-table thead th", "hs => hs.map(h => h.textContent)")
    return heads.index(name) - 4
