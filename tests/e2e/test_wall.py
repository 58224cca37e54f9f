"""The wall (/wall) on a 1920×1080 screen and on a 3840×2160 wall: type scales with the viewport (labels about twice
as large at 4K), nothing overflows or is clipped, the on-time tile shows its numerator/denominator (also on hover),
and the charts are drawn."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

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
SCREENS = [(1920, 1080), (3840, 2160)]

# every text element of the wall whose text must be shown whole (the ranking names have the full text in the row's
# title and may end in an ellipsis; nothing else may)
CLIPPED = """() => {
  const bad = [];
  for (const el of document.querySelectorAll('.gc-wall *')) {
    if (!el.childElementCount && el.textContent.trim() && !el.closest('.gc-wrank-name') && !el.closest('svg')
        && !el.closest('.leaflet-container')) {
      if (el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).display !== 'inline') bad.push(el.className + ': ' + el.textContent);
      const r = el.getBoundingClientRect();
      if (r.right > innerWidth + 1 || r.bottom > innerHeight + 1) bad.push('outside: ' + el.textContent);
    }
  }
  return bad;
}"""


@pytest.fixture(scope="module")
def seeded(live_server):
    """Three cases reported now in the server's database, two of them driven to closed (on time)."""
    index = GridIndex(load_grids(DEMO_GRIDS), version="1")
    city = load_city(REPO_ROOT / "data", index)
    engine = make_engine(live_server.env["DATABASE_URL"])
    sessions = make_sessions(engine)
    units = city.grids.by_level("unit")
    for n, unit in enumerate((units[100], units[2000], units[4000])):
        point = unit.geometry.representative_point()
        now = datetime.now(UTC)
        cmd = CreateIncident(description=f"大屏测试 {n}", category_code="020101", lon=point.x, lat=point.y)
        with UnitOfWork(sessions) as uow:
            incident = create_incident(uow, city, cmd, actor="e2e-wall", now=now)
            uow.commit(now)
            incident_id = incident.id
        for action in CLOSE if n < 2 else []:
            body = {"result": "已清运"} if action is Action.HANDLE else {}
            with UnitOfWork(sessions) as uow:
                perform_action(uow, city, incident_id, action, ActionRequest(**body), actor="e2e-wall", now=now)
                uow.commit(now)
    engine.dispose()


@pytest.fixture
def wall(browser, live_server):
    """Open /wall signed in, in a fresh context of the given screen size (a 4K page renders slowly in a software
    browser: the waits are longer than open_page's)."""
    contexts = []

    def _open(width: int, height: int):
        context = browser.new_context(viewport={"width": width, "height": height}, locale="zh-CN")
        contexts.append(context)
        watched = Watched(context, live_server)
        watched.sign_in("/wall")
        watched.page.wait_for_selector(".gc-conn.gc-conn-on", timeout=45_000)  # Socket.IO connected
        return _ready(watched)

    yield _open
    for context in contexts:
        context.close()


def _ready(watched: Watched):
    page = watched.page
    page.wait_for_selector("#wall-s-on_time:has-text('/')", timeout=30_000)  # the first figures arrived
    page.wait_for_selector("#wall-hours .main-svg", timeout=30_000)
    page.wait_for_selector("#wall-channels .main-svg", timeout=30_000)
    page.wait_for_timeout(500)  # let the figures take their scaled fonts
    return watched, page


def _font_px(page, selector: str) -> float:
    return page.eval_on_selector(selector, "el => parseFloat(getComputedStyle(el).fontSize)")


def test_the_wall_is_legible_and_whole_at_1080p_and_4k(wall, seeded):
    sizes = {}
    for width, height in SCREENS:
        watched, page = wall(width, height)
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        assert page.evaluate("document.documentElement.scrollHeight") <= height
        assert page.evaluate(CLIPPED) == []
        assert page.inner_text("#wall-tile-on_time .gc-k-label") == "今日按期结案率"
        # this module closed two cases on time; other modules on the same server may have closed more today
        on_time, closed = (int(n) for n in page.inner_text("#wall-s-on_time").split("/"))
        assert closed >= 2 and on_time >= 2
        rate = page.inner_text("#wall-k-on_time")
        assert rate == f"{100 * on_time / closed:.1f}%"
        title = page.get_attribute("#wall-tile-on_time", "title")
        assert f"按期结案 {on_time} 件 / 结案 {closed} 件" in title
        # today's on-time closure sits right next to the open overdue count
        on_time = page.locator("#wall-tile-on_time").bounding_box()
        overdue = page.locator("#wall-tile-open_overdue").bounding_box()
        assert (
            abs(on_time["y"] - overdue["y"]) < 2 and 0 <= overdue["x"] - (on_time["x"] + on_time["width"]) < width / 50
        )
        for graph in ("#wall-hours", "#wall-days", "#wall-channels"):
            assert page.locator(f"{graph} .main-svg").first.is_visible()
        assert page.locator("#wall-hours .bars path").count() > 0  # today's bars are drawn
        sizes[width] = {
            "label": _font_px(page, "#wall-tile-on_time .gc-k-label"),
            "value": _font_px(page, "#wall-k-on_time"),
            "chart": page.eval_on_selector("#wall-hours .xtick text", "el => parseFloat(el.style.fontSize)"),
            "rank": _font_px(page, ".gc-wrank-row:not(.gc-wrank-head)"),
        }
        assert sizes[width]["label"] >= 16  # legible from 5 m on a 1920 px wide screen already
        assert not [e for e in watched.errors if "favicon" not in e]
    small, big = sizes[1920], sizes[3840]
    for key in small:
        assert big[key] >= 1.8 * small[key], (key, small[key], big[key])


def test_the_wall_fits_a_1366x768_screen(wall, seeded):
    _, page = wall(1366, 768)
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366
    assert page.evaluate(CLIPPED) == []
