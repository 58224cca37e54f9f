#!/usr/bin/env python
"""How long `gridcommand demo` takes to a usable page: a first start on empty files and a later start on the same.

    python scripts/bench_demo.py [--runs 3] [--officers 300] [--rate 20]

"Usable" means the login page answers and a demo account signs in (what a visitor does first). Each run starts the
demo on a fresh var dir (first start: schema, 7,000 grids, roster, accounts, a morning's backlog, trackers, the web
process, the worker, the bundled Redis), stops it with SIGTERM, starts it again on the same files (later start).
Naive baseline, same run: a plain `gridcommand serve` on the same prepared files and keys, which prepares nothing
(the time a web process alone takes to answer; a demo that prepared its city first and served after would add its
preparation on top of it). Targets (issue 12): first start ≤ 5 s, later starts ≤ 2 s. A script, not a test.
"""

from __future__ import annotations

import argparse
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def environment(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("GRIDCOMMAND_") and k not in {"REDIS_URL", "DATABASE_URL"}
    }
    env.update(GRIDCOMMAND_VAR_DIR=str(var_dir), PYTHONPATH=str(ROOT))
    return env


def usable(base: str) -> bool:
    try:
        if requests.get(f"{base}/login", timeout=2).status_code != 200:
            return False
        answer = requests.post(
            f"{base}/api/v1/auth/login",
            json={"username": "dispatcher", "password": "demo-dispatcher"},
            headers={"Origin": base},
            timeout=5,
        )
        return answer.status_code == 200
    except requests.RequestException:
        return False


def time_to_usable(command: list[str], env: dict[str, str], log: Path) -> float:
    """Seconds from launching `command` until the page is usable; then SIGTERM and wait for a clean exit."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log, "ab") as out:
        started = time.perf_counter()
        proc = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            while not usable(base):
                if proc.poll() is not None:
                    raise SystemExit(f"{command} exited; see {log}")
                time.sleep(0.05)
            elapsed = time.perf_counter() - started
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--officers", type=int, default=300)
    parser.add_argument("--rate", type=float, default=20.0)
    args = parser.parse_args()
    cli = [sys.executable, "-m", "dashboard.cli"]
    demo = [*cli, "demo", "--officers", str(args.officers), "--rate", str(args.rate)]
    figures: dict[str, list[float]] = {"first start": [], "later start": [], "baseline: bare serve": []}
    with tempfile.TemporaryDirectory(prefix="gc-bench-demo-") as tmp:
        for run in range(args.runs):
            var_dir = Path(tmp) / f"run{run}"
            env = environment(var_dir)
            log = Path(tmp) / f"run{run}.log"
            figures["first start"].append(time_to_usable(demo, env, log))
            figures["later start"].append(time_to_usable(demo, env, log))
            lines = (var_dir / "demo-keys.env").read_text().splitlines()
            keys = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
            figures["baseline: bare serve"].append(time_to_usable([*cli, "serve"], {**env, **keys}, log))
            print(f"run {run + 1}: " + ", ".join(f"{name} {values[-1]:.1f} s" for name, values in figures.items()))
    print(f"\n{'':24}{'median':>8}{'min':>8}{'max':>8}   target")
    targets = {"first start": "≤ 5 s", "later start": "≤ 2 s", "baseline: bare serve": ""}
    for name, values in figures.items():
        print(f"{name:<24}{statistics.median(values):>7.1f}s{min(values):>7.1f}s{max(values):>7.1f}s   {targets[name]}")
    print(f"cores: {os.cpu_count()}, load average now: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
