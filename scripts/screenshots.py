"""Screenshots of every page at 1366×768, 1920×1080 and 3840×2160 into docs/screenshots/ (<page>-<w>x<h>.png;
the 1920×1080 one also as <page>.png, which the README shows; 4K shots are stored at half size).

python scripts/screenshots.py                 # start a throw-away demo (temp SQLite, bundled Redis), seed a shift
python scripts/screenshots.py --url http://127.0.0.1:8050   # use a running server as it is
python scripts/screenshots.py --out /tmp/shots               # somewhere else than docs/screenshots/
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


def wait_healthy(url: str, timeout: float = 240) -> None:
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


SIZES = ((1366, 768), (1920, 1080), (3840, 2160))
README_SIZE = (1920, 1080)  # also written without the size suffix: the pictures the README shows
MAX_PNG_BYTES = 1_000_000
# name, path, demo account (data/demo_city/accounts.yaml), what shows the page is drawn, what to click first
PAGES = (
    ("command-center", "/", "shiftleader", ".gc-qrow", "overdue-case"),
    ("hotline", "/hotline", "hotline", ".leaflet-container", None),
    ("triage", "/triage", "shiftleader", ".gc-tr-row, #tr-empty", "first-triage"),
    ("workbench", "/work", "hw-head", ".gc-wrow", "handled-case"),
    ("audit", "/audit", "auditor", "#audit-table table", None),
    ("devices", "/devices", "admin", "#devices-table", None),
    ("wall", "/wall", "leader", ".gc-kpis", None),
    ("analysis", "/analysis", "shiftleader", "#an-anchor", "this-month"),  # (a TOTP code signs in once)
)


def demo_account(username: str) -> dict:
    """A demo account's password and, for admin, auditor and leader, the current TOTP code."""
    import pyotp
    import yaml

    accounts = yaml.safe_load((ROOT / "data" / "demo_city" / "accounts.yaml").read_text(encoding="utf-8"))
    account = next(a for a in accounts if a["username"] == username)
    code = pyotp.TOTP(account["totp_secret"]).now() if account.get("totp_secret") else ""
    return {"password": account["password"], "totp": code}


def sign_in(page, url: str, username: str, path: str) -> None:
    """Sign in through the login form and land on `path`."""
    account = demo_account(username)
    page.goto(f"{url}/login?next={path}")
    page.fill("#username", username)
    page.fill("#password", account["password"])
    if account["totp"]:
        page.fill("#totp", account["totp"])
    with page.expect_navigation():
        page.click("#login-form [type=submit]")


def prepare(page, step: str | None) -> None:
    """Open something worth showing (an overdue case in the drawer, a triage report, a fed-back case); on a machine
    too busy to answer in time the page is shot as it is."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        _open_case(page, step)
    except PlaywrightTimeout as exc:
        print(f"could not open a case ({step}): {exc.message.splitlines()[0]}")


def _open_case(page, step: str | None) -> None:
    if step == "this-month":  # the demo's history is this month's: evaluate it (the page opens on last month)
        page.fill("#an-anchor", time.strftime("%Y-%m-%d"))
        page.wait_for_timeout(4000)
        return
    if step == "overdue-case":
        page.click("#cc-tab-overdue")
        page.wait_for_timeout(800)
    if step == "handled-case":
        page.click("#wk-tab >> text=部门箱")
        page.wait_for_timeout(1000)
    rows = {"overdue-case": ".gc-qrow", "first-triage": ".gc-tr-row", "handled-case": ".gc-wrow"}.get(step or "")
    if rows and page.locator(rows).count():
        handled = page.locator(rows, has_text="已反馈")
        row = handled.first if step == "handled-case" and handled.count() else page.locator(rows).first
        row.click(no_wait_after=True)  # opening a case writes the URL; nothing to wait for
        page.wait_for_timeout(2500)


def save(page, path: Path, size: tuple[int, int]) -> None:
    """A PNG of the viewport; a 4K shot is scaled to half (the page itself is laid out at 3840×2160)."""
    from io import BytesIO

    from PIL import Image

    image = Image.open(BytesIO(page.screenshot(timeout=120_000, animations="disabled")))
    if size[0] > 2560:
        image = image.resize((size[0] // 2, size[1] // 2), Image.LANCZOS)
    image.save(path, optimize=True)
    if path.stat().st_size > MAX_PNG_BYTES:  # a busy map: fewer colours keep it under ~1 MB
        image.convert("RGB").quantize(colors=256).save(path, optimize=True)


def shoot(url: str, out: Path = OUT) -> list[Path]:
    """Every page at 1366×768, 1920×1080 and 3840×2160 (and the sign-in page); returns the files written."""
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="zh-CN")
        page = context.new_page()
        page.goto(url + "/login")
        for size in SIZES:
            page.set_viewport_size({"width": size[0], "height": size[1]})
            page.wait_for_timeout(300)
            written += _write(page, out, "login", size)
        context.close()
        for name, path, username, ready, step in PAGES:
            context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
            context.set_default_timeout(60_000)  # a seeded demo with its simulator keeps the map busy
            page = context.new_page()
            sign_in(page, url, username, path)
            page.wait_for_selector(ready, timeout=30_000)
            page.wait_for_timeout(2000)
            prepare(page, step)
            for size in SIZES:
                page.set_viewport_size({"width": size[0], "height": size[1]})
                page.wait_for_timeout(1500)  # the map re-fits, the wall's charts re-draw
                written += _write(page, out, name, size)
            context.close()
        browser.close()
    return written


def _write(page, out: Path, name: str, size: tuple[int, int]) -> list[Path]:
    path = out / f"{name}-{size[0]}x{size[1]}.png"
    save(page, path, size)
    if size != README_SIZE:
        return [path]
    plain = out / f"{name}.png"
    plain.write_bytes(path.read_bytes())
    return [path, plain]


def report(written: list[Path]) -> None:
    biggest = max(written, key=lambda p: p.stat().st_size)
    print(f"wrote {len(written)} screenshots; the largest is {biggest.name} ({biggest.stat().st_size // 1024} KB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running GridCommand server; default: start a seeded throw-away demo")
    parser.add_argument("--out", type=Path, default=OUT, help="where the PNGs go (default: docs/screenshots/)")
    args = parser.parse_args()
    if args.url:
        report(shoot(args.url.rstrip("/"), args.out))
        return
    with tempfile.TemporaryDirectory(prefix="gc-shots-") as tmp:
        proc, url = start_demo(Path(tmp))
        try:
            time.sleep(5)  # the demo seeds its backlog before serving; let officers report their first fixes
            report(shoot(url, args.out))
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the demo's own process group (web, worker, bundled Redis)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
