"""The loop after dispatch in real browsers, each person in their own context, every step live (no reload):
the dispatcher dispatches to HW, the HW handler sees it in 待办 and claims it (it leaves the colleague's 待办),
uploads a before and an after photo and feeds back, the grid worker verifies, the dispatcher records the callback
the caller asked for, the shift leader closes — and the dispatcher's drawer follows every status change."""

from __future__ import annotations

import io
import json
import time

import pytest
from PIL import Image
from shapely.geometry import shape

from tests.conftest import DEMO_GRIDS
from tests.e2e.conftest import Watched
from tests.e2e.test_command_center import api

pytestmark = pytest.mark.browser
LIVE_MS = 2000  # a dispatched case shows in the handler's 待办 within this, without reload
STEP_MS = 8000  # a step's own round trip (callback, engine, relay, push)
COMMUNITY = "330199001001"


def _point() -> tuple[float, float]:
    features = json.loads(DEMO_GRIDS.read_text(encoding="utf-8"))["features"]
    unit = next(f for f in features if f["properties"].get("parent") == COMMUNITY)
    p = shape(unit["geometry"]).representative_point()
    return p.x, p.y


def _jpeg(colour: str) -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return {"name": f"{colour}.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def person(browser, base: str, account: str) -> Watched:
    context = browser.new_context(viewport={"width": 1500, "height": 950}, locale="zh-CN")
    watched = Watched(context, base)
    watched.sign_in("/work", account)
    try:
        watched.page.wait_for_selector(".gc-conn.gc-conn-on", timeout=15_000)
    except Exception:
        raise AssertionError(f"{account} at {watched.page.url}: {watched.errors}") from None
    return watched


def row(page, incident_id: str):
    return page.locator(f'.gc-wrow[data-id="{incident_id}"]')


def button(page, action: str):
    return page.locator(f"#cc-drawer-actions button[id*='\"action\":\"{action}\"'][id*='cc-act']")


def field(page, action: str, name: str):
    return page.locator(f'#cc-drawer-actions [id*=\'"action":"{action}"\'][id*=\'"field":"{name}"\']')


def press(page, action: str, label: str) -> None:
    """Press an action's button and wait for the toast saying it is done."""
    button(page, action).click()
    page.locator("#cc-toast .gc-toast-ok", has_text=f"已完成：{label}").wait_for(timeout=STEP_MS)


def badge(page):
    return page.locator("#cc-drawer-body .gc-d-head .gc-badge")


def test_dispatch_claim_feedback_verify_callback_close_across_three_desks(browser, live_server):
    started = time.monotonic()
    lon, lat = _point()
    case = api(
        live_server,
        "POST",
        "/api/v1/incidents",
        {
            "description": "e2e 闭环：垃圾桶满溢，来电人要求回访",
            "category_code": "020101",
            "lon": lon,
            "lat": lat,
            "address": "望江路 18 号",
            "channel": "hotline",
            "call_nature": "callback",
            "reporter_phone": "13800001111",
        },
    )
    filed = api(live_server, "POST", f"/api/v1/incidents/{case['id']}/actions/file", {})
    assert filed["department_code"] == "HW", filed["department_code"]
    case_id = case["id"]

    desk = person(browser, live_server, "dispatcher")
    dispatcher = desk.page
    handler = person(browser, live_server, "hw-handler").page
    colleague = person(browser, live_server, "hw-handler2").page
    grid = person(browser, live_server, "gridworker").page
    for page in (handler, colleague, grid):
        assert "/work" in page.url  # their landing page after sign-in
        assert row(page, case_id).count() == 0

    # the dispatcher opens the filed case from 待办 and dispatches it to HW (the routed department)
    row(dispatcher, case_id).click()
    badge(dispatcher).filter(has_text="已立案").wait_for(timeout=STEP_MS)
    press(dispatcher, "dispatch", "派遣")
    shown = time.monotonic()
    row(handler, case_id).wait_for(state="visible", timeout=LIVE_MS)  # live: no reload
    row(colleague, case_id).wait_for(state="visible", timeout=LIVE_MS)
    assert time.monotonic() - shown <= LIVE_MS / 1000 + 0.5
    badge(dispatcher).filter(has_text="已派遣").wait_for(timeout=STEP_MS)

    # the handler claims; it leaves the colleague's 待办
    row(handler, case_id).click()
    press(handler, "claim", "签收")
    row(colleague, case_id).wait_for(state="detached", timeout=STEP_MS)
    badge(dispatcher).filter(has_text="处置中").wait_for(timeout=STEP_MS)

    # before and after photos, then the feedback
    items = handler.locator("#cc-drawer-body .gc-ev-item")
    handler.locator("#cc-ev-before input[type=file]").set_input_files(_jpeg("grey"))
    items.nth(0).wait_for(timeout=STEP_MS)
    handler.locator("#cc-ev-after input[type=file]").set_input_files(_jpeg("green"))
    items.nth(1).wait_for(timeout=STEP_MS)
    field(handler, "handle", "result").fill("已清运满溢垃圾并冲洗地面")
    press(handler, "handle", "反馈")
    badge(dispatcher).filter(has_text="已反馈").wait_for(timeout=STEP_MS)

    # the grid worker of the community sees it in 待办 and verifies
    row(grid, case_id).wait_for(state="visible", timeout=STEP_MS)
    row(grid, case_id).click()
    field(grid, "verify", "note").fill("现场已清理干净")
    press(grid, "verify", "核查通过")
    badge(dispatcher).filter(has_text="核查通过").wait_for(timeout=STEP_MS)
    facts = dispatcher.locator("#cc-drawer-body .gc-facts")
    facts.filter(has_text="需回访（来电人要求）").wait_for(timeout=STEP_MS)  # the caller asked for a callback

    # the dispatcher records the callback in the drawer that followed every step
    field(dispatcher, "callback", "reached").locator("input[value=yes]").check()
    field(dispatcher, "callback", "satisfied").locator("input[value=yes]").check()
    press(dispatcher, "callback", "回访")
    facts.filter(has_text="满意").wait_for(timeout=STEP_MS)

    # the shift leader closes; the dispatcher sees it at once
    api(live_server, "POST", f"/api/v1/incidents/{case_id}/actions/close", {"note": "回访满意，结案"})
    badge(dispatcher).filter(has_text="已结案").wait_for(timeout=STEP_MS)
    assert time.monotonic() - started < 60
    assert [e for e in desk.errors if "nonexistent object" in e] == []  # the shared drawer ids fit this page
