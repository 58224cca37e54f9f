"""An officer's tracker, enrolled with `gridcommand devices add`, reports over the OsmAnd protocol and the marker
moves on every open command center."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import yaml
from shapely.geometry import shape

from tests.e2e.conftest import DEMO_ROSTER
from tests.e2e.test_command_center import api

pytestmark = pytest.mark.browser


def osmand(base: str, device: str, lon: float, lat: float, at: float) -> dict:
    url = f"{base}/osmand?id={device}&lat={lat}&lon={lon}&timestamp={int(at)}&accuracy=5&speed=2&bearing=90"
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def enrol(live_server, officer_id: str) -> str:
    """`gridcommand devices add OFFICER` against the server's database; the identifier it prints (once)."""
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "devices", "add", officer_id, "--url", str(live_server)],
        env=live_server.env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert f"{live_server}/osmand?id=" in done  # the OsmAnd URL to paste
    return next(line.split(": ")[1] for line in done.splitlines() if line.startswith("device identifier"))


def _marker_box(page, officer_id: str):
    return page.locator(f'.gc-off[data-officer="{officer_id}"]').bounding_box()


def test_an_osmand_fix_moves_the_officers_marker(open_page, live_server):
    officer = next(o for o in yaml.safe_load(DEMO_ROSTER.read_text(encoding="utf-8")) if o["on_duty"])
    grids = api(live_server, "GET", f"/api/v1/grids?level=community&parent={officer['grid_community'][:9]}")
    home = next(f for f in grids["features"] if f["properties"]["code"] == officer["grid_community"])
    start = shape(home["geometry"]).representative_point()
    tracker = enrol(live_server, officer["id"])
    now = time.time()
    deadline = time.monotonic() + 5  # a new tracker is known to every web process within seconds
    while True:
        try:
            assert osmand(live_server, tracker, start.x, start.y, now - 60)["accepted"] is True
            break
        except urllib.error.HTTPError as exc:
            if exc.code != 401 or time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    page = open_page("/").page
    locator = page.locator(f'.gc-off[data-officer="{officer["id"]}"]')
    locator.wait_for(state="visible", timeout=10_000)
    before = _marker_box(page, officer["id"])
    moved = osmand(live_server, tracker, start.x + 0.004, start.y, now)  # ~385 m east, a minute later
    assert moved["accepted"] is True, moved
    page.wait_for_function(
        """([id, x]) => { const el = document.querySelector(`.gc-off[data-officer="${id}"]`);
                          return el && el.getBoundingClientRect().x > x + 8; }""",
        arg=[officer["id"], before["x"]],
        timeout=5_000,
    )


def test_an_officers_sos_raises_the_alert_banner_and_the_banner_finds_him(open_page, live_server):
    officer = [o for o in yaml.safe_load(DEMO_ROSTER.read_text(encoding="utf-8")) if o["on_duty"]][1]
    grids = api(live_server, "GET", f"/api/v1/grids?level=community&parent={officer['grid_community'][:9]}")
    home = next(f for f in grids["features"] if f["properties"]["code"] == officer["grid_community"])
    spot = shape(home["geometry"]).representative_point()
    tracker = enrol(live_server, officer["id"])
    page = open_page("/").page
    page.wait_for_selector("#cc-queue", timeout=10_000)
    deadline = time.monotonic() + 5
    while True:  # the tracker is known to the web process within seconds
        try:
            url = f"{live_server}/osmand?id={tracker}&lat={spot.y}&lon={spot.x}&timestamp={int(time.time())}"
            with urllib.request.urlopen(url + "&accuracy=5&alarm=sos", timeout=10) as response:
                assert json.load(response)["accepted"] is True
            break
        except urllib.error.HTTPError as exc:
            if exc.code != 401 or time.monotonic() > deadline:
                raise
            time.sleep(0.3)
    page.wait_for_selector("#cc-alert.gc-alert-on.gc-alert-sos", timeout=5_000)
    text = page.inner_text("#cc-alert")
    assert "SOS" in text and "sos" in text
    page.click("#cc-alert .gc-alert-open")  # takes the map to him and clears the banner
    page.wait_for_function("!document.querySelector('#cc-alert.gc-alert-on')", timeout=5_000)
    page.wait_for_function(
        "id => { const el = document.querySelector(`.gc-off[data-officer='${id}']`); if (!el) return false;"
        " const r = el.getBoundingClientRect(), m = document.getElementById('cc-map').getBoundingClientRect();"
        " return r.x > m.x && r.x < m.right && r.y > m.y && r.y < m.bottom; }",
        arg=officer["id"],
        timeout=10_000,
    )
