"""The field app's shell at /m: the page, its modules, the PWA manifest and icons and the service worker are served
without signing in (the page signs in through the API), in Chinese by default with the English strings alongside,
under the same security headers as every page, and small enough for a phone's first load."""

from __future__ import annotations

import json
import re

import pytest

from dashboard.field import STATIC

BUDGET_BYTES = 300 * 1024  # JS + CSS of the first load (issue 13)


@pytest.fixture
def browser(anonymous):
    return anonymous


def _strings(html: str) -> dict:
    found = re.search(r'<script id="m-strings" type="application/json">(.*?)</script>', html, re.S)
    assert found, "the page embeds its strings"
    return json.loads(found.group(1))


def test_the_page_is_served_to_anyone_with_both_languages_and_no_inline_code(browser):
    assert browser.get("/m").headers["Location"].endswith("/m/")
    page = browser.get("/m/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    strings = _strings(html)
    assert strings["m_tab_report"] == ["上报", "Report"] and strings["status_dispatched"][0] == "已派遣"
    assert 'lang="zh-CN"' in html and 'rel="manifest"' in html
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert re.findall(r"<script(?![^>]*(?:src=|application/json))", html) == []  # nothing the CSP would block


def test_every_module_and_style_the_page_loads_is_served_within_the_budget(browser):
    html = browser.get("/m/").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/m/[^"]+\.(?:js|css))"', html)
    modules = [f"/m/static/{p.name}" for p in STATIC.glob("*.js") if p.name != "sw.js"]
    total = 0
    for path in {*assets, *modules}:
        response = browser.get(path)
        assert response.status_code == 200, path
        total += len(response.get_data())
    assert "/m/vendor/socket.io.min.js" in assets
    assert total <= BUDGET_BYTES, f"{total} bytes of JS and CSS"


def test_the_manifest_makes_it_installable(browser):
    response = browser.get("/m/manifest.webmanifest")
    assert response.status_code == 200 and response.mimetype == "application/manifest+json"
    manifest = response.json
    assert manifest["start_url"] == "/m/" and manifest["scope"] == "/m/" and manifest["display"] == "standalone"
    sizes = {icon["sizes"]: icon["src"] for icon in manifest["icons"]}
    for size in ("192x192", "512x512"):
        icon = browser.get(sizes[size])
        assert icon.status_code == 200 and icon.mimetype == "image/png"
        assert icon.get_data()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_service_worker_is_scoped_to_the_app_and_caches_the_shell(browser):
    response = browser.get("/m/sw.js")
    assert response.status_code == 200 and response.mimetype == "text/javascript"
    assert response.headers["Service-Worker-Allowed"] == "/m/" and "no-cache" in response.headers["Cache-Control"]
    source = response.get_data(as_text=True)
    cached = set(re.findall(r'"(/m/[^"]*)"', source.split("];")[0]))
    html = browser.get("/m/").get_data(as_text=True)
    assert set(re.findall(r'(?:src|href)="(/m/[^"]+\.(?:js|css))"', html)) <= cached
    assert {f"/m/static/{p.name}" for p in STATIC.glob("*.js") if p.name != "sw.js"} <= cached
    assert "/api/" not in source.split("addEventListener")[0]  # personal data is never cached
    for path in cached:
        assert browser.get(path).status_code in (200, 308), path


def test_the_page_signs_in_through_the_api_from_its_own_origin_only(app, browser):
    from dispatcher.access.roles import Role
    from dispatcher.access.roster import create_account
    from tests.conftest import T0

    with _sessions(app).begin() as session:
        create_account(
            session,
            username="phone-worker",
            display_name="网格员",
            role=Role.GRID_WORKER,
            region_code="330199001001",
            department_code=None,
            password="a long phone password",
            actor="test",
            now=T0,
        )
    credentials = {"username": "phone-worker", "password": "a long phone password"}
    foreign = browser.post("/api/v1/auth/login", json=credentials, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    signed = browser.post("/api/v1/auth/login", json=credentials, headers={"Origin": "http://localhost"})
    assert signed.status_code == 200 and signed.json["role"] == "grid_worker"
    assert browser.get("/api/v1/boxes").status_code == 200


def _sessions(app):
    from dashboard.runtime import runtime_of

    return runtime_of(app).sessions
