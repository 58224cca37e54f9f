"""A call-taker at the hotline console (/hotline): the caller's history by number, category search, a map click
showing the grid path, Ctrl+Enter saving, and the new case on the command center within 2 s."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e.test_command_center import (
    LIVE_S,
    api,
    marker,
    queue_row,
)

pytestmark = pytest.mark.browser
PHONE = "13912340001"


def pick_category(page, prefix: str, needle: str, code: str) -> None:
    """Open the searchable category dropdown, type `needle`, choose the option of `code`."""
    page.click(f"#{prefix}-category")
    search = page.locator(".dash-dropdown-search").last
    search.wait_for(state="visible", timeout=5000)
    search.fill(needle)
    option = page.locator(".dash-dropdown-option", has_text=code).first
    option.wait_for(state="visible", timeout=5000)
    option.click()
    page.keyboard.press("Escape")


def click_map_centre(page, map_id: str) -> None:
    """Click the middle of the map (the city's centre: inside a grid)."""
    box = page.locator(f"#{map_id}").bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_hotline_call_is_saved_with_ctrl_enter_and_shows_on_the_command_center(
    open_page, live_server, community_points
):
    lon, lat = community_points[5]
    earlier = api(
        live_server,
        "POST",
        "/api/v1/incidents",
        {
            "description": "e2e 早先来电：小区门口垃圾堆积",
            "category_code": "020101",
            "lon": lon,
            "lat": lat,
            "reporter_phone": PHONE,
            "reporter_name": "赵先生",
        },
    )
    watcher = open_page("/").page  # a second operator at the command center
    watched = open_page("/hotline")
    page = watched.page
    page.wait_for_selector("#hl-phone", timeout=10_000)
    assert "热线受理" in page.inner_text("header")
    expect(page.locator("#hl-phone")).to_be_focused(timeout=5000)

    page.keyboard.type(PHONE)  # the 11th digit looks the caller up
    page.locator(f'.gc-hl-hrow[data-id="{earlier["id"]}"]').wait_for(state="visible", timeout=5000)
    assert "e2e 早先来电" in page.inner_text("#hl-history")
    assert page.input_value("#hl-caller-name") == "赵先生" and page.input_value("#hl-cb-phone") == PHONE

    page.click("#hl-nature label:has-text('需要回访')")
    pick_category(page, "hl", "暴露垃圾", "020101")
    click_map_centre(page, "hl-map")
    page.wait_for_selector(".gc-hl-path[data-unit]:not([data-unit=''])", timeout=5000)
    assert "网格长" in page.inner_text("#hl-grid")

    page.click("#hl-desc")
    page.keyboard.press("Alt+1")  # the first phrase of the category
    expect(page.locator("#hl-desc")).not_to_have_value("", timeout=5000)
    page.keyboard.type("e2e 热线受理：路边暴露垃圾")
    page.keyboard.press("Control+Enter")
    new_id = page.locator("#hl-new-id").get_attribute("data-id", timeout=5000)
    started = time.monotonic()
    assert new_id and new_id != earlier["id"]
    expect(page.locator("#hl-desc")).to_have_value("", timeout=5000)  # ready for the next call
    assert page.input_value("#hl-phone") == ""
    expect(page.locator("#hl-phone")).to_be_focused(timeout=5000)

    queue_row(watcher, new_id).wait_for(state="visible", timeout=LIVE_S * 1000)
    marker(watcher, new_id).wait_for(state="visible", timeout=LIVE_S * 1000)
    assert time.monotonic() - started <= LIVE_S + 0.5
    saved = api(live_server, "GET", f"/api/v1/incidents/{new_id}")
    assert saved["channel"] == "hotline" and saved["category_code"] == "020101" and saved["grid"]["unit"]
    assert saved.get("call_nature", "callback") == "callback"
    assert "e2e 热线受理" in saved["description"]
    assert watched.errors == []


def test_new_caller_clear_and_english_toggle(open_page):
    watched = open_page("/hotline")
    page = watched.page
    page.wait_for_selector("#hl-phone", timeout=10_000)
    page.fill("#hl-phone", "13700009999")
    page.press("#hl-phone", "Enter")
    page.wait_for_selector("#hl-new-caller", timeout=5000)
    assert "新来电人" in page.inner_text("#hl-history")
    page.fill("#hl-desc", "e2e 清空：不保存的来电")
    page.click("#hl-clear")  # 清空: nothing is saved, the form is ready for the next call
    expect(page.locator("#hl-desc")).to_have_value("", timeout=5000)
    assert page.input_value("#hl-phone") == "" and page.locator("#hl-new-caller").count() == 0
    assert page.locator("#hl-new-id").count() == 0
    page.click("#hl-lang")
    expect(page.locator("header")).to_contain_text("Hotline", timeout=5000)
    assert "Caller's number" in page.inner_text(".gc-hl-caller")
    assert watched.errors == []
