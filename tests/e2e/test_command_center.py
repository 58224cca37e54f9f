"""What an operator sees in the command center: a clean offline load, live incidents, shared dispatch, catch-up."""

from __future__ import annotations

import json
import time
import urllib.request
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser
LIVE_S = 2.0  # an incident must show up without reload within this


def api(base, method: str, path: str, body: dict | None = None) -> dict:
    """One API call as the e2e shift leader (bearer token of the live server)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        base + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {base.token}"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def report(base: str, point: tuple[float, float], description: str) -> dict:
    lon, lat = point
    return api(
        base,
        "POST",
        "/api/v1/incidents",
        {"description": description, "category_code": "020101", "lon": lon, "lat": lat},
    )


def marker(page, incident_id: str):
    return page.locator(f'.gc-inc[data-id="{incident_id}"]')


def queue_row(page, incident_id: str):
    return page.locator(f'.gc-qrow[data-id="{incident_id}"]')


def test_page_loads_with_grids_no_console_errors_and_only_local_requests(open_page):
    watched = open_page("/")
    page = watched.page
    page.wait_for_function(
        "document.querySelectorAll('.leaflet-overlay-pane canvas, .leaflet-overlay-pane path').length > 0"
    )
    grid_fetches = [urlparse(u) for u in watched.requests if "/map/grids/" in u]
    # once each (preloaded with the page, then taken from the cache by the map), named by the grid version
    assert sorted(u.path for u in grid_fetches) == ["/map/grids/community.geojson", "/map/grids/street.geojson"]
    assert all(u.query.startswith("v=") for u in grid_fetches)
    assert [u for u in watched.requests if urlparse(u).path == "/api/v1/feed"]  # the open cases: fetched, not inlined
    page.wait_for_selector("#cc-tab-new", timeout=5000)
    assert "网格指挥" in page.inner_text("header") and "GridCommand" in page.title()
    time.sleep(1.0)
    assert watched.errors == []
    hosts = {urlparse(u).hostname for u in watched.requests if urlparse(u).scheme in ("http", "https", "ws", "wss")}
    assert hosts == {"127.0.0.1"}, f"non-local requests: {hosts}"


def test_reported_incident_appears_on_map_and_in_queue_without_reload(open_page, live_server, community_points):
    page = open_page("/").page
    incident = report(live_server, community_points[3], "e2e 实时上报：人行道暴露垃圾")
    started = time.monotonic()
    marker(page, incident["id"]).wait_for(state="visible", timeout=LIVE_S * 1000)
    queue_row(page, incident["id"]).wait_for(state="visible", timeout=LIVE_S * 1000)
    assert time.monotonic() - started <= LIVE_S + 0.5
    assert "e2e 实时上报" in queue_row(page, incident["id"]).inner_text()


def test_dispatch_in_one_page_shows_in_another(open_page, live_server, community_points):
    incident = report(live_server, community_points[17], "e2e 派遣：占道经营")
    api(live_server, "POST", f"/api/v1/incidents/{incident['id']}/actions/file", {})
    operator, watcher = open_page("/").page, open_page("/").page
    for page in (operator, watcher):
        page.click("#cc-tab-dispatch")
        queue_row(page, incident["id"]).wait_for(state="visible", timeout=5000)
    queue_row(operator, incident["id"]).click()
    operator.locator(".gc-dispatch button.gc-btn-primary").first.click()
    operator.locator(".gc-drawer .gc-bs-dispatched").wait_for(state="visible", timeout=5000)
    watcher.locator(f'.gc-inc.gc-s-dispatched[data-id="{incident["id"]}"]').wait_for(state="visible", timeout=3000)
    queue_row(watcher, incident["id"]).wait_for(state="detached", timeout=3000)
    assert api(live_server, "GET", f"/api/v1/incidents/{incident['id']}")["status"] == "dispatched"


def test_view_catches_up_after_the_socket_is_cut_and_restored(open_page, live_server, community_points):
    watched = open_page("/")
    page = watched.page
    watched.context.set_offline(True)
    page.evaluate("(window.__gcSockets || []).forEach(ws => ws.close())")
    page.wait_for_selector(".gc-conn.gc-conn-off", timeout=15_000)
    missed = [report(live_server, community_points[i], f"e2e 断线期间上报 {i}") for i in (30, 41)]
    time.sleep(1.5)  # the pushes for these are emitted while the browser is cut off
    for incident in missed:
        assert marker(page, incident["id"]).count() == 0
    watched.context.set_offline(False)
    page.wait_for_selector(".gc-conn.gc-conn-on", timeout=15_000)
    for incident in missed:
        marker(page, incident["id"]).wait_for(state="visible", timeout=5000)
        queue_row(page, incident["id"]).wait_for(state="visible", timeout=5000)
        assert queue_row(page, incident["id"]).count() == 1  # applied once
