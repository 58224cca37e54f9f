"""The README's first command: `gridcommand demo` on a fresh machine and again on the same files. Both starts give
a page a visitor can use (the demo accounts sign in), the second without a locked database although the web process
starts while the demo prepares its city, and SIGTERM stops every process it started."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import requests

from tests.integration.test_serving import _alive, _descendants, _free_port

START_S = 120  # a generous bound for a loaded CI machine; speed is scripts/bench_demo.py's business


def _start(var_dir, port: int, log) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GRIDCOMMAND_") and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    env.update(GRIDCOMMAND_VAR_DIR=str(var_dir), PYTHONUNBUFFERED="1")
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "demo", "--port", str(port), "--officers", "5", "--rate", "0"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _signs_in(base: str) -> bool:
    """The login page answers and a demo account (data/demo_city/accounts.yaml) signs in."""
    try:
        if requests.get(f"{base}/login", timeout=2).status_code != 200:
            return False
        answer = requests.post(
            f"{base}/api/v1/auth/login",
            json={"username": "dispatcher", "password": "demo-dispatcher"},
            headers={"Origin": base},
            timeout=5,
        )
    except requests.RequestException:
        return False
    return answer.status_code == 200 and answer.json()["username"] == "dispatcher"


def _run_once(var_dir, tmp_path, name: str) -> None:
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log_path = tmp_path / f"{name}.log"
    with open(log_path, "wb") as log:
        proc = _start(var_dir, port, log)
        try:
            deadline = time.monotonic() + START_S
            while not _signs_in(base):
                assert proc.poll() is None, f"demo ({name}) exited: {log_path.read_text(errors='replace')[-3000:]}"
                assert time.monotonic() < deadline, f"demo ({name}) not usable: {log_path.read_text()[-3000:]}"
                time.sleep(0.3)
            children = _descendants(proc.pid)
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=40) == 0
            time.sleep(0.5)
            assert [pid for pid in children if _alive(pid)] == [], f"a child outlived the demo ({name})"
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
    text = log_path.read_text(errors="replace")
    assert "database is locked" not in text and "Worker failed to boot" not in text, text[-3000:]


def test_first_and_later_start_give_a_usable_demo(tmp_path):
    var_dir = tmp_path / "var"
    _run_once(var_dir, tmp_path, "first")
    assert (var_dir / "gridcommand.sqlite").exists()
    _run_once(var_dir, tmp_path, "later")
