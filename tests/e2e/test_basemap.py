"""The offline base map as an operator sees it: streets, water and labels under the grids, a layer control, a legend."""

from __future__ import annotations

import os
import time
import urllib.error
from urllib.parse import urlparse

import pytest
import yaml
from shapely.geometry import shape

from tests.e2e.conftest import DEMO_ROSTER
from tests.e2e.test_command_center import api, report
from tests.e2e.test_officers import enrol, osmand

pytestmark = pytest.mark.browser
SHOTS = os.environ.get("GRIDCOMMAND_E2E_SHOTS")  # a folder: save screenshots there to look at


def _shot(page, name: str) -> None:
    if SHOTS:
        page.screenshot(path=os.path.join(SHOTS, f"{name}.png"))


def _until(page, script: str, timeout: float = 5.0) -> None:
    """Poll a JavaScript expression until it is true (wait_for_function would need 'unsafe-eval', which the CSP
    refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script):
        assert time.monotonic() < deadline, f"still false after {timeout} s: {script}"
        time.sleep(0.1)


def _wait_base(page) -> None:
    page.wait_for_selector(".gc-bm-lbl-arterial", state="attached", timeout=15_000)


def test_command_center_draws_the_offline_base_map_with_labels_and_only_local_requests(open_page):
    watched = open_page("/")
    page = watched.page
    _wait_base(page)
    # roads and water are drawn in their own pane, under the grid outlines
    assert page.locator(".leaflet-gc-bm-pane canvas").count() == 1
    z = page.evaluate(
        "[getComputedStyle(document.querySelector('.leaflet-gc-bm-pane')).zIndex,"
        " getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex]"
    )
    assert int(z[0]) < int(z[1])
    # labels at the opening zoom: the arterial roads and the river, in Chinese; lanes only when zoomed in
    shown = page.eval_on_selector_all(
        ".gc-bm-lbl", "els => els.filter(e => getComputedStyle(e).display !== 'none').map(e => e.textContent)"
    )
    assert "云河" in shown
    assert any(s.endswith("大道") for s in shown)
    assert not any(s.endswith("巷") for s in shown)
    _shot(page, "basemap-zh-z13")
    # zoom in: lane names and landmark symbols appear
    for _ in range(3):
        page.locator(".leaflet-control-zoom-in").click()
        time.sleep(0.4)
    _until(
        page,
        "Array.from(document.querySelectorAll('.gc-bm-lbl-lane, .gc-bm-lm-wrap'))"
        ".some(e => getComputedStyle(e).display !== 'none')",
    )
    _shot(page, "basemap-zh-z16")
    base_fetches = [u for u in watched.requests if urlparse(u).path == "/map/base.geojson"]
    assert len(base_fetches) == 1  # fetched once, not per zoom
    time.sleep(0.5)
    assert watched.errors == []
    hosts = {urlparse(u).hostname for u in watched.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, f"non-local requests: {hosts}"


def test_labels_follow_the_language(open_page):
    page = open_page("/?lang=en").page
    _wait_base(page)
    labels = page.eval_on_selector_all(".gc-bm-lbl-arterial", "els => els.map(e => e.textContent)")
    assert labels and all(s.endswith(("Avenue", "Road")) for s in labels), labels
    assert page.locator(".gc-bm-lbl-water", has_text="Yun River").count() == 1
    assert "Legend" in page.inner_text("#cc-legend")


def _officer_on_the_map(live_server) -> tuple[str, tuple[float, float]]:
    """An on-duty officer of the demo roster with a tracker that reported where they are: (id, (lon, lat))."""
    officer = [o for o in yaml.safe_load(DEMO_ROSTER.read_text(encoding="utf-8")) if o["on_duty"]][1]
    grids = api(live_server, "GET", f"/api/v1/grids?level=community&parent={officer['grid_community'][:9]}")
    home = next(f for f in grids["features"] if f["properties"]["code"] == officer["grid_community"])
    spot = shape(home["geometry"]).representative_point()
    tracker = enrol(live_server, officer["id"])
    deadline = time.monotonic() + 5  # a new tracker is known to every web process within seconds
    while True:
        try:
            assert osmand(live_server, tracker, spot.x, spot.y, time.time() - 5)["accepted"] is True
            return officer["id"], (spot.x, spot.y)
        except urllib.error.HTTPError as exc:
            if exc.code != 401 or time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_layer_control_hides_and_shows_officers_and_the_legend_explains_every_symbol(open_page, live_server):
    officer_id, spot = _officer_on_the_map(live_server)
    incident = report(live_server, spot, "e2e 底图：队员身旁的事件")  # right under the officer
    page = open_page("/").page
    _wait_base(page)
    page.wait_for_selector(f'.gc-off[data-officer="{officer_id}"]', timeout=15_000)
    # officers sit in a pane under the incident markers: an officer never covers an incident
    z = page.evaluate(
        "[getComputedStyle(document.querySelector('.leaflet-gc-officers-pane')).zIndex,"
        " getComputedStyle(document.querySelector('.leaflet-marker-pane')).zIndex]"
    )
    assert int(z[0]) < int(z[1])
    assert page.locator(".leaflet-gc-officers-pane .gc-off").count() > 0
    page.wait_for_selector(f'.gc-inc[data-id="{incident["id"]}"]', timeout=20_000)  # a loaded runner
    box = page.locator(f'.gc-inc[data-id="{incident["id"]}"]').bounding_box()
    on_top = page.evaluate(
        "([x, y]) => { const el = document.elementFromPoint(x, y); return el && el.closest('.gc-inc') ? "
        "el.closest('.gc-inc').dataset.id : (el && el.className) || null; }",
        [box["x"] + box["width"] / 2, box["y"] + box["height"] / 2],
    )
    assert on_top == incident["id"]
    control = page.locator(".leaflet-control-layers")
    control.hover()
    names = control.locator("label").all_inner_texts()
    for name in ("城市底图", "无底图", "街道边界", "社区", "单元网格", "事件", "执法队员"):
        assert any(n.strip() == name for n in names), (name, names)
    officers = control.locator("label", has_text="执法队员").locator("input")
    officers.uncheck()
    _until(page, "document.querySelectorAll('.gc-off').length === 0")
    officers.check()
    page.wait_for_selector(f'.gc-off[data-officer="{officer_id}"]', timeout=5000)
    # the base map off and on again
    control.locator("label", has_text="无底图").locator("input").check()
    _until(page, "document.querySelectorAll('.gc-bm-lbl').length === 0")
    control.locator("label", has_text="城市底图").locator("input").check()
    _wait_base(page)
    page.click("#cc-legend summary")  # folded until asked for
    legend = page.inner_text("#cc-legend")
    for text in (
        "已受理",
        "特急",
        "已超时",
        "聚合",
        "在岗",
        "离线",
        "行进方向",
        "街道边界",
        "社区在办量",
        "河流",
        "主干道",
        "医院",
        "学校",
        "车站",
        "农贸市场",
    ):
        assert text in legend, text
    _shot(page, "basemap-legend")


@pytest.mark.parametrize("path", ["/wall", "/hotline", "/triage"])
def test_every_map_stands_on_the_base_map(open_page, path):
    watched = open_page(path)
    _wait_base(watched.page)
    assert watched.page.locator(".leaflet-gc-bm-pane canvas").count() == 1
    _shot(watched.page, "basemap" + path.replace("/", "-"))
    time.sleep(0.5)
    assert watched.errors == []
