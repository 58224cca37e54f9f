#!/usr/bin/env python
"""Saturated /osmand ingest under `gridcommand serve` as shipped, next to a bare Flask route under the same server.

    python scripts/bench_serve.py                                  # wrk for 10 s per run, variants serve,bare, 3 rounds
    python scripts/bench_serve.py --variants serve,bare,serve2 --rounds 5 --seconds 8
    python scripts/bench_serve.py --old-tree /tmp/old             # also an older checkout's `serve` ("old")

QUALITY.md's target: ≥ 1,500 accepted fixes/s per web process, ≤ 0.5 ms of server CPU per fix, history written
within 1 s of acceptance. Each variant runs on PostgreSQL (`--database`, created and dropped) and a Redis database
(`--redis-url`, flushed before each run, so every tracker starts without a track and every fix is accepted):
- `serve`: `gridcommand serve` as shipped (gunicorn + gevent on PostgreSQL, one process) with one `gridcommand worker`;
- `serve2`: the same with two web processes on the port;
- `bare`: the floor, a Flask route that answers /osmand without doing anything, under the same gunicorn command;
- `old`: `gridcommand serve` from another source tree (`--old-tree`, e.g. `git archive` of an older commit);
- `dev`, `gthread`: `serve --dev` (Werkzeug's server) and `serve --worker-class gthread`.
Load: wrk (1 thread, 8 connections, `--seconds`; `apt-get install wrk`), else 8 Python threads. Every
enrolled tracker walks ~2 m a second. Printed per run: fixes/s, server CPU ms per fix (the web process tree), the
worker's CPU ms per fix, and the history lag: a probe tracker reports 10 times a second during the load and the
time from each accepted answer to its row being visible in PostgreSQL is taken. The load generator shares the 2
cores with the server: compare the variants of one run (CPU per fix is the steadier figure). A script, not a test.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

SCRIPTS = Path(__file__).resolve().parent
REPO_ROOT = SCRIPTS.parent
sys.path[:0] = [str(REPO_ROOT), str(SCRIPTS)]

import bench_live  # tracker enrolment, walks, the Python load generator, CPU seconds

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
PRODUCT = {  # `gridcommand serve` and its arguments; dev/gthread: the servers README's "Why gunicorn" compares
    "serve": [],
    "serve2": ["--workers", "2"],
    "old": [],
    "dev": ["--dev"],
    "gthread": ["--worker-class", "gthread"],
}
PROBE_EVERY_S = 0.1
WRK_LUA = """
local threads = {}
setup = function(thread) table.insert(threads, thread) end
paths, accepted, i = {}, 0, 0
dofile("%s")
request = function()
  i = math.min(i + 1, #paths)
  return wrk.format("GET", paths[i])
end
response = function(status, headers, body)
  if status == 200 and body:find('"accepted":%%s*true') then accepted = accepted + 1 end
end
done = function(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("accepted") end
  io.write(string.format("RESULT %%d %%d %%.6f\\n", summary.requests, total, summary.duration / 1e6))
end
"""


def bare_app():
    """The floor: a Flask app whose /osmand answers like the product's without doing anything (gunicorn's factory)."""
    from flask import Flask, jsonify

    app = Flask("bare")

    @app.get("/osmand")
    def osmand():
        return jsonify(accepted=True, reason=None, events=[])

    return app


@dataclass
class Run:
    variant: str
    sent: int
    accepted: int
    seconds: float
    server_cpu_s: float
    worker_cpu_s: float
    lags_s: list[float] = field(default_factory=list)
    rows: int | None = None

    @property
    def rate(self) -> float:
        return self.sent / self.seconds

    def per_fix_ms(self, cpu_s: float) -> float:
        return 1000 * cpu_s / max(self.sent, 1)

    def line(self) -> str:
        lag = "-"
        if self.lags_s:
            lags = sorted(self.lags_s)
            lag = f"p50 {lags[len(lags) // 2] * 1000:.0f} / max {lags[-1] * 1000:.0f} ms ({len(lags)} probes)"
        rows = "" if self.rows is None else f", {self.rows:,} history rows"
        return (
            f"{self.variant:7s} {self.rate:7,.0f} fixes/s  accepted {self.accepted:,}/{self.sent:,}{rows}  "
            f"server CPU {self.per_fix_ms(self.server_cpu_s):.3f} ms/fix  worker {self.per_fix_ms(self.worker_cpu_s):.3f}"
            f" ms/fix  history lag {lag}"
        )


def tree_cpu(pid: int) -> float:
    """CPU seconds of `pid` and all its descendants (the supervisor, gunicorn's master and workers)."""
    out = subprocess.run(["ps", "-e", "-o", "pid=,ppid="], capture_output=True, text=True).stdout
    children: dict[int, list[int]] = {}
    for line in out.splitlines():
        if line.strip():
            p, pp = map(int, line.split())
            children.setdefault(pp, []).append(p)
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += bench_live.cpu_seconds(p)
        todo.extend(children.get(p, []))
    return total


def database(admin: str, name: str, *, create: bool) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if create:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def wait_ready(url: str, proc: subprocess.Popen, timeout_s: float = 120) -> None:
    import requests

    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout_s:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            if requests.get(url, timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def fix_paths(trackers: dict[str, str], n_fixes: int, seed: int, probe: str) -> list[str]:
    """One pass of OsmAnd GET paths: device by device in time order, 1 s apart, all in the past; none of `probe`."""
    walks = [w for w in bench_live.make_walks(n_fixes, seed, trackers) if w.officer_id != probe]
    longest = max(len(w.fixes) for w in walks)
    start = int(time.time()) - longest - 60
    order = [w.fixes[k] | {"timestamp": str(start + k)} for k in range(longest) for w in walks if k < len(w.fixes)]
    return [f"/osmand?{urlencode(f)}" for f in order]


def send(base: str, paths: list[str], workdir: Path, seconds: int) -> tuple[int, int, float]:
    """(sent, accepted, seconds): wrk for `seconds` if installed (more requests than paths repeat the last one, which
    is then filtered as a duplicate: not accepted), else 8 Python threads over all of `paths`."""
    if shutil.which("wrk"):
        data = workdir / "paths.lua"
        data.write_text("".join(f'paths[#paths+1] = "{p}"\n' for p in paths), encoding="utf-8")
        script = workdir / "osmand.lua"
        script.write_text(WRK_LUA % data, encoding="utf-8")
        out = subprocess.run(
            ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", str(script), base],
            capture_output=True,
            text=True,
            timeout=seconds + 120,
        ).stdout
        found = re.search(r"RESULT (\d+) (\d+) ([\d.]+)", out)
        if not found:
            raise RuntimeError(f"wrk said: {out[-500:]}")
        return int(found[1]), int(found[2]), float(found[3])
    walks = [
        bench_live.Walk("", "", [dict(pair.split("=", 1) for pair in p.split("?", 1)[1].split("&"))]) for p in paths
    ]
    sent = bench_live.send_fixes(base, walks, 8)
    return sent["sent"], sent["accepted"], sent["seconds"]


class Probe:
    """One tracker reporting every PROBE_EVERY_S during the load; the lag from each accepted answer to its history
    row being visible in PostgreSQL (rows of one officer are written in the order they were accepted)."""

    def __init__(self, base: str, identifier: str, officer: str, pg_url: str):
        self.base, self.identifier, self.officer, self.pg_url = base, identifier, officer, pg_url
        self.answered: list[float] = []
        self.written: dict[int, float] = {}
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.report), threading.Thread(target=self.poll)]

    def __enter__(self) -> Probe:
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join()

    def report(self) -> None:
        import requests

        lon, lat, at = 120.16, 30.27, int(time.time()) - 3600
        with requests.Session() as session:
            for k in range(100_000):
                if self.stop.is_set():
                    return
                params = {
                    "id": self.identifier,
                    "lat": f"{lat:.7f}",
                    "lon": f"{lon + k * 1e-5:.7f}",
                    "timestamp": at + k,
                }
                if session.get(f"{self.base}/osmand", params=params, timeout=30).json().get("accepted"):
                    self.answered.append(time.perf_counter())
                time.sleep(PROBE_EVERY_S)

    def poll(self) -> None:
        import psycopg

        give_up, query = float("inf"), "SELECT count(*) FROM officer_position WHERE officer_id = %s"
        with psycopg.connect(self.pg_url, autocommit=True) as conn:
            (base,) = conn.execute(query, (self.officer,)).fetchone()  # rows of earlier runs
            while len(self.written) < len(self.answered) or not self.stop.is_set():
                if self.stop.is_set():
                    give_up = min(give_up, time.perf_counter() + 10)
                    if time.perf_counter() > give_up:
                        return
                (count,) = conn.execute(query, (self.officer,)).fetchone()
                now = time.perf_counter()
                for n in range(len(self.written), count - base):
                    self.written[n] = now
                time.sleep(0.02)

    def lags(self) -> list[float]:
        return [self.written[n] - t for n, t in enumerate(self.answered) if n in self.written]


def history_rows(pg_url: str, probe: str) -> int:
    """History rows of every officer but the probe."""
    import psycopg

    with psycopg.connect(pg_url) as conn:
        return conn.execute("SELECT count(*) FROM officer_position WHERE officer_id <> %s", (probe,)).fetchone()[0]


def run_variant(name: str, args, env: dict, trackers: dict[str, str], probe: tuple[str, str], seed: int) -> Run:
    import redis

    base = f"http://127.0.0.1:{args.port}"
    redis.Redis.from_url(args.redis_url).flushdb()
    workdir = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    env = {**env, "PYTHONPATH": str(args.old_tree)} if name == "old" else env
    cwd = args.old_tree if name == "old" else REPO_ROOT  # `python -m` puts the working directory first on the path
    log = open(workdir / "serve.log", "wb")
    procs: list[subprocess.Popen] = []
    try:
        if name == "bare":
            from dashboard.cli.run import gunicorn_command
            from dispatcher.settings import Settings

            command = gunicorn_command(Settings(DATABASE_URL=env["DATABASE_URL"]), "127.0.0.1", args.port)
            command = [*command[:-1], "--chdir", str(SCRIPTS), "bench_serve:bare_app()"]
        else:
            command = [sys.executable, "-m", "dashboard.cli", "serve", "--port", str(args.port), *PRODUCT[name]]
            worker = [sys.executable, "-m", "dashboard.cli", "worker"]
            procs.append(subprocess.Popen(worker, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT))
        server = subprocess.Popen(command, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        procs.append(server)
        wait_ready(f"{base}/osmand", server)
        paths = fix_paths(trackers, args.fixes, seed, probe[0])
        rows0 = None if name == "bare" else history_rows(args.pg_url, probe[0])
        worker_pid = procs[0].pid if name != "bare" else None
        cpu0, wcpu0 = tree_cpu(server.pid), bench_live.cpu_seconds(worker_pid) if worker_pid else 0.0
        if name == "bare":
            sent, accepted, seconds = send(base, paths, workdir, args.seconds)
            cpu, wcpu, lags = tree_cpu(server.pid) - cpu0, 0.0, []
        else:
            with Probe(base, probe[1], probe[0], args.pg_url) as watcher:
                sent, accepted, seconds = send(base, paths, workdir, args.seconds)
                cpu, wcpu = tree_cpu(server.pid) - cpu0, bench_live.cpu_seconds(worker_pid) - wcpu0
            lags = watcher.lags()
        rows = None if rows0 is None else history_rows(args.pg_url, probe[0]) - rows0
        return Run(name, sent, accepted, seconds, cpu, wcpu, lags, rows)
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)


def prepare(args) -> tuple[dict, dict[str, str]]:
    """A fresh database with the demo city, its roster and a tracker for every officer; the servers' environment."""
    from dashboard.cli.keys import new_keys

    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("GRIDCOMMAND_")},
        **new_keys(),
        "DATABASE_URL": args.pg_url.replace("postgresql://", "postgresql+psycopg://"),
        "REDIS_URL": args.redis_url,
        "GRIDCOMMAND_VAR_DIR": str(Path(tempfile.gettempdir()) / f"bench-serve-{args.database}"),
        **bench_live.BENCH_RATE_LIMITS,
    }
    database(PG_ADMIN, args.database, create=True)
    for step in (["db", "upgrade"], ["import-grids", str(REPO_ROOT / "data/demo_city/grids.geojson")]):
        subprocess.run([sys.executable, "-m", "dashboard.cli", *step], env=env, check=True, capture_output=True)
    subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "import-officers", str(bench_live.ROSTER)],
        env=env,
        check=True,
        capture_output=True,
    )
    return env, bench_live.enrol_trackers(env)


def summary(runs: list[Run]) -> None:
    print("\n| variant | runs | fixes/s (median) | server CPU per fix (median, min–max) | history lag max |")
    print("|---|---|---|---|---|")
    for name in dict.fromkeys(r.variant for r in runs):
        mine = [r for r in runs if r.variant == name]
        cpu = [r.per_fix_ms(r.server_cpu_s) for r in mine]
        lags = [max(r.lags_s) for r in mine if r.lags_s]
        lag = f"{max(lags) * 1000:.0f} ms" if lags else "-"
        print(
            f"| {name} | {len(mine)} | {statistics.median(r.rate for r in mine):,.0f} | "
            f"{statistics.median(cpu):.3f} ms ({min(cpu):.3f}–{max(cpu):.3f}) | {lag} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixes", type=int, default=40_000, help="fixes prepared per run (more than are sent)")
    parser.add_argument("--seconds", type=int, default=10, help="how long wrk sends")
    parser.add_argument("--variants", default="serve,bare")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=8631)
    parser.add_argument("--database", default="gridcommand_serve_bench")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/9")
    parser.add_argument("--old-tree", type=Path, help="source tree of the `old` variant")
    args = parser.parse_args(argv)
    args.pg_url = f"postgresql://postgres@127.0.0.1:5432/{args.database}"
    variants = args.variants.split(",") + (["old"] if args.old_tree and "old" not in args.variants else [])
    print(f"load: {'wrk, 1 thread, 8 connections' if shutil.which('wrk') else '8 Python threads (no wrk)'}")
    env, trackers = prepare(args)
    probe = sorted(trackers.items())[0]
    runs: list[Run] = []
    try:
        for round_ in range(args.rounds):
            for index, name in enumerate(variants):
                runs.append(run_variant(name, args, env, trackers, probe, seed=7 + index + 10 * round_))
                print(runs[-1].line(), flush=True)
    finally:
        database(PG_ADMIN, args.database, create=False)
    summary(runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
