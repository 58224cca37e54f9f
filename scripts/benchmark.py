#!/usr/bin/env python
"""GridCommand speed benchmark: prints its figures next to the targets and a naive baseline from the same run.

    python scripts/benchmark.py                    # everything
    python scripts/benchmark.py --only locate      # point location on the demo city
    python scripts/benchmark.py --only api         # create incident over real HTTP (SQLite, PostgreSQL)
    python scripts/benchmark.py --only api --backends postgres --requests 1000 --clients 8
    python scripts/benchmark.py --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench

Targets come from QUALITY.md (speed). Absolute times on shared machines drift, so every figure is
printed with a naive baseline measured in the same run. This is a script, not a test: it never fails
on a slow figure, it reports it (the exit code is non-zero only if the benchmark itself broke, e.g.
the server did not start or an incident was lost).

The API part starts `gridcommand serve` as a subprocess against a fresh benchmark database (a temp
SQLite file; the PostgreSQL database `gridcommand_bench`, created and dropped here) and Redis db 14
(GRIDCOMMAND_BENCH_REDIS_URL, flushed; REDIS_URL is set, so no bundled Redis or worker is started). Only
127.0.0.1 is contacted. Per backend: `--requests` sequential creates from one client (latency; the naive
baseline connects, inserts one row and commits per request), then as many from `--clients` threads at once
(creates/s, and the web process's CPU per create read from /proc: gunicorn's master and workers; the naive
baseline does its inserts from as many threads).
The API needs authentication: each benchmark database gets a shift_leader account for the demo
district (`gridcommand accounts create`) and a service token (`gridcommand accounts token`), sent as
`Authorization: Bearer` with every request. The benchmark server runs with a raised intake rate limit
(GRIDCOMMAND_RATE_LIMIT_INTAKE, see BENCH_RATE_LIMITS): 1,000+ creates a run from one IP would hit the
default 600/minute, which the benchmark is not measuring.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

import contextlib

from dashboard.cli.keys import new_keys
from geo.grids import GridIndex, Level, naive_locate
from geo.importer import load_grids

DEMO_GRIDS = REPO_ROOT / "data" / "demo_city" / "grids.geojson"
DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench"
BENCH_REDIS_URL = os.environ.get("GRIDCOMMAND_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")  # flushed!
SERVER_START_TIMEOUT_S = 90.0
REQUEST_TIMEOUT_S = 30.0

TARGET_VECTORISED = 1_000_000  # points/s
TARGET_ONE_BY_ONE = 200_000  # points/s
TARGET_P95_MS = {"sqlite": 50.0, "postgres": 100.0}
TARGET_CREATES_PER_S = 200.0  # per web process at CLIENTS clients (QUALITY.md), i.e. ≤ 4 ms of its CPU each
TARGET_CPU_MS = 4.0
CLIENTS = 8
BENCH_USERNAME = "bench"
BENCH_REGION = "330199"  # the demo city's district: the account sees (and is pushed) every incident in it
BENCH_RATE_LIMITS = {"GRIDCOMMAND_RATE_LIMIT_INTAKE": "100000/minute"}
BENCH_KEYS = new_keys()  # this run's own keys; nothing starts without them


@dataclass
class Row:
    """One line of the summary table."""

    what: str
    figure: str
    target: str = ""
    baseline: str = ""
    verdict: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # the benchmark broke or data was lost: exit code 1
    notes: list[str] = field(default_factory=list)  # worked around, but worth reading

    def add(self, *args, **kwargs) -> None:
        self.rows.append(Row(*args, **kwargs))

    def print_table(self) -> None:
        headers = ("measure", "figure", "target", "naive baseline (same run)", "")
        cells = [headers] + [(r.what, r.figure, r.target, r.baseline, r.verdict) for r in self.rows]
        widths = [max(_width(c[i]) for c in cells) for i in range(len(headers))]
        line = "-+-".join("-" * w for w in widths)
        print()
        print("=" * len(line))
        print("SUMMARY")
        print("=" * len(line))
        for n, c in enumerate(cells):
            print(" | ".join(_pad(text, w) for text, w in zip(c, widths)))
            if n == 0:
                print(line)
        if self.notes or self.problems:
            print()
        for n in self.notes:
            print(f"NOTE: {n}")
        for p in self.problems:
            print(f"PROBLEM: {p}")


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _rate(n: int, seconds: float) -> str:
    per_s = n / seconds if seconds > 0 else float("inf")
    return f"{per_s / 1e6:.2f}M/s" if per_s >= 1e6 else f"{per_s / 1e3:.1f}k/s" if per_s >= 1e3 else f"{per_s:.0f}/s"


def _ok(good: bool) -> str:
    return "meets target" if good else "BELOW TARGET"


# --------------------------------------------------------------------------------------------- locate


def bench_locate(report: Report, seed: int, n_vec: int, n_one: int, n_naive: int) -> None:
    print("\n## Locate: demo city, points uniform in the district's bounding box")
    t0 = time.perf_counter()
    grids = load_grids(DEMO_GRIDS)
    index = GridIndex(grids, version="bench")
    units = [g for g in grids if g.level == Level.UNIT]
    district = next(g for g in grids if g.level == Level.DISTRICT)
    minx, miny, maxx, maxy = district.geometry.bounds
    print(
        f"loaded and indexed {len(grids)} grids ({len(units)} unit grids) in {time.perf_counter() - t0:.2f} s; "
        f"bbox lon {minx:.4f}..{maxx:.4f}, lat {miny:.4f}..{maxy:.4f}"
    )

    rng = np.random.default_rng(seed)
    lons = rng.uniform(minx, maxx, n_vec)
    lats = rng.uniform(miny, maxy, n_vec)

    # (i) vectorised: median of 3 runs over the same 1M points
    index.locate_codes(lons[:1000], lats[:1000])  # warm-up
    vec_times = []
    for _ in range(3):
        t = time.perf_counter()
        codes = index.locate_codes(lons, lats)
        vec_times.append(time.perf_counter() - t)
    vec_s = statistics.median(vec_times)
    vec_rate = n_vec / vec_s
    inside = float((codes >= 0).mean())
    print(
        f"(i)   vectorised locate_codes: {n_vec:,} points in {vec_s * 1000:.0f} ms (median of 3) "
        f"= {_rate(n_vec, vec_s)}; {inside:.1%} of points fall in a unit grid"
    )

    # (ii) one by one: GridIndex.locate per point, plain Python floats
    one_lons, one_lats = lons[:n_one].tolist(), lats[:n_one].tolist()
    locate = index.locate
    t = time.perf_counter()
    one_paths = [locate(x, y) for x, y in zip(one_lons, one_lats)]
    one_s = time.perf_counter() - t
    one_rate = n_one / one_s
    print(f"(ii)  one by one GridIndex.locate: {n_one:,} points in {one_s * 1000:.0f} ms = {_rate(n_one, one_s)}")

    # (iii) naive: loop over every unit polygon with shapely .covers, on a few points, extrapolated
    naive_lons, naive_lats = lons[:n_naive].tolist(), lats[:n_naive].tolist()
    t = time.perf_counter()
    naive_codes = [naive_locate(units, x, y) for x, y in zip(naive_lons, naive_lats)]
    naive_s = time.perf_counter() - t
    naive_rate = n_naive / naive_s
    print(
        f"(iii) naive (loop over all {len(units)} unit polygons, shapely .covers per point): {n_naive} points in "
        f"{naive_s:.2f} s = {naive_rate:,.0f} points/s (measured on {n_naive} points, extrapolated to points/s)"
    )

    # agreement: vectorised vs one by one (the 200k one-by-one points), and vs naive
    vec_units = [index.unit_codes[i] if i >= 0 else None for i in codes[:n_one].tolist()]
    one_units = [p.unit if p is not None else None for p in one_paths]
    disagree_one = sum(a != b for a, b in zip(vec_units, one_units))
    disagree_naive = sum(a != b for a, b in zip(vec_units[:n_naive], naive_codes))
    agree = disagree_one == 0 and disagree_naive == 0
    print(
        f"agree: {'yes' if agree else 'NO'} (vectorised vs one by one on {n_one:,} points: {disagree_one} differ; "
        f"vectorised vs naive on {n_naive}: {disagree_naive} differ)"
    )
    if not agree:
        report.problems.append(f"locate answers disagree: {disagree_one} (vs one by one), {disagree_naive} (vs naive)")

    report.add(
        "locate, vectorised (1M points)",
        _rate(n_vec, vec_s),
        "≥ 1M/s",
        f"{naive_rate:,.0f}/s (×{vec_rate / naive_rate:,.0f})",
        _ok(vec_rate >= TARGET_VECTORISED),
    )
    report.add(
        f"locate, one by one ({n_one // 1000}k points)",
        _rate(n_one, one_s),
        "≥ 200k/s",
        f"{naive_rate:,.0f}/s (×{one_rate / naive_rate:,.0f})",
        _ok(one_rate >= TARGET_ONE_BY_ONE),
    )
    report.add(
        "locate, naive loop + covers", f"{naive_rate:,.0f}/s", "", f"extrapolated from {n_naive} points", "baseline"
    )
    report.add("locate answers agree", "yes" if agree else "NO", "yes", "", "" if agree else "MISMATCH")


# ------------------------------------------------------------------------------------------------ api

DESCRIPTIONS = (
    "{place}附近发现{name}问题，群众反映已经持续{days}天，请尽快派人处置。",
    "巡查发现{place}一带{name}，影响行人通行，需要相关部门处理。",
    "市民来电：{place}{name}，现场有安全隐患，请核实后处置。",
    "{place}{name}情况较严重，网格员已拍照取证，请派单到责任部门。",
    "接到投诉，{place}存在{name}现象，夜间尤其明显，希望尽快解决。",
)
PLACES = (
    "人民路与解放路交叉口",
    "幸福小区3号楼下",
    "滨江公园东门",
    "中山街菜市场旁",
    "实验小学门口",
    "建设路公交站",
    "和平里社区活动中心",
    "火车站南广场",
    "新华书店对面",
    "老城区胡同口",
)


def _random_point_in(geometry, rng: random.Random) -> tuple[float, float]:
    """A uniform random point strictly inside the polygon (rejection sampling, bounded)."""
    from shapely import Point

    minx, miny, maxx, maxy = geometry.bounds
    for _ in range(200):
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if geometry.contains(Point(x, y)):
            return round(x, 7), round(y, 7)
    p = geometry.representative_point()
    return p.x, p.y


def make_bodies(n: int, categories: list[dict], seed: int) -> list[dict]:
    """Realistic create bodies: a random point inside a random unit grid, a random category, Chinese text."""
    rng = random.Random(seed)
    units = [g for g in load_grids(DEMO_GRIDS) if g.level == Level.UNIT]
    bodies = []
    for i in range(n):
        unit = rng.choice(units)
        lon, lat = _random_point_in(unit.geometry, rng)
        category = rng.choice(categories)
        place = rng.choice(PLACES)
        text = rng.choice(DESCRIPTIONS).format(
            place=place, name=category.get("name_zh") or category["code"], days=rng.randint(1, 9)
        )
        bodies.append(
            {
                "channel": rng.choice(["hotline", "grid_worker", "public", "api"]),
                "category_code": category["code"],
                "description": text,
                "lon": lon,
                "lat": lat,
                "address": f"{unit.name} {place}",
                "external_id": f"bench-{seed}-{i}",
            }
        )
    return bodies


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _gridcommand() -> list[str]:
    exe = shutil.which("gridcommand")
    return [exe] if exe else [sys.executable, "-m", "dashboard.cli"]


def _run_cli(args: list[str], env: dict, *, echo: bool = True) -> str:
    """Run a `gridcommand` subcommand; returns its stdout (printed unless echo=False, e.g. it holds a secret)."""
    proc = subprocess.run(_gridcommand() + args, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(f"`gridcommand {' '.join(args)}` failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}")
    if echo:
        print(f"  gridcommand {' '.join(args)}: {proc.stdout.strip()}")
    return proc.stdout


@dataclass
class BenchAccount:
    """The benchmark's shift-leader account (region BENCH_REGION) and its service token."""

    username: str
    password: str
    token: str

    @property
    def bearer(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def create_bench_account(env: dict, username: str = BENCH_USERNAME) -> BenchAccount:
    """`gridcommand accounts create` (shift_leader, region BENCH_REGION) + `accounts token` in the database of `env`."""
    create = [
        "accounts",
        "create",
        username,
        "--name",
        "基准测试 bench",
        "--role",
        "shift_leader",
        "--region",
        BENCH_REGION,
    ]
    out = _run_cli(create, env, echo=False)
    match = re.search(r"password: ([^;\s]+)", out)
    if not match:
        raise RuntimeError(f"`gridcommand accounts create` printed no password: {out.strip()[:200]!r}")
    lines = [
        line.strip()
        for line in _run_cli(
            ["accounts", "token", username, "--name", "bench", "--kind", "service"], env, echo=False
        ).splitlines()
        if line.strip()
    ]
    if not lines:
        raise RuntimeError("`gridcommand accounts token` printed no token")
    print(
        f"  gridcommand {' '.join(create)}: created {username} (shift_leader, region {BENCH_REGION}); "
        f"service token issued (password and token not shown)"
    )
    return BenchAccount(username, match.group(1), lines[-1])


class Server:
    """`gridcommand serve` in a subprocess; always stopped by stop() (terminate, wait, kill)."""

    def __init__(self, env: dict, workdir: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.stderr_path = workdir / f"serve-{self.port}.stderr"
        self._stderr = open(self.stderr_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            _gridcommand() + ["serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            cwd=REPO_ROOT,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    def stderr_text(self, tail: int = 60) -> str:
        self._stderr.flush()
        lines = self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-tail:])

    def wait_healthy(self, session) -> float:
        import requests

        t0 = time.perf_counter()
        deadline = t0 + SERVER_START_TIMEOUT_S
        last = "no answer"
        while time.perf_counter() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with code {self.proc.returncode} before answering /health")
            try:
                r = session.get(f"{self.base}/health", timeout=2)
                if r.status_code == 200:
                    return time.perf_counter() - t0
                last = f"HTTP {r.status_code}: {r.text[:200]}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.2)
        raise RuntimeError(
            f"server did not answer /health with 200 within {SERVER_START_TIMEOUT_S:.0f} s (last: {last})"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._stderr.close()


def _categories(session, server: Server, report: Report, backend: str) -> list[dict]:
    """Category codes from GET /api/v1/categories; if the endpoint fails, from the shipped catalogue (reported)."""
    r = session.get(f"{server.base}/api/v1/categories", timeout=REQUEST_TIMEOUT_S)
    if r.status_code == 200:
        items = r.json()["items"]
        return [{"code": c["code"], "name_zh": c.get("name_zh")} for c in items]
    errors = [line.strip() for line in server.stderr_text(400).splitlines() if "Error:" in line]
    cause = f"; server log: {errors[-1]}" if errors else ""
    report.notes.append(
        f"[{backend}] GET /api/v1/categories answered HTTP {r.status_code}{cause}; "
        f"the bodies use the category codes of data/categories.yaml (load_catalogue) instead"
    )
    from dispatcher.city.reading import load_catalogue

    return [{"code": c.code, "name_zh": c.name_zh} for c in load_catalogue(REPO_ROOT / "data").categories.values()]


def _percentiles(latencies_s: list[float]) -> dict:
    ms = np.array(latencies_s) * 1000.0
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "max": float(ms.max()),
    }


def _fmt_lat(p: dict) -> str:
    return f"p50 {p['p50']:.1f} / p95 {p['p95']:.1f} / p99 {p['p99']:.1f} / max {p['max']:.1f} ms"


def _naive_inserts(backend: str, target: str, bodies: list[dict]) -> tuple[list[float], float]:
    """The floor: one fresh connection per request, INSERT one row into a scratch table, COMMIT, close."""
    columns = "external_id TEXT, category_code TEXT, lon DOUBLE PRECISION, lat DOUBLE PRECISION, body TEXT"
    insert = "INSERT INTO bench_scratch (external_id, category_code, lon, lat, body) VALUES ({p}, {p}, {p}, {p}, {p})"
    if backend == "sqlite":

        def connect():
            conn = sqlite3.connect(target, timeout=30)
            conn.execute("PRAGMA synchronous=NORMAL")  # the product's engine setting (the file is in WAL mode)
            return conn

        sql = insert.format(p="?")
        ddl = f"CREATE TABLE IF NOT EXISTS bench_scratch (id INTEGER PRIMARY KEY, {columns})"
    else:
        import psycopg

        def connect():
            return psycopg.connect(target)

        sql = insert.format(p="%s")
        ddl = (
            f"CREATE TABLE IF NOT EXISTS bench_scratch (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, {columns})"
        )
    conn = connect()
    conn.execute(ddl)
    conn.commit()
    conn.close()
    latencies = []
    t_all = time.perf_counter()
    for body in bodies:
        t = time.perf_counter()
        conn = connect()
        try:
            conn.execute(
                sql,
                (
                    body["external_id"],
                    body["category_code"],
                    body["lon"],
                    body["lat"],
                    json.dumps(body, ensure_ascii=False),
                ),
            )
            conn.commit()
        finally:
            conn.close()
        latencies.append(time.perf_counter() - t)
    return latencies, time.perf_counter() - t_all


def _tree_cpu_s(pid: int) -> float:
    """User + system CPU seconds of `pid` and its descendants (`gridcommand serve`: gunicorn's master and workers)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        todo.extend(children.get(p, []))
    return total


def _in_lanes(items: list, clients: int, work) -> float:
    """Run `work(lane_items)` on `clients` threads, the items dealt round-robin; returns the wall time."""
    from concurrent.futures import ThreadPoolExecutor

    lanes = [items[i::clients] for i in range(clients)]
    t = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(work, lanes))
    return time.perf_counter() - t


def _concurrent_creates(server: Server, account: BenchAccount, bodies: list[dict], clients: int) -> dict:
    """POST every body from `clients` threads (one HTTP session each): wall time, statuses, the server's CPU."""
    import requests

    statuses: dict[int, int] = {}
    url = f"{server.base}/api/v1/incidents"

    def lane(share: list[dict]) -> None:
        with requests.Session() as session:
            session.headers.update(account.bearer)
            for body in share:
                code = session.post(url, json=body, timeout=REQUEST_TIMEOUT_S).status_code
                statuses[code] = statuses.get(code, 0) + 1

    cpu0 = _tree_cpu_s(server.proc.pid)
    wall = _in_lanes(bodies, clients, lane)
    return {"wall": wall, "statuses": statuses, "cpu_s": _tree_cpu_s(server.proc.pid) - cpu0}


def _naive_concurrent(backend: str, target: str, bodies: list[dict], clients: int) -> float:
    """The naive floor at `clients` clients: each thread connects, inserts one row and commits per request."""
    return _in_lanes(bodies, clients, lambda share: _naive_inserts(backend, target, share))


def _pg_admin(pg_url: str):
    """(psycopg conninfo of the maintenance database, conninfo of the benchmark database, its name)."""
    from sqlalchemy.engine import make_url

    url = make_url(pg_url)
    if not url.database:
        raise ValueError(f"--pg-url {pg_url!r} names no database")
    if url.host not in (None, "127.0.0.1", "localhost"):
        raise ValueError(f"--pg-url must point at 127.0.0.1, not {url.host!r}")
    plain = url.set(drivername="postgresql")

    def conninfo(u):
        return u.render_as_string(hide_password=False)

    return conninfo(plain.set(database="postgres")), conninfo(plain), url.database


def _recreate_pg_database(admin: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not drop_only:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _flush_bench_redis() -> None:
    import redis

    client = redis.Redis.from_url(BENCH_REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


def bench_api_backend(
    report: Report,
    backend: str,
    database_url: str,
    naive_target: str,
    workdir: Path,
    n_requests: int,
    n_warmup: int,
    seed: int,
    clients: int = CLIENTS,
) -> None:
    import requests

    label = "SQLite" if backend == "sqlite" else "PostgreSQL"
    print(f"\n## Create incident over HTTP: {label} ({database_url})")
    env = {**os.environ, **BENCH_KEYS, "DATABASE_URL": database_url, "REDIS_URL": BENCH_REDIS_URL, **BENCH_RATE_LIMITS}
    env.pop("GRIDCOMMAND_GRIDS_FILE", None)
    _run_cli(["db", "upgrade"], env)
    _run_cli(["import-grids", str(DEMO_GRIDS)], env)
    account = create_bench_account(env)
    _flush_bench_redis()

    print(
        "  benchmark server rate limits raised: "
        + ", ".join(f"{k}={v}" for k, v in BENCH_RATE_LIMITS.items())
        + " (the default intake limit is 600/minute per IP)"
    )
    server = Server(env, workdir)
    try:
        with requests.Session() as session:
            session.headers.update(account.bearer)
            started = server.wait_healthy(session)
            print(f"  server up on {server.base} after {started:.1f} s: {session.get(server.base + '/health').json()}")
            categories = _categories(session, server, report, label)
            bodies = make_bodies(n_warmup + 2 * n_requests, categories, seed)
            url = f"{server.base}/api/v1/incidents"
            statuses: dict[int, int] = {}
            failures: list[str] = []

            def post(body: dict) -> int:
                r = session.post(url, json=body, timeout=REQUEST_TIMEOUT_S)
                statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                if r.status_code != 201 and len(failures) < 5:
                    failures.append(f"HTTP {r.status_code}: {r.text[:300]}")
                return r.status_code

            for body in bodies[:n_warmup]:
                post(body)
            latencies = []
            t_all = time.perf_counter()
            sequential = bodies[n_warmup : n_warmup + n_requests]
            for body in sequential:
                t = time.perf_counter()
                post(body)
                latencies.append(time.perf_counter() - t)
            wall = time.perf_counter() - t_all
            burst = _concurrent_creates(server, account, bodies[n_warmup + n_requests :], clients)
            for code, n in burst["statuses"].items():
                statuses[code] = statuses.get(code, 0) + n
            created = statuses.get(201, 0)
            listed = session.get(f"{url}?page_size=1", timeout=REQUEST_TIMEOUT_S)
            total = listed.json().get("total") if listed.status_code == 200 else None

        p = _percentiles(latencies)
        print(
            f"  {n_requests} sequential POST /api/v1/incidents (after {n_warmup} warm-up): {_fmt_lat(p)}; "
            f"{n_requests / wall:.0f} req/s; statuses {dict(sorted(statuses.items()))}"
        )
        per_s, cpu_ms = n_requests / burst["wall"], 1000.0 * burst["cpu_s"] / n_requests
        print(
            f"  {n_requests} POST /api/v1/incidents from {clients} clients: {per_s:.0f} creates/s; web process CPU "
            f"{cpu_ms:.2f} ms per create ({burst['cpu_s']:.1f} CPU-s in {burst['wall']:.1f} s)"
        )
        for f in failures:
            print(f"    non-201 answer: {f}")
        lost = None if total is None else created - total
        print(
            f"  lost: {lost if lost is not None else '?'} (201 answers incl. warm-up: {created}; "
            f"GET /api/v1/incidents?page_size=1 total: {total if total is not None else listed.status_code})"
        )

        naive_lat, naive_wall = _naive_inserts(backend, naive_target, sequential)
        np_ = _percentiles(naive_lat)
        naive_burst = _naive_concurrent(backend, naive_target, bodies[n_warmup + n_requests :], clients)
        print(
            f"  naive: connect+insert+commit per request ({n_requests} rows, scratch table, same database): "
            f"{_fmt_lat(np_)}; {n_requests / naive_wall:.0f} req/s; from {clients} clients "
            f"{n_requests / naive_burst:.0f} req/s"
        )
    except BaseException:
        print(f"  server stderr (last 60 lines):\n{server.stderr_text(60)}", file=sys.stderr)
        raise
    finally:
        server.stop()

    target = TARGET_P95_MS[backend]
    non_201 = 2 * n_requests + n_warmup - created
    report.add(
        f"create incident p95, {label}",
        f"{p['p95']:.1f} ms",
        f"≤ {target:.0f} ms",
        f"{np_['p95']:.1f} ms (naive: connect+insert+commit per request)",
        _ok(p["p95"] <= target),
    )
    report.add(
        f"create incident p50/p99/max, {label}",
        f"{p['p50']:.1f} / {p['p99']:.1f} / {p['max']:.1f} ms",
        "",
        f"{np_['p50']:.1f} / {np_['p99']:.1f} / {np_['max']:.1f} ms",
        "",
    )
    report.add(
        f"create incident throughput, {label}",
        f"{n_requests / wall:.0f} req/s",
        "≥ 50/s per process",
        f"{n_requests / naive_wall:.0f} req/s",
        _ok(n_requests / wall >= 50),
    )
    report.add(
        f"create incident throughput, {clients} clients, {label}",
        f"{per_s:.0f} creates/s",
        f"≥ {TARGET_CREATES_PER_S:.0f}/s per process",
        f"{n_requests / naive_burst:.0f} req/s (naive, {clients} clients)",
        _ok(per_s >= TARGET_CREATES_PER_S),
    )
    report.add(
        f"web process CPU per create, {clients} clients, {label}",
        f"{cpu_ms:.2f} ms",
        f"≤ {TARGET_CPU_MS:.0f} ms",
        "",
        _ok(cpu_ms <= TARGET_CPU_MS),
    )
    report.add(
        f"lost incidents, {label}",
        str(lost) if lost is not None else "?",
        "0",
        f"{created} created, {total} listed, {non_201} non-201",
        "ok" if lost == 0 and non_201 == 0 else "LOST/FAILED",
    )
    if lost != 0:
        report.problems.append(f"[{label}] {created} answers 201 but the list total is {total}")
    if non_201:
        report.problems.append(f"[{label}] {non_201} creates did not answer 201: {dict(sorted(statuses.items()))}")


def bench_api(
    report: Report, pg_url: str, n_requests: int, n_warmup: int, seed: int, *, clients: int, backends: str
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="gridcommand-bench-"))
    try:
        sqlite_path = workdir / "bench.sqlite"
        try:
            if backends in ("both", "sqlite"):
                bench_api_backend(
                    report,
                    "sqlite",
                    f"sqlite:///{sqlite_path}",
                    str(sqlite_path),
                    workdir,
                    n_requests,
                    n_warmup,
                    seed,
                    clients,
                )
        except Exception as exc:  # report and go on with PostgreSQL
            report.problems.append(f"[SQLite] API benchmark failed: {exc}")
            print(f"SQLite API benchmark failed: {exc}", file=sys.stderr)
        if backends == "sqlite":
            return
        admin, bench_conninfo, name = _pg_admin(pg_url)
        try:
            _recreate_pg_database(admin, name)
        except Exception as exc:
            report.problems.append(f"[PostgreSQL] cannot create database {name}: {exc}")
            print(f"PostgreSQL unavailable: {exc}", file=sys.stderr)
            return
        try:
            bench_api_backend(
                report, "postgres", pg_url, bench_conninfo, workdir, n_requests, n_warmup, seed + 1, clients
            )
        except Exception as exc:
            report.problems.append(f"[PostgreSQL] API benchmark failed: {exc}")
            print(f"PostgreSQL API benchmark failed: {exc}", file=sys.stderr)
        finally:
            _recreate_pg_database(admin, name, drop_only=True)
    finally:
        with contextlib.suppress(Exception):
            _flush_bench_redis()
        shutil.rmtree(workdir, ignore_errors=True)


# ----------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=["locate", "api"], help="run one part only")
    parser.add_argument(
        "--pg-url",
        default=os.environ.get("GRIDCOMMAND_BENCH_PG_URL", DEFAULT_PG_URL),
        help="PostgreSQL URL of the benchmark database (dropped and re-created!) [%(default)s]",
    )
    parser.add_argument("--requests", type=int, default=1000, help="timed creates per backend [%(default)s]")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent API clients [%(default)s]")
    parser.add_argument(
        "--backends", choices=["both", "sqlite", "postgres"], default="both", help="API backends [%(default)s]"
    )
    parser.add_argument("--warmup", type=int, default=50, help="warm-up creates per backend [%(default)s]")
    parser.add_argument("--points", type=int, default=1_000_000, help="points for vectorised locate [%(default)s]")
    parser.add_argument("--one-by-one", type=int, default=200_000, help="points for per-call locate [%(default)s]")
    parser.add_argument("--naive-points", type=int, default=300, help="points for the naive loop [%(default)s]")
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args(argv)
    if not (1 <= args.requests <= 100_000 and 0 <= args.warmup <= 10_000 and 1 <= args.clients <= 64):
        parser.error("--requests must be 1..100000, --warmup 0..10000 and --clients 1..64")
    if not (1 <= args.naive_points <= args.one_by_one <= args.points):
        parser.error("need 1 <= --naive-points <= --one-by-one <= --points")

    print(
        f"GridCommand benchmark · Python {sys.version.split()[0]} · {os.cpu_count()} CPUs · "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    report = Report()
    if args.only in (None, "locate"):
        bench_locate(report, args.seed, args.points, args.one_by_one, args.naive_points)
    if args.only in (None, "api"):
        report.notes.append(
            "API: every request carries 'Authorization: Bearer <service token>' of a shift_leader "
            f"account (region {BENCH_REGION}); the benchmark server runs with "
            + ", ".join(f"{k}={v}" for k, v in BENCH_RATE_LIMITS.items())
            + " (default intake limit: 600/minute per IP)"
        )
        bench_api(
            report, args.pg_url, args.requests, args.warmup, args.seed, clients=args.clients, backends=args.backends
        )
    report.print_table()
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
