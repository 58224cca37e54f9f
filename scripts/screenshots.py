"""Screenshots of the command center (1600×900) and the wall (1920×1080) into docs/screenshots/.

    python scripts/screenshots.py                 # start a throw-away demo (temp SQLite, bundled Redis), seed a shift
    python scripts/screenshots.py --url http://127.0.0.1:8050   # use a running server as it is
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / "docs" / "screenshots"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


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


def seed(database_url: str, count: int = 140) -> None:
    """A plausible morning: incidents reported over the last hours, many moved along the lifecycle, some late."""
    from dispatcher.city import load_city
    from dispatcher.commands import ActionRequest, CreateIncident
    from dispatcher.db import make_engine, make_sessions
    from dispatcher.gridstore import load_index
    from dispatcher.lifecycle import Action
    from dispatcher.services import create_incident, perform_action
    from dispatcher.settings import Settings
    from dispatcher.uow import UnitOfWork

    rng = random.Random(7)
    settings = Settings(DATABASE_URL=database_url)
    sessions = make_sessions(make_engine(database_url))
    with sessions() as session:
        city = load_city(settings.data_dir, load_index(session))
    units = city.grids.by_level("unit")
    categories = [c for c in city.catalogue.categories.values() if c.default_department]
    weights = [6 if c.code.startswith("02") else 1 for c in categories]
    places = ["路口", "小区东门", "人行道", "沿街商铺前", "公园北侧", "公交站旁", "菜场门口", "学校附近"]
    now = datetime.now(UTC)
    plan = [("file",), ("file", "dispatch"), ("file", "dispatch", "claim"), ("file", "dispatch", "claim", "handle"), (),
            ("file", "dispatch", "claim", "handle", "verify", "close")]
    for n in range(count):
        at = now - timedelta(minutes=rng.randint(1, 330))
        point = units[rng.randrange(len(units))].geometry.representative_point()
        category = rng.choices(categories, weights)[0]
        steps = rng.choices(plan, [3, 3, 4, 2, 4, 3])[0]
        with UnitOfWork(sessions) as uow:
            incident = create_incident(uow, city, CreateIncident(
                description=f"{rng.choice(places)}{category.name_zh}，请尽快处置", category_code=category.code, lon=point.x, lat=point.y,
                channel=rng.choice(["grid_worker", "hotline", "public"])), actor="demo", now=at)
            uow.commit(at)
            incident_id = incident.id
        step_at = at
        for action in steps:
            step_at = step_at + timedelta(minutes=rng.randint(2, 20))
            if step_at > now:
                break
            body = {"result": "已处置完毕"} if action == "handle" else {}
            with UnitOfWork(sessions) as uow:
                perform_action(uow, city, incident_id, Action(action), ActionRequest(**body), actor="demo", now=step_at)
                uow.commit(step_at)


def start_demo(tmp: Path) -> tuple[subprocess.Popen, str, str]:
    port = free_port()
    database_url = f"sqlite:///{tmp / 'shots.sqlite'}"
    env = {**{k: v for k, v in os.environ.items() if k != "REDIS_URL"}, "DATABASE_URL": database_url,
           "GRIDCOMMAND_VAR_DIR": str(tmp / "var")}
    proc = subprocess.Popen([sys.executable, "-m", "dashboard.cli", "demo", "--port", str(port)], env=env, cwd=ROOT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url)
    return proc, url, database_url


def shoot(url: str) -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1600, "height": 900}, locale="zh-CN")
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
        wall = browser.new_page(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
        with wall.expect_response(lambda r: "level=street" in r.url, timeout=20_000):
            wall.goto(url + "/wall")
        wall.wait_for_selector(".gc-conn.gc-conn-on", timeout=20_000)
        wall.wait_for_timeout(2500)
        wall.screenshot(path=str(OUT / "wall.png"))
        browser.close()
    print(f"wrote {OUT / 'command-center.png'} and {OUT / 'wall.png'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running GridCommand server; default: start a seeded throw-away demo")
    args = parser.parse_args()
    if args.url:
        shoot(args.url.rstrip("/"))
        return
    with tempfile.TemporaryDirectory(prefix="gc-shots-") as tmp:
        proc, url, database_url = start_demo(Path(tmp))
        try:
            seed(database_url)
            time.sleep(2)  # the worker relays the seeded events
            shoot(url)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)  # the demo's own process group (web, worker, bundled Redis)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


if __name__ == "__main__":
    main()
