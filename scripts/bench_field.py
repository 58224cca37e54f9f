#!/usr/bin/env python
"""The field app on a phone: time to interactive and first-load weight of /m, next to a Dash desk page.

    python scripts/bench_field.py [--runs 5]

Starts `gridcommand demo --officers 0 --rate 0` on a temporary var dir, signs the demo handler (hw-handler) in,
then, in headless Debian Chromium emulating a phone (360×800, device pixel ratio 2, touch, mobile), for each run a
fresh context (cold cache) and:
- /m/: from navigation start until the tab bar is visible, the task list has answered (its list or its empty note)
  and Socket.IO is connected (`#m-net.m-live`); bytes of JavaScript and CSS the page fetched;
- the naive baseline in the same run: the Dash workbench /work (the desk the handler uses on a computer) on the
  same phone, until Dash has rendered the page (no `._dash-loading`, the layout mounted); its JS and CSS bytes.
Targets (issue 13): interactive ≤ 3 s on this machine kind; ≤ 300 KiB of JS and CSS beyond the shared bundle.
A script, not a test: slow figures never fail it. Only 127.0.0.1 is contacted.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.e2e.conftest import FLAGS  # the Chromium flags every browser test uses

PHONE = {"viewport": {"width": 360, "height": 800}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
ACCOUNT = {"username": "hw-handler", "password": "demo-hw-handler"}
FIELD_READY = """() => {
  const tabs = document.querySelector('#m-tabs');
  return tabs && tabs.offsetParent !== null && document.querySelector('#m-net.m-live') !== null
    && document.querySelector('#m-task-list li') !== null;
}"""
DASH_READY = """() => {
  const root = document.querySelector('#react-entry-point');
  return root && root.querySelectorAll('*').length > 50 && !document.querySelector('._dash-loading');
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_demo(var_dir: Path, port: int) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GRIDCOMMAND_") and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    env.update(GRIDCOMMAND_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "dashboard.cli", "demo", "--port", str(port), "--officers", "0", "--rate", "0"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit("the demo did not start within 180 s")


def measure(browser, base: str, path: str, ready: str) -> tuple[float, int]:
    """Seconds from navigation start until `ready` holds, and bytes of scripts and styles fetched, cold cache."""
    context = browser.new_context(**PHONE, geolocation={"longitude": 120.2, "latitude": 30.25}, permissions=[])
    try:
        answer = context.request.post(f"{base}/api/v1/auth/login", data=ACCOUNT, headers={"Origin": base})
        if answer.status != 200:
            raise SystemExit(f"sign-in answered {answer.status}")
        weights: list[int] = []
        page = context.new_page()

        def count(response) -> None:
            if response.request.resource_type in {"script", "stylesheet"}:
                with contextlib.suppress(Exception):  # a redirect or an aborted fetch has no body
                    weights.append(len(response.body()))

        page.on("response", count)
        page.goto(f"{base}{path}", wait_until="commit")
        page.wait_for_function(ready, timeout=60_000, polling=50)
        elapsed = page.evaluate("() => performance.now()") / 1000
        page.wait_for_timeout(300)  # late style or script fetches still count toward the weight
        return elapsed, sum(weights)
    finally:
        context.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory(prefix="gc-bench-field-") as tmp:
        demo = start_demo(Path(tmp) / "var", port)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
                figures = {
                    "/m/ (field app)": ("/m/", FIELD_READY),
                    "/work (Dash desk, baseline)": ("/work", DASH_READY),
                }
                results: dict[str, list[tuple[float, int]]] = {name: [] for name in figures}
                for run in range(args.runs):
                    for name, (path, ready) in figures.items():
                        results[name].append(measure(browser, base, path, ready))
                    print(f"run {run + 1}: " + ", ".join(f"{n} {r[-1][0]:.2f} s" for n, r in results.items()))
                browser.close()
        finally:
            demo.send_signal(signal.SIGTERM)
            demo.wait(timeout=60)
    print(f"\n{'page (phone, cold cache)':<30}{'interactive p50':>17}{'max':>8}{'JS+CSS':>12}   target")
    for name, values in results.items():
        times = [t for t, _ in values]
        weight = statistics.median(w for _, w in values) / 1024
        target = "≤ 3 s, ≤ 300 KiB" if name.startswith("/m/") else ""
        print(f"{name:<30}{statistics.median(times):>16.2f}s{max(times):>7.2f}s{weight:>9.0f} KiB   {target}")
    print(f"cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
