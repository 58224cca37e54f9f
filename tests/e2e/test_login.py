"""Signing in through the browser: anonymous visitors land on the sign-in page, a wrong password says nothing
specific, a dispatcher gets the command center with their name in the header, and signing out (a POST) ends the
session on the server: the old cookie put back into the browser signs nobody in."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import E2E_ACCOUNTS, E2E_PASSWORD, Watched

pytestmark = pytest.mark.browser


@pytest.fixture
def anonymous_page(browser, live_server):
    context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
    yield Watched(context, live_server)
    context.close()


def test_anonymous_browser_is_sent_to_login_and_signs_in_to_the_command_center(anonymous_page, live_server):
    page = anonymous_page.page
    page.goto(live_server + "/wall?lang=en")
    page.wait_for_url("**/login?next=*")
    assert "next=%2Fwall%3Flang%3Den" in page.url
    assert page.locator("#username").is_visible() and page.locator("#totp").is_visible()
    assert page.locator("#demo-accounts").count() == 0  # never outside demo mode

    page.fill("#username", E2E_ACCOUNTS["dispatcher"]["username"])
    page.fill("#password", "not the password")
    page.click("#login-submit")
    page.wait_for_selector("#login-error")
    assert "登录失败" in page.inner_text("#login-error")
    assert "/login" in page.url

    page.goto(live_server + "/")
    page.wait_for_url("**/login?next=%2F")
    page.fill("#username", E2E_ACCOUNTS["dispatcher"]["username"])
    page.fill("#password", E2E_PASSWORD)
    page.click("#login-submit")
    page.wait_for_url(live_server + "/")
    page.wait_for_selector(".gc-conn.gc-conn-on", timeout=15_000)  # Socket.IO accepted the session
    page.wait_for_selector("#cc-tab-new", timeout=5000)
    header = page.inner_text("header")
    assert E2E_ACCOUNTS["dispatcher"]["display_name"] in header and "指挥中心坐席" in header

    kept = [c for c in anonymous_page.context.cookies() if c["name"] == "session"]
    assert kept
    form = page.locator("form.gc-logout-form")
    assert form.get_attribute("method").lower() == "post" and form.get_attribute("action") == "/logout"
    page.click("#gc-logout")
    page.wait_for_url("**/login*")
    page.goto(live_server + "/")
    page.wait_for_url("**/login?next=%2F")
    anonymous_page.context.add_cookies(kept)  # the cookie from before signing out, kept (or stolen)
    page.goto(live_server + "/")
    page.wait_for_url("**/login?next=%2F")  # it signs nobody in any more
    assert anonymous_page.errors == [] or all("401" in e or "Failed to load" in e for e in anonymous_page.errors)


def test_the_server_header_names_no_versions(live_server):
    """`gridcommand serve` answered `Server: Werkzeug/3.x Python/3.11.x`: it names no software versions now."""
    import urllib.error
    import urllib.request

    with urllib.request.urlopen(live_server + "/health", timeout=10) as response:
        assert response.headers["Server"] == "GridCommand"
    request = urllib.request.Request(live_server + "/api/v1/incidents", headers={"Authorization": "Bearer x"})
    try:
        urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as exc:
        assert exc.code == 401 and exc.headers["Server"] == "GridCommand"
