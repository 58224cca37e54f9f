"""A typed address places a hotline call with no mouse: a call-taker signs in with the keyboard, lands on the
console, takes a whole call (number, category, an address typed with a homophone typo and picked with Enter,
description, Ctrl+Enter) without one mouse event, and the saved case lies where the gazetteer puts that house,
in that grid, with its case number shown."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from geo.gazetteer import Gazetteer, load_addresses
from geo.grids import GridIndex
from geo.importer import load_grids
from tests.conftest import DEMO_GRIDS
from tests.e2e.conftest import E2E_ACCOUNTS, E2E_PASSWORD
from tests.e2e.test_command_center import api

pytestmark = pytest.mark.browser
PHONE = "13912340077"
TYPED, PLACE = "青河路120号3幢", "清河路120号"  # 青 for 清: the caller said "qing"

# Every trusted (real) mouse or pointer event the page sees; a script's element.click() is not one.
COUNT_MOUSE = """(() => {
  window.__gcMouse = 0;
  for (const kind of ["mousedown", "mouseup", "click", "pointerdown", "pointerup", "dblclick", "contextmenu"]) {
    document.addEventListener(kind, (e) => { if (e.isTrusted) window.__gcMouse += 1; }, true);
  }
})();"""


def tab_to(page, element_id: str, most: int = 12) -> None:
    """Press Tab until the element has the focus (as a call-taker moves through the form)."""
    for _ in range(most):
        if page.evaluate("document.activeElement && document.activeElement.id") == element_id:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached #{element_id}")


def expected_place() -> tuple[float, float]:
    addresses = load_addresses(DEMO_GRIDS.parent / "addresses.geojson")
    best = Gazetteer(addresses).match(PLACE)[0]
    assert best.label == PLACE
    return best.lon, best.lat


def test_a_typed_address_places_a_hotline_call_with_no_mouse(browser, live_server):
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    context.add_init_script(COUNT_MOUSE)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(live_server + "/login")
        page.focus("#username")
        page.keyboard.type(E2E_ACCOUNTS["hotline"]["username"])
        page.keyboard.press("Tab")
        page.keyboard.type(E2E_PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url("**/hotline*", timeout=10_000)  # call-takers land on their console

        phone = page.locator("#hl-phone")
        expect(phone).to_be_focused(timeout=10_000)
        page.keyboard.type(PHONE)
        page.keyboard.press("Enter")
        page.wait_for_selector("#hl-new-caller", timeout=5000)

        tab_to(page, "hl-category")
        page.keyboard.press("Enter")  # open the searchable list
        expect(page.locator(".dash-dropdown-search").last).to_be_focused(timeout=5000)
        page.keyboard.type("020101")
        expect(page.locator(".dash-dropdown-option").first).to_contain_text("020101", timeout=5000)  # searched
        page.keyboard.press("ArrowDown")  # from the search field to the first option
        page.keyboard.press("Enter")
        expect(page.locator("#hl-category")).to_contain_text("020101", timeout=5000)

        tab_to(page, "hl-address")
        page.keyboard.type(TYPED)
        first = page.locator("#hl-addr-list .gc-hl-addr-item").first
        expect(first).to_have_attribute("data-label", PLACE, timeout=3000)
        expect(first).to_contain_text("›")  # its grid path
        page.keyboard.press("Enter")
        page.wait_for_selector("#hl-addr-placed", timeout=5000)
        page.wait_for_selector(".gc-hl-path[data-unit]:not([data-unit=''])", timeout=5000)
        assert "网格长" in page.inner_text("#hl-grid")
        expect(page.locator("#hl-desc")).to_be_focused(timeout=2000)  # the description is next

        page.keyboard.type("e2e 无鼠标受理：楼下垃圾桶满溢")
        page.keyboard.press("Control+Enter")
        new = page.locator("#hl-new-id")
        new_id = new.get_attribute("data-id", timeout=5000)
        shown = new.inner_text()

        saved = api(live_server, "GET", f"/api/v1/incidents/{new_id}")
        lon, lat = expected_place()
        assert (saved["location"]["lon"], saved["location"]["lat"]) == pytest.approx((lon, lat), abs=1e-7)
        grids = GridIndex(load_grids(DEMO_GRIDS))
        assert saved["grid"]["unit"] == grids.locate(lon, lat).unit
        assert shown == saved["case_number"] and "-" in shown  # the number read to the caller
        assert saved["address"].startswith(PLACE) and saved["category_code"] == "020101"
        assert page.evaluate("window.__gcMouse") == 0
        assert errors == []
    finally:
        context.close()
