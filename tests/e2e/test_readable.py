"""Every page readable at 1366×768, 1920×1080 and 3840×2160: each visible text and control meets WCAG AA contrast
(an open dropdown menu included), nothing scrolls sideways, the command center's header stays one row, the
drawer's action buttons stay on screen at 1366×768, triage categories do not break one character per line, and
the audit page has the standard header."""

from __future__ import annotations

import re
import subprocess
import sys

import pyotp
import pytest

from tests.e2e.conftest import E2E_ACCOUNTS, E2E_PASSWORD
from tests.e2e.test_command_center import api

pytestmark = pytest.mark.browser

SIZES = ((1366, 768), (1920, 1080), (3840, 2160))
HEADER_MAX_PX = {1366: 64, 1920: 64, 3840: 128}  # one row of the header (4K scales type up)
MIN_CATEGORY_PX = 40  # a category name narrower than this wraps one character per line

# WCAG 2.x contrast of every visible text (and control) against the first opaque background behind it.
CONTRAST_JS = r"""
() => {
  const parse = (c) => { const m = c.match(/rgba?\(([^)]+)\)/); if (!m) return null;
    const p = m[1].split(',').map(s => parseFloat(s)); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const over = (top, under) => { const a = top[3]; return [0, 1, 2].map(i => top[i] * a + under[i] * (1 - a)).concat([1]); };
  // the backgrounds behind an element, composited from the first opaque one up; gradients give every stop
  const backgrounds = (el) => {
    const layers = []; let node = el;
    for (; node && node.nodeType === 1; node = node.parentElement) {
      const s = getComputedStyle(node);
      const stops = (s.backgroundImage.match(/rgba?\([^)]+\)/g) || []).map(parse).filter(c => c[3] > 0.5);
      if (stops.length) { layers.push({stops}); if (stops.every(c => c[3] >= 1)) break; }
      const bg = parse(s.backgroundColor);
      if (bg && bg[3] > 0) { layers.push({stops: [bg]}); if (bg[3] >= 1) break; }
    }
    let result = [[255, 255, 255, 1]];
    for (const layer of layers.reverse()) {
      const next = [];
      for (const stop of layer.stops) for (const under of result) next.push(stop[3] >= 1 ? stop : over(stop, under));
      result = next;
    }
    return result;
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width < 1 || r.height < 1 || r.bottom < 0 || r.right < 0 || r.top > innerHeight || r.left > innerWidth) return false;
    for (let n = el; n && n.nodeType === 1; n = n.parentElement) {
      const s = getComputedStyle(n);
      if (s.visibility === 'hidden' || s.display === 'none' || parseFloat(s.opacity) < 0.1) return false;
    }
    return true;
  };
  const opacity = (el) => { let o = 1; for (let n = el; n && n.nodeType === 1; n = n.parentElement) o *= parseFloat(getComputedStyle(n).opacity); return o; };
  const name = (el) => (el.id ? '#' + el.id : el.tagName.toLowerCase() + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''))
    + ' "' + (el.innerText || el.value || el.placeholder || '').trim().slice(0, 30) + '"';
  const bad = []; let checked = 0;
  const check = (el, colour, text) => {
    const fg = parse(colour); if (!fg) return;
    const s = getComputedStyle(el);
    const px = parseFloat(s.fontSize), bold = parseInt(s.fontWeight) >= 700;
    const need = (px >= 24 || (bold && px >= 18.66)) ? 3 : 4.5;
    const alpha = fg[3] * opacity(el);
    const worst = Math.min(...backgrounds(el).map(bg => ratio(alpha >= 1 ? fg : over([fg[0], fg[1], fg[2], alpha], bg), bg)));
    checked++;
    if (worst < need - 0.01) bad.push(`${text}${name(el)} ${worst.toFixed(2)} < ${need}`);
  };
  for (const el of document.querySelectorAll('body *')) {
    if (el.closest('.leaflet-pane, svg, .js-plotly-plot, script, style, noscript') || !visible(el)) continue;
    if (el.disabled || el.getAttribute('aria-disabled') === 'true') continue;  // WCAG exempts inactive controls
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (own) check(el, getComputedStyle(el).color, '');
    if ((el.tagName === 'INPUT' || el.tagName === 'TEXTAREA') && !el.value && el.placeholder)
      check(el, getComputedStyle(el, '::placeholder').color, 'placeholder ');
  }
  return {checked, bad};
}
"""

LAYOUT_JS = r"""
() => {
  const header = document.querySelector('.gc-header');
  const h = header ? header.getBoundingClientRect() : null;
  const outside = [];
  if (header) for (const el of header.querySelectorAll('*')) {
    const r = el.getBoundingClientRect();
    if (r.width && r.height && getComputedStyle(el).display !== 'none' && (r.top < h.top - 1 || r.bottom > h.bottom + 1))
      outside.push((el.id || el.className || el.tagName) + '');
  }
  // texts broken over more than one line (a header item, a triage category)
  const lines = (el) => { const tops = new Set(); for (const n of el.childNodes) if (n.nodeType === 3 && n.textContent.trim()) {
      const r = document.createRange(); r.selectNodeContents(n); for (const q of r.getClientRects()) if (q.width) tops.add(Math.round(q.top)); }
    return tops.size; };
  const wrapped = (sel) => [...document.querySelectorAll(sel)].filter(e => e.offsetParent !== null && lines(e) > 1)
    .map(e => e.textContent.trim().slice(0, 20));
  return {
    scrollX: document.documentElement.scrollWidth - innerWidth,
    header: h ? h.height : null,
    headerOverflow: outside.slice(0, 5).concat(wrapped('.gc-header *')),
    categoryWrapped: wrapped('.gc-tr-row .gc-q-cat, .gc-qrow .gc-q-cat'),
  };
}
"""


def _make_account(env: dict, role: str) -> tuple[str, str, str]:
    """A new account made by the operator's CLI: (username, password, TOTP secret)."""
    username = f"e2e-read-{role}"
    done = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "accounts", "create", username, "--name", f"{role} e2e", "--role", role]
        + ["--region", "330199"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    password = re.search(r"password: (\S+?);?(\s|$)", done.stdout).group(1)
    secret = re.search(r"TOTP secret: (\S+)", done.stdout)
    return username, password, secret.group(1) if secret else ""


@pytest.fixture(scope="module")
def cases(live_server, community_points):
    """An open case on the command center's queue and a report in triage (so both lists have rows)."""
    lon, lat = community_points[0]
    queued = api(
        live_server,
        "POST",
        "/api/v1/incidents",
        {"description": "e2e 可读性：人行道上暴露垃圾，请尽快清运", "category_code": "020101", "lon": lon, "lat": lat},
    )
    triaged = api(
        live_server,
        "POST",
        "/api/v1/incidents",
        {"description": "e2e 可读性：位置不在网格内", "category_code": "020101", "lon": 100.0, "lat": 40.0},
    )
    return queued, triaged


@pytest.fixture(scope="module")
def people(live_server):
    """Who lands on each page: the e2e accounts plus an auditor and an administrator (both with TOTP)."""
    auditor = _make_account(live_server.env, "auditor")
    admin = _make_account(live_server.env, "admin")
    plain = lambda key: (E2E_ACCOUNTS[key]["username"], E2E_PASSWORD, "")
    return {"dispatcher": plain("dispatcher"), "handler": plain("hw-handler"), "auditor": auditor, "admin": admin}


def _sign_in(browser, base: str, path: str, who: tuple[str, str, str]):
    context = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, locale="zh-CN")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{base}/login?next={path}")
    username, password, secret = who
    page.fill("#username", username)
    page.fill("#password", password)
    if secret:
        page.fill("#totp", pyotp.TOTP(secret).now())
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/login" not in url, timeout=10_000)
    return context, page, errors


def _settle(page) -> None:
    page.wait_for_load_state("networkidle", timeout=15_000)
    page.wait_for_timeout(300)


def _contrast(page, where: str, at_least: int = 10) -> list[str]:
    found = page.evaluate(CONTRAST_JS)
    assert found["checked"] >= at_least, f"{where}: almost nothing visible to check ({found['checked']})"
    return [f"{where}: {b}" for b in found["bad"]]


def _open_dropdown(page) -> bool:
    """Open the first visible dropdown (Dash 4's dcc.Dropdown); whether there was one."""
    toggle = page.locator(".dash-dropdown:visible").first
    if toggle.count() == 0:
        return False
    toggle.click()
    page.wait_for_selector(".dash-dropdown-content, .dash-dropdown-options, [role=listbox]", timeout=3000)
    return True


PAGES = (  # path, who lands there, what shows the page is drawn
    ("/", "dispatcher", ".gc-qrow"),
    ("/hotline", "dispatcher", "#hl-phone"),
    ("/triage", "dispatcher", ".gc-tr-row"),
    ("/work", "handler", "#wk-list"),
    ("/audit", "auditor", "#audit-table table"),
    ("/devices", "admin", "#devices-table table"),
)


@pytest.mark.parametrize(("path", "role", "ready"), PAGES, ids=[p[0] for p in PAGES])
def test_every_page_is_readable_and_fits_at_three_sizes(browser, live_server, cases, people, path, role, ready):
    context, page, errors = _sign_in(browser, live_server, path, people[role])
    problems: list[str] = []
    try:
        page.wait_for_selector(ready, timeout=15_000)
        for width, height in SIZES:
            where = f"{path} {width}×{height}"
            page.set_viewport_size({"width": width, "height": height})
            _settle(page)
            problems += _contrast(page, where)
            layout = page.evaluate(LAYOUT_JS)
            if layout["scrollX"] > 1:
                problems.append(f"{where}: scrolls sideways by {layout['scrollX']} px")
            if layout["header"] is None:
                problems.append(f"{where}: no header")
            elif layout["header"] > HEADER_MAX_PX[width] or layout["headerOverflow"]:
                problems.append(f"{where}: header {layout['header']} px high, wraps: {layout['headerOverflow']}")
            if layout["categoryWrapped"]:
                problems.append(f"{where}: category names broken over lines: {layout['categoryWrapped'][:3]}")
            if path == "/triage":
                narrow = page.evaluate(
                    f"() => [...document.querySelectorAll('.gc-tr-row .gc-q-cat')]"
                    f".filter(e => e.getBoundingClientRect().width < {MIN_CATEGORY_PX}).map(e => e.innerText)"
                )
                if narrow:
                    problems.append(f"{where}: category names squeezed: {narrow[:3]}")
            if _open_dropdown(page):
                problems += _contrast(page, where + " (dropdown open)")
                page.keyboard.press("Escape")
                page.mouse.click(width // 2, height - 5)
        page.set_viewport_size({"width": SIZES[0][0], "height": SIZES[0][1]})
        if path == "/":
            problems += _drawer_actions_on_screen(page, cases[0]["id"])
        if path == "/triage":
            problems += _triage_note_in_chinese(page, cases[1]["id"])
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert errors == []


def _drawer_actions_on_screen(page, incident_id: str) -> list[str]:
    """At 1366×768 the open case's action buttons are inside the viewport (the drawer scrolls, they stay)."""
    page.locator(f'.gc-qrow[data-id="{incident_id}"]').click()
    page.wait_for_selector("#cc-drawer-actions button", timeout=10_000)
    _settle(page)
    off = page.evaluate(
        """() => [...document.querySelectorAll('#cc-drawer-actions button')]
             .filter(b => b.offsetParent !== null)
             .filter(b => { const r = b.getBoundingClientRect(); return r.bottom > innerHeight || r.top < 0; })
             .map(b => b.innerText)"""
    )
    return [f"/ 1366×768: drawer actions below the fold: {off}"] if off else []


def test_the_sign_in_page_is_readable_at_three_sizes(browser, live_server):
    context = browser.new_context(viewport={"width": SIZES[0][0], "height": SIZES[0][1]}, locale="zh-CN")
    page = context.new_page()
    problems: list[str] = []
    try:
        page.goto(f"{live_server}/login")
        page.wait_for_selector("#login-submit")
        for width, height in SIZES:
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(200)
            problems += _contrast(page, f"/login {width}×{height}", at_least=7)
            if (scroll := page.evaluate(LAYOUT_JS)["scrollX"]) > 1:
                problems.append(f"/login {width}×{height}: scrolls sideways by {scroll} px")
            box = page.locator(".gc-login").bounding_box()
            if width == 3840 and box["width"] < 600:  # 4K: the form is drawn at twice the size
                problems.append(f"/login 4K: the form is only {box['width']} px wide")
    finally:
        context.close()
    assert not problems, "\n".join(problems)


def _triage_note_in_chinese(page, incident_id: str) -> list[str]:
    """The selected report says why it waits and where it came from in Chinese, not the engine's English."""
    page.locator(f'.gc-tr-row[data-id="{incident_id}"]').click()
    page.wait_for_selector("#tr-note", timeout=10_000)
    note, facts = page.inner_text("#tr-note"), page.inner_text(".gc-d-id")
    wrong = []
    if "网格" not in note or re.search(r"[A-Za-z]{4,} [A-Za-z]{4,}", note):
        wrong.append(f"/triage: the note is not Chinese: {note!r}")
    if "系统接口" not in facts:  # channel "api" by name
        wrong.append(f"/triage: the channel is not named: {facts!r}")
    return wrong
