"""The field app (/m) on an emulated phone (Chromium, 360×800, touch, geolocation): a grid worker signs in, reports
a problem with a photo while offline, goes online and the case exists exactly once, with its photo; a department
handler claims a dispatched case and feeds back with before/after photos, and the grid worker verifies it with a
photo, each from their own phone."""

from __future__ import annotations

import time
import urllib.parse

import pytest

from tests.e2e.conftest import E2E_ACCOUNTS, E2E_PASSWORD
from tests.e2e.test_command_center import api
from tests.e2e.test_loop import COMMUNITY, _jpeg, _point

pytestmark = pytest.mark.browser
STEP_MS = 10_000
SENT_S = 2.0  # back online: the queued report is a case on the command center within this
LIVE_MS = 3000  # a dispatched case shows in the handler's 待办 within this, without reload
VIBRATIONS = "window.__vibrations = []; navigator.vibrate = p => { window.__vibrations.push(p); return true; };"


def phone(browser, base: str, account: str):
    """A phone-sized touch context at the case's place, signed in on /m as `account`; (context, page)."""
    lon, lat = _point()
    context = browser.new_context(
        viewport={"width": 360, "height": 800},
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        geolocation={"longitude": lon, "latitude": lat, "accuracy": 8},
        permissions=["geolocation"],
    )
    context.add_init_script(VIBRATIONS)
    page = context.new_page()
    page.goto(base + "/m")
    page.fill("#m-username", E2E_ACCOUNTS[account]["username"])
    page.fill("#m-password", E2E_PASSWORD)
    page.click("#m-login-submit")
    page.locator("#m-tabs").wait_for(state="visible", timeout=STEP_MS)
    page.locator("#m-net.m-live").wait_for(timeout=STEP_MS)  # Socket.IO connected
    return context, page


def cases_described(base, text: str) -> list[dict]:
    query = urllib.parse.urlencode({"grid": COMMUNITY, "page_size": 200})  # newest first
    items = api(base, "GET", f"/api/v1/incidents?{query}")["items"]
    return [i for i in items if i["description"] == text]


def test_a_report_made_offline_is_sent_once_when_the_phone_is_back_online(browser, live_server, open_page):
    desk = open_page("/").page  # a seat operator's command center, open while the phone is offline
    desk.wait_for_selector("#cc-queue", timeout=STEP_MS)
    context, page = phone(browser, live_server, "gridworker")
    try:
        assert page.locator("#m-tabs [data-tab=report]").inner_text() == "上报"
        page.tap("#m-tabs [data-tab=report]")
        page.locator("#m-pos").filter(has_text="精度 ±8 米").wait_for(timeout=STEP_MS)  # the phone's GPS
        page.fill("#m-cat-search", "020101")
        page.tap("#m-cat-results li[data-code='020101']")
        text = f"e2e 离线上报 {time.time_ns()}"
        page.fill("#m-description", text)
        page.set_input_files("#m-photo", _jpeg("orange"))

        context.set_offline(True)
        page.tap("#m-report-submit")
        page.locator("#m-toast").filter(has_text="已存入待发送").wait_for(timeout=STEP_MS)
        page.tap("#m-tabs [data-tab=queue]")
        page.locator("#m-queue-list li[data-status=waiting]").wait_for(timeout=STEP_MS)
        assert cases_described(live_server, text) == []

        context.set_offline(False)
        back = time.monotonic()
        page.locator("#m-queue-list li[data-status=sent]").wait_for(timeout=STEP_MS)
        desk.locator("#cc-queue .gc-qrow", has_text=text).wait_for(state="visible", timeout=STEP_MS)
        assert time.monotonic() - back <= SENT_S + 0.5, "the case reached the command center too late"
        assert desk.locator("#cc-queue .gc-qrow", has_text=text).count() == 1
        page.evaluate("() => window.dispatchEvent(new Event('online'))")  # a second flush sends nothing again
        page.wait_for_timeout(500)
        assert desk.locator("#cc-queue .gc-qrow", has_text=text).count() == 1  # still one row: no second case
        found = cases_described(live_server, text)
        assert len(found) == 1 and found[0]["channel"] == "grid_worker"
        media = api(live_server, "GET", f"/api/v1/incidents/{found[0]['id']}/media")["items"]
        assert [m["kind"] for m in media] == ["photo"]
    finally:
        context.close()


def test_a_handler_claims_and_feeds_back_and_the_grid_worker_verifies_from_their_phones(browser, live_server):
    lon, lat = _point()
    context, page = phone(browser, live_server, "hw-handler")  # signed in before the case exists: it arrives live
    page.locator("#m-task-list li").first.wait_for(timeout=STEP_MS)  # the boxes' first reading, before the case
    text = f"e2e 手机处置 {time.time_ns()}"
    case = api(
        live_server,
        "POST",
        "/api/v1/incidents",
        {"description": text, "category_code": "020101", "lon": lon, "lat": lat},
    )
    api(live_server, "POST", f"/api/v1/incidents/{case['id']}/actions/file", {})
    api(live_server, "POST", f"/api/v1/incidents/{case['id']}/actions/dispatch", {"department": "HW"})
    try:
        task = page.locator(f"#m-task-list li[data-id='{case['id']}']")
        task.wait_for(timeout=LIVE_MS)  # pushed over Socket.IO, no reload
        assert page.evaluate("window.__vibrations.length") >= 1  # a new task vibrates the phone
        task.tap()
        page.locator("#m-task-map .m-pin").wait_for(timeout=STEP_MS)  # the task's place on the offline map
        page.tap("#m-detail [data-action=claim]")
        page.locator("#m-toast").filter(has_text="已完成：签收").wait_for(timeout=STEP_MS)
        page.tap("#m-detail [data-action=handle]")
        form = page.locator("form[data-form=handle]")
        form.locator("textarea[name=result]").fill("已清运并冲洗地面")
        form.locator("input[name=before]").set_input_files(_jpeg("grey"))
        form.locator("input[name=after]").set_input_files(_jpeg("green"))
        form.locator("button[type=submit]").tap()
        page.locator("#m-toast").filter(has_text="已完成：反馈").wait_for(timeout=STEP_MS)
        page.locator("#m-detail .m-thumbs img").nth(1).wait_for(timeout=STEP_MS)
        done = api(live_server, "GET", f"/api/v1/incidents/{case['id']}")
        assert done["status"] == "handled"
        media = api(live_server, "GET", f"/api/v1/incidents/{case['id']}/media")["items"]
        assert sorted(m["kind"] for m in media) == ["after", "before"]
    finally:
        context.close()

    context, page = phone(browser, live_server, "gridworker")  # the community's grid worker verifies on site
    try:
        page.locator(f"#m-task-list li[data-id='{case['id']}']").tap(timeout=STEP_MS)
        page.tap("#m-detail [data-action=verify]")
        form = page.locator("form[data-form=verify]")
        form.locator("input[name=photo]").set_input_files(_jpeg("blue"))
        form.locator("button[type=submit]").tap()
        page.locator("#m-toast").filter(has_text="已完成：核查通过").wait_for(timeout=STEP_MS)
        assert api(live_server, "GET", f"/api/v1/incidents/{case['id']}")["status"] == "verified"
    finally:
        context.close()


def _link(live_server, account: str, officer_id: str) -> None:
    """Link an e2e account to a roster officer in the server's database (as `gridcommand accounts link` does)."""
    from datetime import UTC, datetime

    from dispatcher.access.roster import find
    from dispatcher.fleet.officers import link_account
    from dispatcher.store.db import make_engine, make_sessions

    engine = make_engine(live_server.env["DATABASE_URL"])
    with make_sessions(engine).begin() as session:
        username = E2E_ACCOUNTS[account]["username"]
        link_account(session, find(session, username), officer_id, actor="e2e", now=datetime.now(UTC))
    engine.dispose()


def test_a_grid_worker_patrols_reports_on_the_way_and_the_shift_leader_sees_the_patrol(browser, live_server):
    _link(live_server, "gridworker", "GW0010011")
    context, page = phone(browser, live_server, "gridworker")
    try:
        page.tap("#m-tabs [data-tab=me]")
        page.locator("#m-patrol-toggle").filter(has_text="开始巡查").tap(timeout=STEP_MS)
        page.locator("#m-patrol-toggle").filter(has_text="结束巡查").wait_for(timeout=STEP_MS)
        assert page.is_checked("#m-share")  # the track is the shared positions
        page.tap("#m-tabs [data-tab=report]")
        page.locator("#m-pos").filter(has_text="精度 ±8 米").wait_for(timeout=STEP_MS)
        page.fill("#m-cat-search", "020101")
        page.tap("#m-cat-results li[data-code='020101']")
        text = f"e2e 巡查上报 {time.time_ns()}"
        page.fill("#m-description", text)
        page.tap("#m-report-submit")
        page.tap("#m-tabs [data-tab=queue]")
        page.locator("#m-queue-list li[data-status=sent]").first.wait_for(timeout=STEP_MS)
        page.tap("#m-tabs [data-tab=me]")
        page.tap("#m-patrol-toggle")
        page.locator("#m-toast").filter(has_text="上报 1 件").wait_for(timeout=STEP_MS)
        [case] = cases_described(live_server, text)
        patrols = api(live_server, "GET", f"/api/v1/patrols?region={COMMUNITY}")["items"]
        mine = [p for p in patrols if p["officer_id"] == "GW0010011" and p["ended_at"]]
        assert mine and mine[0]["reports"] == [case["id"]]
    finally:
        context.close()
    district = api(live_server, "GET", "/api/v1/patrols?region=330199")
    ours = next(c for c in district["coverage"] if c["community"] == COMMUNITY)
    context, page = phone(browser, live_server, "leader")  # the shift leader sees today's coverage on the phone
    try:
        page.tap("#m-tabs [data-tab=me]")
        row = page.locator(f"#m-coverage-list li[data-community='{COMMUNITY}']")
        row.wait_for(timeout=STEP_MS)
        assert f"{ours['visited']}/{ours['units']} 个单元网格" in row.inner_text()
        assert page.inner_text("#m-coverage-patrols") == f"今日 {len(district['items'])} 次巡查"
        assert len(district["items"]) >= 1
    finally:
        context.close()


def test_a_report_position_is_corrected_on_the_offline_map(browser, live_server):
    lon, _ = _point()
    context, page = phone(browser, live_server, "gridworker")
    try:
        page.tap("#m-tabs [data-tab=report]")
        page.locator("#m-pos").filter(has_text="精度 ±8 米").wait_for(timeout=STEP_MS)
        page.tap("#m-map-adjust")
        page.locator("#m-report-map .m-pin").wait_for(timeout=STEP_MS)  # Leaflet loaded on demand, pin at the GPS
        page.locator("#m-report-map path.leaflet-interactive, #m-report-map svg path").first.wait_for(
            state="attached", timeout=STEP_MS
        )  # the offline base layer is drawn (roads, water)
        box = page.locator("#m-report-map").bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] / 2 + 40, box["y"] + box["height"] / 2)  # ~80 m east (z16)
        page.locator("#m-pos").filter(has_text="已在地图上调整").wait_for(timeout=STEP_MS)
        page.fill("#m-cat-search", "020101")
        page.tap("#m-cat-results li[data-code='020101']")
        text = f"e2e 地图校正 {time.time_ns()}"
        page.fill("#m-description", text)
        page.tap("#m-report-submit")
        page.tap("#m-tabs [data-tab=queue]")
        page.locator("#m-queue-list li[data-status=sent]").first.wait_for(timeout=STEP_MS)
        newest = api(live_server, "GET", "/api/v1/incidents?page_size=50")["items"]  # it may lie in the next grid
        [case] = [i for i in newest if i["description"] == text]
        moved = api(live_server, "GET", f"/api/v1/incidents/{case['id']}")["location"]["lon"] - lon
        assert 0.0004 < moved < 0.0015  # east of the GPS fix by the tap, not the GPS position
    finally:
        context.close()
