#!/usr/bin/env python
"""Which server `gridcommand serve` should run: saturated /osmand ingest under each candidate, side by side.

    python scripts/bench_serve.py                      # 3,000 fixes per variant, 8 client threads
    python scripts/bench_serve.py --fixes 6000 --variants dev,gthread,gevent,gevent2

Each variant is `gridcommand serve` on PostgreSQL (database `gridcommand_serve_bench`, created and dropped) and
Redis db 9 of 127.0.0.1:6379 (flushed), with one `gridcommand worker`; the same enrolled trackers send real
OsmAnd GET requests from 8 threads (scripts/bench_live.py's load generator) as fast as they are answered.
Variants: `dev` (Werkzeug's development server, threads: what `serve` ran before), `gthread` (gunicorn, OS
threads), `gevent` (gunicorn + gevent, one process), `gevent2` (two processes on one port). Printed: fixes/s,
server CPU per fix and the time from start to a healthy /health. The load generator shares the 2 cores, so
compare the variants of one run, not absolute figures across machines. A script, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
REPO_ROOT = SCRIPTS.parent
sys.path[:0] = [str(REPO_ROOT), str(SCRIPTS)]

import bench_live  # the load generator and tracker enrolment

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_serve_bench"
REDIS_URL = "redis://127.0.0.1:6379/9"
VARIANTS = {
    "dev": ["--dev"],
    "gthread": ["--worker-class", "gthread"],
    "gevent": ["--worker-class", "gevent"],
    "gevent2": ["--worker-class", "gevent", "--workers", "2"],
}
THREADS = 8


def cli(*args: str, env: dict) -> None:
    subprocess.run([sys.executable, "-m", "dashboard.cli", *args], env=env, check=True, capture_output=True)


def recreate_database() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS gridcommand_serve_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE gridcommand_serve_bench"))
    engine.dispose()


def drop_database() -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS gridcommand_serve_bench WITH (FORCE)"))
    engine.dispose()


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and all its descendants (the supervisor, gunicorn's master and workers)."""
    total = 0.0
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.split("\n"):
        if line.strip():
            p, pp = map(int, line.split())
            children.setdefault(pp, []).append(p)
    todo = [pid]
    while todo:
        p = todo.pop()
        total += bench_live.cpu_seconds(p)
        todo.extend(children.get(p, []))
    return total


def wait_healthy(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> float:
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if json.load(response).get("redis") == "ok":
                    return time.perf_counter() - t0
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("serve did not become healthy")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixes", type=int, default=3000)
    parser.add_argument("--variants", default="dev,gthread,gevent,gevent2")
    parser.add_argument("--port", type=int, default=8631)
    args = parser.parse_args(argv)
    variants = args.variants.split(",")
    workdir = Path(os.environ.get("TMPDIR", "/tmp")) / "gridcommand-bench-serve"
    workdir.mkdir(parents=True, exist_ok=True)
    from dashboard.cli.keys import new_keys

    keys = new_keys()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDCOMMAND_")},
        **keys,
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        "GRIDCOMMAND_VAR_DIR": str(workdir / "var"),
        **bench_live.BENCH_RATE_LIMITS,
    }
    recreate_database()
    flush_redis()
    cli("db", "upgrade", env=env)
    cli("import-grids", str(REPO_ROOT / "data/demo_city/grids.geojson"), env=env)
    cli("import-officers", str(bench_live.ROSTER), env=env)
    trackers = bench_live.enrol_trackers(env)
    results = []
    try:
        for index, name in enumerate(variants):
            url = f"http://127.0.0.1:{args.port}"
            log = open(workdir / f"serve-{name}.log", "wb")
            worker = subprocess.Popen(
                [sys.executable, "-m", "dashboard.cli", "worker"], env=env, stdout=log, stderr=subprocess.STDOUT
            )
            proc = subprocess.Popen(
                [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(args.port), *VARIANTS[name]],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
            try:
                started = wait_healthy(url, proc)
                walks = bench_live.make_walks(args.fixes, 7 + index, trackers)
                shift = (len(variants) - index) * 10_000  # each variant's fixes are newer than the previous one's
                for walk in walks:
                    for fix in walk.fixes:
                        fix["timestamp"] = str(int(fix["timestamp"]) - shift)
                cpu0 = tree_cpu(proc.pid)
                sent = bench_live.send_fixes(url, walks, THREADS)
                cpu = tree_cpu(proc.pid) - cpu0
                rate = sent["sent"] / sent["seconds"]
                results.append((name, rate, sent["accepted"], sent["sent"], 1000 * cpu / max(sent["sent"], 1), started))
                print(
                    f"{name:8s} {rate:7.0f} fixes/s  accepted {sent['accepted']}/{sent['sent']}  "
                    f"HTTP {dict(sorted(sent['status'].items()))}  server CPU {1000 * cpu / max(sent['sent'], 1):.2f} ms/fix  "
                    f"healthy after {started:.1f} s",
                    flush=True,
                )
            finally:
                for p in (proc, worker):
                    p.terminate()
                    try:
                        p.wait(timeout=20)
                    except subprocess.TimeoutExpired:
                        p.kill()
                log.close()
    finally:
        flush_redis()
        drop_database()
    print("\n| server | fixes/s (8 threads) | accepted | server CPU per fix | start to healthy |")
    print("|---|---|---|---|---|")
    for name, rate, accepted, sent, cpu_ms, started in results:
        print(f"| {name} | {rate:,.0f} | {accepted:,}/{sent:,} | {cpu_ms:.2f} ms | {started:.1f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
