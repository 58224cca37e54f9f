"""The command center's live path outside Dash (assets/desk_live.js): a pushed incident is fetched from
/api/v1/feed by the browser itself and patched into the queue and the map, an officer's pushed position moves his
marker in Leaflet directly (the layer control still shows and hides officers and incidents), and the open case's
drawer refreshes when (and only when) its case changes, with no Dash callback carrying the changed cases."""

from __future__ import annotations

import json
import time

import pytest
import yaml
from shapely.geometry import Point, shape
from shapely.ops import unary_union

from tests.e2e.conftest import DEMO_ROSTER
from tests.e2e.test_command_center import LIVE_S, api, marker, queue_row, report
from tests.e2e.test_officers import enrol, osmand

pytestmark = pytest.mark.browser


def _dash_outputs(page) -> list[str]:
    """Collects the outputs of every Dash callback request the page makes from now on."""
    seen: list[str] = []

    def record(request):
        if "/_dash-update-component" in request.url and request.post_data:
            seen.append(json.loads(request.post_data).get("output", ""))

    page.on("request", record)
    return seen


def test_a_reported_case_arrives_through_the_feed_not_through_dash(open_page, live_server, community_points):
    watched = open_page("/")
    page = watched.page
    page.wait_for_selector("#cc-queue", timeout=10_000)
    outputs = _dash_outputs(page)
    before = len(watched.requests)
    incident = report(live_server, community_points[9], "e2e 实时通道：路面破损")
    started = time.monotonic()
    marker(page, incident["id"]).wait_for(state="visible", timeout=LIVE_S * 1000)
    queue_row(page, incident["id"]).wait_for(state="visible", timeout=LIVE_S * 1000)
    assert time.monotonic() - started <= LIVE_S + 0.5
    assert "e2e 实时通道" in queue_row(page, incident["id"]).inner_text()
    feeds = [u for u in watched.requests[before:] if "/api/v1/feed?after=" in u]
    assert feeds, watched.requests[before:]
    assert not [o for o in outputs if "cc-seq" in o or "cc-incidents" in o or "cc-open" in o], outputs
    # the counters follow without Dash too
    assert int(page.inner_text("#cc-open-n")) == page.evaluate("Object.keys(window.gc.desk.state.records).length")
    assert watched.errors == []


def test_the_open_case_refreshes_when_it_changes_and_only_then(open_page, live_server, community_points):
    mine = report(live_server, community_points[12], "e2e 抽屉刷新：井盖缺失")
    page = open_page("/").page
    queue_row(page, mine["id"]).wait_for(state="visible", timeout=5000)
    queue_row(page, mine["id"]).click()
    page.wait_for_selector(f'#cc-drawer[data-incident="{mine["id"]}"]', timeout=5000)
    outputs = _dash_outputs(page)
    other = report(live_server, community_points[13], "e2e 抽屉刷新：别的案件")
    page.wait_for_function("id => !!window.gc.desk.state.records[id]", arg=other["id"], timeout=5000)  # arrived
    time.sleep(0.5)
    assert not [o for o in outputs if "cc-drawer-body" in o], outputs  # an unrelated case: the drawer stays
    api(live_server, "POST", f"/api/v1/incidents/{mine['id']}/actions/file", {})  # someone else files it
    page.locator("#cc-drawer .gc-bs-filed").wait_for(state="visible", timeout=5000)
    assert [o for o in outputs if "cc-drawer-body" in o]


def _officer_with_room_to_move(live_server):
    """An on-duty officer (not those of tests/e2e/test_officers.py) and a point of his community from which ~385 m
    east is still inside his street (a position outside every grid reaches no seat's room)."""
    for officer in [o for o in yaml.safe_load(DEMO_ROSTER.read_text(encoding="utf-8")) if o["on_duty"]][2:]:
        street = officer["grid_community"][:9]
        grids = api(live_server, "GET", f"/api/v1/grids?level=community&parent={street}")
        home = next(f for f in grids["features"] if f["properties"]["code"] == officer["grid_community"])
        start = shape(home["geometry"]).representative_point()
        if unary_union([shape(f["geometry"]) for f in grids["features"]]).contains(Point(start.x + 0.004, start.y)):
            return officer, start
    raise AssertionError("no officer with room to move")


def test_a_pushed_position_moves_the_officer_in_leaflet_and_the_layer_control_hides_him_and_the_incidents(
    open_page, live_server
):
    officer, start = _officer_with_room_to_move(live_server)
    tracker = enrol(live_server, officer["id"])
    now = time.time()
    deadline = time.monotonic() + 5
    while True:  # the tracker is known to the web process within seconds
        try:
            assert osmand(live_server, tracker, start.x, start.y, now - 60)["accepted"] is True
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    watched = open_page("/")
    page = watched.page
    outputs = _dash_outputs(page)
    selector = f'.leaflet-gc-officers-pane .gc-off[data-officer="{officer["id"]}"]'
    page.wait_for_selector(selector, timeout=10_000)
    x = page.locator(selector).bounding_box()["x"]
    assert osmand(live_server, tracker, start.x + 0.004, start.y, now)["accepted"] is True  # ~385 m east
    page.wait_for_function(
        "([sel, x]) => { const el = document.querySelector(sel); return el && el.getBoundingClientRect().x > x + 8; }",
        arg=[selector, x],
        timeout=10_000,
    )
    assert page.locator(f'.gc-off[data-officer="{officer["id"]}"]').count() == 1  # moved, not drawn twice
    assert not [o for o in outputs if "officer" in o], outputs  # no Dash prop carried the positions
    control = page.locator(".leaflet-control-layers")
    control.hover()
    toggle = control.locator("label", has_text="执法队员").locator("input")
    toggle.uncheck()
    page.wait_for_function("() => document.querySelectorAll('.gc-off').length === 0", timeout=5000)
    toggle.check()
    page.wait_for_selector(selector, timeout=5000)
    # the incidents' entry the same way (their markers are drawn outside Dash too: assets/incidents.js)
    incident = report(live_server, (start.x, start.y), "e2e 图层：队员身旁的事件")
    marker(page, incident["id"]).wait_for(state="visible", timeout=5000)
    incidents = control.locator("label", has_text="事件").locator("input")
    incidents.uncheck()
    page.wait_for_function("() => document.querySelectorAll('.gc-inc').length === 0", timeout=5000)
    incidents.check()
    marker(page, incident["id"]).wait_for(state="visible", timeout=5000)
    assert watched.errors == []
