"""Screenshots of the command center (1600×900) and the wall (1920×1080) into docs/screenshots/.

python scripts/screenshots.py                 # start a throw-away demo (temp SQLite, bundled Redis), seed a shift
python scripts/screenshots.py --url http://127.0.0.1:8050   # use a running server as it is
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/health", timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"{url} did not answer /health")


def start_demo(tmp: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    database_url = f"sqlite:///{tmp / 'shots.sqlite'}"
    env = {
        **{k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        "DATABASE_URL": database_url,
        "GRIDCOMMAND_VAR_DIR": str(tmp / "var"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo", "--port", str(port)], env=env, cwd=ROOT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return proc, url


def sign_in(page, username: str, password: str) -> None:
    """Sign in through the login form (demo accounts are listed in data/demo_city/accounts.yaml)."""
    page.fill("#username", username)
    page.fill("#password", password)
    with page.expect_navigation():
        page.click("#login-form [type=submit]")


def shoot(url: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        context = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN")
        page = context.new_page()
        page.goto(url + "/login")
        page.wait_for_timeout(500)
        page.screenshot(path=str(OUT / "login.png"))
        sign_in(page, "shiftleader", "demo-shiftleader")
        with page.expect_response(lambda r: "level=community" in r.url, timeout=20_000):
            page.goto(url + "/")
        page.wait_for_selector(".gc-conn.gc-conn-on", timeout=20_000)
        page.wait_for_timeout(1500)
        page.click("#cc-tab-overdue")
        page.wait_for_timeout(800)
        rows = page.locator(".gc-qrow")
        if rows.count():
            rows.first.click()
            page.wait_for_selector(".gc-drawer-open", timeout=5000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "command-center.png"))
        wall = context.new_page()  # the same signed-in session
        wall.set_viewport_size({"width": 1920, "height": 1080})
        with wall.expect_response(lambda r: "level=street" in r.url, timeout=20_000):
            wall.goto(url + "/wall")
        wall.wait_for_selector(".gc-conn.gc-conn-on", timeout=20_000)
        wall.wait_for_timeout(2500)
        wall.screenshot(path=str(OUT / "wall.png"))
        hotline = context.new_page()
        hotline.goto(url + "/hotline")
        hotline.wait_for_selector(".leaflet-container", timeout=20_000)
        hotline.wait_for_timeout(2000)
        hotline.screenshot(path=str(OUT / "hotline.png"))
        handler = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN").new_page()
        handler.goto(url + "/login")
        sign_in(handler, "hw-head", "demo-hw-head")  # a department head lands on the workbench (工作台)
        handler.wait_for_selector(".gc-wrow", timeout=20_000)
        handler.click("#wk-tab >> text=部门箱")
        handler.wait_for_timeout(1000)
        handled = handler.locator(".gc-wrow", has_text="已反馈")  # fed back: its before/after photos show
        (handled.first if handled.count() else handler.locator(".gc-wrow").first).click()
        handler.wait_for_selector(".gc-drawer-open", timeout=5000)
        handler.wait_for_timeout(2500)
        handler.screenshot(path=str(OUT / "workbench.png"))
        admin = browser.new_context(viewport={"width": 1600, "height": 900}, locale="zh-CN").new_page()
        admin.goto(url + "/login")
        admin.fill("#totp", admin_totp())
        sign_in(admin, "admin", "demo-admin")  # the administrator lands on the tracker enrolment page
        admin.wait_for_selector("#devices-table", timeout=20_000)
        admin.wait_for_timeout(1500)
        admin.screenshot(path=str(OUT / "devices.png"))
        browser.close()
    print(f"wrote login, command-center, wall, hotline, workbench and devices screenshots to {OUT}")


def admin_totp() -> str:
    """The demo administrator's current TOTP code (its secret is in the demo accounts file)."""
    import pyotp
    import yaml

    accounts = yaml.safe_load((ROOT / "data" / "demo_city" / "accounts.yaml").read_text(encoding="utf-8"))
    admin = next(a for a in accounts if a["username"] == "admin")
    return pyotp.TOTP(admin["totp_secret"]).now()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running GridCommand server; default: start a seeded throw-away demo")
    args = parser.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"))
        return
    with tempfile.TemporaryDirectory(prefix="gc-shots-") as tmp:
        proc, url = start_demo(Path(tmp))
        try:
            time.sleep(5)  # the demo seeds its backlog before serving; let officers report their first fixes
            shoot(url)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the demo's own process group (web, worker, bundled Redis)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
