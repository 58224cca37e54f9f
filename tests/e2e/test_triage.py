"""The triage page (/triage): a report outside every grid is listed with its reason; correcting its location on
the map and filing it (Ctrl+Enter) takes it out of the list."""

from __future__ import annotations

import pytest

from tests.e2e.test_command_center import api
from tests.e2e.test_hotline import click_map_centre

pytestmark = pytest.mark.browser


def test_outside_grid_report_is_corrected_on_the_map_and_filed(open_page, live_server):
    report = api(
        live_server,
        "POST",
        "/api/v1/incidents",
        {"description": "e2e 甄别：位置不在网格内的暴露垃圾", "category_code": "020101", "lon": 100.0, "lat": 40.0},
    )
    watched = open_page("/triage")
    page = watched.page
    row = page.locator(f'.gc-tr-row[data-id="{report["id"]}"]')
    row.wait_for(state="visible", timeout=10_000)
    assert row.get_attribute("data-reason") == "outside_grid"
    assert "不在网格内" in row.inner_text()

    row.click()
    page.wait_for_selector("#tr-reason", timeout=5000)
    assert "不在网格内" in page.inner_text("#tr-reason")
    click_map_centre(page, "tr-map")
    page.wait_for_selector("#tr-grid .gc-hl-path[data-unit]:not([data-unit=''])", timeout=5000)
    page.keyboard.press("Control+Enter")
    page.wait_for_selector("#tr-ok", timeout=5000)
    row.wait_for(state="detached", timeout=5000)
    saved = api(live_server, "GET", f"/api/v1/incidents/{report['id']}")
    assert saved["status"] == "filed" and saved["grid"]["unit"]
    assert watched.errors == []
