#!/usr/bin/env python
"""GridCommand live benchmark: push latency, position ingest and the command-center page, against a running stack.

    python scripts/bench_live.py                                   # 1, 50, 100 clients; 60 events; 4,000 fixes
    python scripts/bench_live.py --clients 1,50,100 --events 60 --fixes 4000
    python scripts/bench_live.py --only page --open-incidents 1000  # one part (repeatable: --only push --only page)
    python scripts/bench_live.py --cluster --create-latency          # nginx + 2 web processes on PostgreSQL, 1,000
        --pg-url postgresql+psycopg://postgres@127.0.0.1:5432/NAME   # clients (scripts/live_scale.py; the database is
        --redis-url redis://127.0.0.1:6379/N --port 8130             # dropped and created, the Redis db flushed)

Targets come from QUALITY.md (speed). Every figure is printed with a naive baseline measured in the
same run, because absolute times on these shared machines drift. This is a script, not a test: it
never fails on a slow figure; the exit code is non-zero only if the benchmark broke or data was lost
(a missing delivery, a missing history row).

What runs: `gridcommand serve` and `gridcommand worker` as subprocesses over a temp SQLite file with the
demo city and roster, Redis db 12 of the Redis on 127.0.0.1:6379 (flushed at start and end), and a
PostgreSQL database `gridcommand_bench_live` (created and dropped) for one baseline. Only 127.0.0.1
is contacted.

Authentication: the database gets a shift_leader account for the demo district 330199
(`gridcommand accounts create`) and a service token (`gridcommand accounts token`). API calls send
`Authorization: Bearer <token>`; every Socket.IO client signs in with its own session (POST
/api/v1/auth/login with Origin: <base>) and connects with that `session` cookie, so the server puts
it in the rooms of its scope: grid:330199 and triage. The benchmark server runs with raised rate
limits (BENCH_RATE_LIMITS: intake, OsmAnd, sign-in), since one IP sends all of the load here.

1. Commit-to-client push latency: N signed-in Socket.IO clients in this process (websocket transport)
   in room "grid:330199" (every incident here is in the district); incidents created one at a time over
   HTTP; latency = arrival of the "incident.report" push minus the moment the 201 answer arrived.
   Floor: the same clients, events published straight into the `flask-socketio` Redis channel from
   this process to room "grid:330199" (no database, no outbox, no RQ).
2. Position ingest: real OsmAnd GET requests from 8 threads, each fix carrying the identifier of a tracker
   enrolled for its officer beforehand (in process, as `gridcommand devices add` does); then the worker's
   batched history rows and "positions" pushes (as received in room "grid:330199"). Baseline: the same
   fixes, one row per session + commit, in process.
3. Command-center page, with `--open-incidents` open (topped up first; QUALITY.md's target says 1,000):
   bytes of what a signed-in browser fetches on first load (page, Dash layout and dependencies, the
   callback that renders the page into the shell, the grid GeoJSON it references) and, with Chromium
   and Playwright, signed in through the /login form first, the time from navigating to / until the
   grid polygons are drawn (SVG `path.leaflet-interactive`, or a painted overlay canvas when the map
   uses `preferCanvas`).

A full run takes about 2–2.5 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

SCRIPTS = Path(__file__).resolve().parent
REPO_ROOT = SCRIPTS.parent
sys.path.insert(0, str(REPO_ROOT))
sys.path.insert(0, str(SCRIPTS))

from benchmark import (
    BENCH_KEYS,
    BENCH_REGION,
    DEMO_GRIDS,
    BenchAccount,
    Report,
    Server,
    _gridcommand,
    _ok,
    _pg_admin,
    _random_point_in,
    _recreate_pg_database,
    _run_cli,
    create_bench_account,
)

from geo.grids import Level
from geo.importer import load_grids
from workers import keys

REDIS_URL = "redis://127.0.0.1:6379/12"
PUSH_ROOM = f"grid:{BENCH_REGION}"  # the room the benchmark's signed-in clients are in (with "triage")
BENCH_RATE_LIMITS = {
    "GRIDCOMMAND_RATE_LIMIT_INTAKE": "100000/minute",  # ~1,000 creates from one IP
    "GRIDCOMMAND_RATE_LIMIT_OSMAND": "1000000/minute",  # 4,000 fixes in seconds from one IP
    "GRIDCOMMAND_RATE_LIMIT_LOGIN": "10000/minute",
    "GRIDCOMMAND_RATE_LIMIT_DEVICE": "100000/minute",  # the wrk pass sends each device's fixes 1 s apart
}  # every Socket.IO client signs in (up to 100)
ROSTER = REPO_ROOT / "data" / "demo_city" / "officers.yaml"
PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench_live"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
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
CATEGORY = "020101"  # 暴露垃圾 (exposed garbage)
REQUEST_TIMEOUT_S = 30.0
CONNECT_TIMEOUT_S = 10.0
DELIVERY_WAIT_S = 10.0  # after the last event of a round: how long missing deliveries may still arrive
WORKER_START_TIMEOUT_S = 60.0
EVENT_INTERVAL_S = 0.2  # ~5 incidents a second
FIX_INTERVAL_S = 5  # seconds between a device's successive fixes (their `timestamp`)
FIX_STEP_M = 2.0  # metres walked between two fixes
INGEST_THREADS = 8
POSITIONS_SETTLE_S = 3.0
PAGE_TIMEOUT_MS = 30_000

TARGET_PUSH_P95_MS = 500.0
TARGET_FIXES_PER_S = 400.0
TARGET_STALENESS_S = 2.0
TARGET_TTI_S = 3.0


# ----------------------------------------------------------------------------------------- helpers


def _ms(values_s: list[float]) -> dict | None:
    if not values_s:
        return None
    ms = np.array(values_s) * 1000.0
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "max": float(ms.max()),
        "n": len(values_s),
    }


def _fmt(p: dict | None) -> str:
    return "n/a" if p is None else f"p50 {p['p50']:.1f} / p95 {p['p95']:.1f} / max {p['max']:.1f} ms"


def _kib(n: int) -> str:
    return f"{n / 1024:,.1f} KiB" if n < 1024 * 1024 else f"{n / 1024 / 1024:,.2f} MiB"


def _flush_redis() -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.flushdb()
    finally:
        client.close()


@dataclass
class Auth:
    """How this benchmark authenticates against the server at `base`."""

    base: str
    account: BenchAccount

    def api_session(self):
        """A requests.Session that sends the bearer token with every request."""
        import requests

        session = requests.Session()
        session.headers.update(self.account.bearer)
        return session

    def sign_in(self, session=None) -> str:
        """POST /api/v1/auth/login (as a browser would: Origin header); returns the `session` cookie value."""
        import requests

        own = session is None
        session = session or requests.Session()
        try:
            r = session.post(
                f"{self.base}/api/v1/auth/login",
                headers={"Origin": self.base},
                json={"username": self.account.username, "password": self.account.password},
                timeout=REQUEST_TIMEOUT_S,
            )
            if r.status_code != 200:
                raise RuntimeError(f"sign-in answered HTTP {r.status_code}: {r.text[:200]}")
            cookie = r.cookies.get("session") or session.cookies.get("session")
            if not cookie:
                raise RuntimeError("sign-in answered 200 but set no 'session' cookie")
            return cookie
        finally:
            if own:
                session.close()


class Worker:
    """`gridcommand worker` in a subprocess; always stopped by stop() (terminate, wait, kill)."""

    def __init__(self, env: dict, workdir: Path):
        self.stderr_path = workdir / "worker.stderr"
        self._stderr = open(self.stderr_path, "w", encoding="utf-8")
        self.proc = subprocess.Popen(
            _gridcommand() + ["worker"], env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=self._stderr
        )

    def wait_registered(self) -> float:
        """Until the RQ worker has registered itself in Redis (it then listens on its queue)."""
        import redis
        from rq import Worker as RQWorker

        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        t0 = time.perf_counter()
        try:
            while time.perf_counter() - t0 < WORKER_START_TIMEOUT_S:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"worker exited with code {self.proc.returncode}:\n{self.stderr_text()}")
                if RQWorker.all(connection=client):
                    return time.perf_counter() - t0
                time.sleep(0.2)
        finally:
            client.close()
        raise RuntimeError(f"worker did not register within {WORKER_START_TIMEOUT_S:.0f} s")

    def stderr_text(self, tail: int = 40) -> str:
        self._stderr.flush()
        lines = self.stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
        return "\n".join(lines[-tail:])

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self._stderr.close()


# ------------------------------------------------------------------------------ 1. push latency


class Listener:
    """One Socket.IO client that records when each incident's first push arrived (time.perf_counter)."""

    def __init__(self, names: tuple[str, ...]):
        import socketio

        self.names = names
        self.arrivals: dict[str, float] = {}
        self.positions: list[tuple[float, list]] = []
        self.sio = socketio.Client(reconnection=False, handle_sigint=False)
        self.sio.on("incident", self._incident)
        self.sio.on("positions", self._positions)

    def _incident(self, message) -> None:
        t = time.perf_counter()
        if isinstance(message, dict) and message.get("name") in self.names:
            self.arrivals.setdefault(str(message.get("incident_id")), t)

    def _positions(self, batch) -> None:
        self.positions.append((time.perf_counter(), batch if isinstance(batch, list) else []))

    def connect(self, base: str, cookie: str) -> None:
        """Connect with a signed-in session: the server joins this client to the rooms of its scope."""
        self.sio.connect(
            base, headers={"Cookie": f"session={cookie}"}, transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_S
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):  # cleanup only
            self.sio.disconnect()


def sign_in_many(auth: Auth, n: int) -> list[str]:
    """n separate sessions (one per client), 4 sign-ins at a time (each checks the password hash)."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(lambda _: auth.sign_in(), range(n)))


def connect_listeners(auth: Auth, n: int, names: tuple[str, ...], cookies: list[str] | None = None) -> list[Listener]:
    """n Socket.IO clients, each with its own signed-in session (signed in here unless `cookies` are given)."""
    cookies = cookies if cookies is not None else sign_in_many(auth, n)
    listeners = []
    try:
        for cookie in cookies[:n]:
            listener = Listener(names)
            listener.connect(auth.base, cookie)
            listeners.append(listener)
        deadline = time.monotonic() + CONNECT_TIMEOUT_S
        while time.monotonic() < deadline and not all(lst.sio.connected for lst in listeners):
            time.sleep(0.05)
        if not all(lst.sio.connected for lst in listeners):
            raise RuntimeError("not every Socket.IO client connected")
        time.sleep(0.5)  # let the server finish its connect handlers (join the rooms of the scope)
        return listeners
    except BaseException:
        close_listeners(listeners)
        raise


def close_listeners(listeners: list[Listener]) -> None:
    """Disconnect all at once: websocket-client waits up to 3 s per socket for the server's close frame."""
    threads = [threading.Thread(target=lst.close, daemon=True) for lst in listeners]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 15
    for t in threads:
        t.join(timeout=max(0.0, deadline - time.monotonic()))


def wait_deliveries(listeners: list[Listener], ids: list[str]) -> None:
    deadline = time.monotonic() + DELIVERY_WAIT_S
    while time.monotonic() < deadline:
        if all(i in lst.arrivals for lst in listeners for i in ids):
            return
        time.sleep(0.05)


@dataclass
class Latency:
    last: dict | None  # per event: latency to the last client that received it
    every: dict | None  # every delivery
    missing: int
    negative: int  # deliveries that arrived before the 201 answer was read (t_commit is taken late)


def latencies(listeners: list[Listener], t_sent: dict[str, float]) -> Latency:
    last, every, missing, negative = [], [], 0, 0
    for incident_id, t0 in t_sent.items():
        got = [lst.arrivals[incident_id] - t0 for lst in listeners if incident_id in lst.arrivals]
        missing += len(listeners) - len(got)
        negative += sum(x < 0 for x in got)
        every.extend(got)
        if got:
            last.append(max(got))
    return Latency(_ms(last), _ms(every), missing, negative)


def paced(n: int, interval: float):
    """Yield 0..n-1, sleeping so that item i starts at i × interval."""
    start = time.perf_counter()
    for i in range(n):
        delay = start + i * interval - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield i


def make_incident_bodies(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    units = [g for g in load_grids(DEMO_GRIDS) if g.level == Level.UNIT]
    bodies = []
    for i in range(n):
        unit = rng.choice(units)
        lon, lat = _random_point_in(unit.geometry, rng)
        bodies.append(
            {
                "channel": "api",
                "category_code": CATEGORY,
                "lon": lon,
                "lat": lat,
                "description": f"实时推送测试：{unit.name}发现暴露垃圾，请处置（bench_live #{i}）",
                "external_id": f"bench-live-{seed}-{i}",
            }
        )
    return bodies


def run_incidents(
    session, base: str, bodies: list[dict], problems: list[str]
) -> tuple[dict[str, float], dict[str, float], list[dict]]:
    """Create incidents one at a time (~5/s): (t_commit = when the 201 arrived, t_sent = before the POST, bodies)."""
    t_commit: dict[str, float] = {}
    t_sent: dict[str, float] = {}
    created: list[dict] = []
    for i in paced(len(bodies), EVENT_INTERVAL_S):
        t0 = time.perf_counter()
        r = session.post(f"{base}/api/v1/incidents", json=bodies[i], timeout=REQUEST_TIMEOUT_S)
        t = time.perf_counter()
        if r.status_code != 201:
            problems.append(f"POST /api/v1/incidents answered HTTP {r.status_code}: {r.text[:200]}")
            continue
        body = r.json()
        t_commit[str(body["id"])] = t
        t_sent[str(body["id"])] = t0
        created.append(body)
    return t_commit, t_sent, created


def run_floor(bodies: list[dict], tag: str) -> dict[str, float]:
    """The bare broadcast floor: publish straight into the Flask-SocketIO Redis channel (to the clients' room
    PUSH_ROOM), same payload size."""
    import socketio

    manager = socketio.RedisManager(REDIS_URL, channel=keys.socketio_channel(REDIS_URL), write_only=True)
    t_emit: dict[str, float] = {}
    for i in paced(len(bodies), EVENT_INTERVAL_S):
        incident_id = f"floor-{tag}-{i}"
        message = {"seq": -1 - i, "name": "floor.emit", "incident_id": incident_id, "data": {"incident": bodies[i]}}
        t_emit[incident_id] = time.perf_counter()
        manager.emit("incident", message, room=PUSH_ROOM, namespace="/")
    return t_emit


def bench_push(report: Report, auth: Auth, client_counts: list[int], n_events: int, seed: int) -> None:
    base = auth.base
    print(
        f"\n## 1. Commit-to-client push latency ({n_events} incidents per round, ~{1 / EVENT_INTERVAL_S:.0f}/s; "
        f"signed-in clients in room {PUSH_ROOM!r})"
    )
    with auth.api_session() as session:
        _, _, warm = run_incidents(session, base, make_incident_bodies(5, seed - 1), report.problems)
        print(f"  warm-up: {len(warm)} incidents created")
        for n_round, n_clients in enumerate(client_counts):
            bodies = make_incident_bodies(n_events, seed + n_round)
            t0 = time.perf_counter()
            cookies = sign_in_many(auth, n_clients)
            t_signed = time.perf_counter()
            listeners = connect_listeners(auth, n_clients, ("incident.report", "floor.emit"), cookies)
            try:
                print(
                    f"  [{n_clients} clients] signed in ({n_clients} sessions) in {t_signed - t0:.1f} s, "
                    f"connected in {time.perf_counter() - t_signed:.1f} s"
                )
                t_commit, t_sent, created = run_incidents(session, base, bodies, report.problems)
                wait_deliveries(listeners, list(t_commit))
                real = latencies(listeners, t_commit)
                upper = latencies(listeners, t_sent)
                t_emit = run_floor(created or bodies, f"{n_clients}")
                wait_deliveries(listeners, list(t_emit))
                floor = latencies(listeners, t_emit)
            finally:
                close_listeners(listeners)
            print(
                f"  [{n_clients} clients] commit→push, last client: {_fmt(real.last)}; all {real.every['n'] if real.every else 0} "
                f"deliveries: {_fmt(real.every)}; missing {real.missing}; arrived before the 201: {real.negative}"
            )
            print(
                f"  [{n_clients} clients] from POST sent (upper bound: includes the request itself), last client: "
                f"{_fmt(upper.last)}"
            )
            print(
                f"  [{n_clients} clients] floor (direct Redis emit to {PUSH_ROOM}), last client: {_fmt(floor.last)}; all deliveries: "
                f"{_fmt(floor.every)}; missing {floor.missing}"
            )
            verdict = _ok(real.last is not None and real.last["p95"] <= TARGET_PUSH_P95_MS)
            report.add(
                f"push commit→client, last of {n_clients}",
                _fmt(real.last),
                f"p95 ≤ {TARGET_PUSH_P95_MS:.0f} ms",
                f"{_fmt(floor.last)} (floor: direct Redis emit to {PUSH_ROOM})",
                verdict,
            )
            report.add(
                f"push commit→client, all {len(t_commit) * n_clients} deliveries",
                _fmt(real.every),
                "",
                f"{_fmt(floor.every)}",
                "",
            )
            report.add(f"push from POST sent (upper bound), last of {n_clients}", _fmt(upper.last), "", "", "")
            report.add(
                f"missing deliveries, {n_clients} client(s)",
                f"{real.missing} of {len(t_commit) * n_clients}",
                "0",
                f"floor: {floor.missing} of {len(t_emit) * n_clients}",
                "ok" if real.missing == 0 else "MISSING",
            )
            if real.missing:
                report.problems.append(f"{real.missing} incident pushes never reached a client ({n_clients} clients)")
            if floor.missing:
                report.notes.append(
                    f"the floor lost {floor.missing} deliveries at {n_clients} clients "
                    "(at-most-once pub/sub; nothing replays them)"
                )
            if real.negative:
                report.notes.append(
                    f"{real.negative} pushes at {n_clients} clients arrived before this process had "
                    "read the 201 answer (the worker relays right after commit); they count as < 0 ms"
                )


# ---------------------------------------------------------------------------- 2. position ingest


@dataclass
class Walk:
    device_id: str
    officer_id: str
    fixes: list[dict] = field(default_factory=list)  # OsmAnd query params, oldest first


def enrol_trackers(env: dict) -> dict[str, str]:
    """A tracker for every roster officer (officer id -> identifier), enrolled in the benchmark's database with the
    server's own settings, as `gridcommand devices add` does (one transaction, audited)."""
    from sqlalchemy import select

    from dashboard.cli.base import open_database
    from dispatcher.fleet.devices import issue
    from dispatcher.fleet.officers import Officer
    from dispatcher.settings import Settings

    fields = {k.removeprefix("GRIDCOMMAND_").lower(): v for k, v in env.items() if k.startswith("GRIDCOMMAND_")}
    settings = Settings(DATABASE_URL=env["DATABASE_URL"], REDIS_URL=env.get("REDIS_URL"), **fields)
    now = datetime.now(UTC)
    with open_database(settings, write=True) as session:
        officers = list(session.scalars(select(Officer.id)))
        return {o: issue(session, o, label="bench_live", actor="bench", now=now).identifier for o in officers}


def make_walks(n_fixes: int, seed: int, trackers: dict[str, str]) -> list[Walk]:
    """Every device walks ~2 m per fix, 5 s apart, staying inside its officer's community; all in the past.
    `trackers` maps officer ids to their enrolled trackers' identifiers (what the fixes carry as `id`)."""
    import yaml
    from shapely import Point

    rng = random.Random(seed)
    grids = load_grids(DEMO_GRIDS)
    communities = {g.code: g for g in grids if g.level == Level.COMMUNITY}
    units_of: dict[str, list] = {}
    for g in grids:
        if g.level == Level.UNIT:
            units_of.setdefault(g.parent_code, []).append(g)
    roster = yaml.safe_load(ROSTER.read_text(encoding="utf-8"))
    per, extra = divmod(n_fixes, len(roster))
    longest = per + (1 if extra else 0)
    t_first = int(time.time()) - longest * FIX_INTERVAL_S - 60  # the last fix is still a minute in the past
    walks = []
    for index, officer in enumerate(roster):
        count = per + (1 if index < extra else 0)
        community = communities.get(officer.get("grid_community")) or rng.choice(list(communities.values()))
        units = units_of.get(community.code) or [community]
        lon, lat = _random_point_in(rng.choice(units).geometry, rng)
        heading = rng.uniform(0, 360)
        walk = Walk(trackers[officer["id"]], officer["id"])
        for k in range(count):
            if k:
                for _ in range(8):  # turn around at the community border (bounded)
                    rad = math.radians(heading)
                    nlat = lat + FIX_STEP_M * math.cos(rad) / 111_320.0
                    nlon = lon + FIX_STEP_M * math.sin(rad) / (111_320.0 * math.cos(math.radians(lat)))
                    if community.geometry.contains(Point(nlon, nlat)):
                        break
                    heading = (heading + 135 + rng.uniform(-30, 30)) % 360
                lon, lat = nlon, nlat
            walk.fixes.append(
                {
                    "id": walk.device_id,
                    "lat": f"{lat:.7f}",
                    "lon": f"{lon:.7f}",
                    "timestamp": str(t_first + k * FIX_INTERVAL_S),
                    "speed": f"{FIX_STEP_M / FIX_INTERVAL_S / 0.514444:.2f}",
                    "bearing": f"{heading:.0f}",
                    "accuracy": "5",
                    "batt": str(rng.randint(20, 100)),
                }
            )
        walks.append(walk)
    return walks


def send_fixes(base: str, walks: list[Walk], threads: int) -> dict:
    """Each thread owns a fixed set of devices (so each device's fixes stay in order) and its own Session."""
    import requests

    lanes: list[list[dict]] = [[] for _ in range(threads)]
    for index, walk in enumerate(walks):
        lanes[index % threads].append(walk)
    queues = []
    for lane in lanes:
        longest = max((len(w.fixes) for w in lane), default=0)
        queues.append([w.fixes[k] for k in range(longest) for w in lane if k < len(w.fixes)])
    results = {"status": {}, "accepted": 0, "filtered": {}, "answered_at": {}, "errors": []}
    lock = threading.Lock()

    def run(queue: list[dict]) -> None:
        status: dict[int, int] = {}
        accepted, filtered, answered, errors = 0, {}, {}, []
        with requests.Session() as session:
            for params in queue:
                try:
                    r = session.get(f"{base}/osmand", params=params, timeout=REQUEST_TIMEOUT_S)
                except requests.RequestException as exc:
                    errors.append(type(exc).__name__)
                    continue
                t = time.perf_counter()
                status[r.status_code] = status.get(r.status_code, 0) + 1
                if r.status_code == 200:
                    body = r.json()
                    if body.get("accepted"):
                        accepted += 1
                        answered[(params["id"], int(params["timestamp"]))] = t
                    else:
                        filtered[body.get("reason")] = filtered.get(body.get("reason"), 0) + 1
                elif len(errors) < 5:
                    errors.append(f"HTTP {r.status_code}: {r.text[:200]}")
        with lock:
            for code, n in status.items():
                results["status"][code] = results["status"].get(code, 0) + n
            results["accepted"] += accepted
            for reason, n in filtered.items():
                results["filtered"][reason] = results["filtered"].get(reason, 0) + n
            results["answered_at"].update(answered)
            results["errors"].extend(errors)

    workers = [threading.Thread(target=run, args=(q,), daemon=True) for q in queues]
    t0 = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=600)
    results["seconds"] = time.perf_counter() - t0
    results["t0"] = t0
    results["sent"] = sum(len(q) for q in queues)
    return results


def history_rows(sqlite_path: Path) -> int:
    conn = sqlite3.connect(f"file:{sqlite_path}?mode=ro", uri=True, timeout=30)
    try:
        return conn.execute("SELECT count(*) FROM officer_position").fetchone()[0]
    finally:
        conn.close()


HISTORY_BATCH = 250  # rows per commit in the batched comparison: about what the worker writes per 0.5 s flush here


def per_fix_commit(url: str, walks: list[Walk]) -> tuple[int, float, float]:
    """The naive path: every fix its own session and commit of one OfficerPosition row.

    Returns (fixes, seconds per-fix, seconds batched): the second figure writes the same rows again
    the way the worker does, HISTORY_BATCH rows per insert and commit, for comparison.
    """
    from sqlalchemy import delete, insert

    from dispatcher.fleet.officers import OfficerPosition, load_roster
    from dispatcher.store.db import make_engine, make_sessions
    from dispatcher.store.migrate import upgrade

    engine = make_engine(url)
    try:
        upgrade(engine)
        sessions = make_sessions(engine)
        with sessions.begin() as session:
            session.add_all(load_roster(ROSTER))
        rows = [
            {
                "officer_id": w.officer_id,
                "at": datetime.fromtimestamp(int(f["timestamp"]), UTC),
                "lon": float(f["lon"]),
                "lat": float(f["lat"]),
                "speed_mps": float(f["speed"]) * 0.514444,
                "heading": float(f["bearing"]),
                "accuracy_m": float(f["accuracy"]),
                "grid_unit": None,
                "event": None,
            }
            for w in walks
            for f in w.fixes
        ]
        rows.sort(key=lambda r: r["at"])
        t0 = time.perf_counter()
        for row in rows:
            with sessions.begin() as session:
                session.add(OfficerPosition(**row))
        per_fix = time.perf_counter() - t0
        with sessions.begin() as session:
            session.execute(delete(OfficerPosition))
        t0 = time.perf_counter()
        for start in range(0, len(rows), HISTORY_BATCH):
            with sessions.begin() as session:
                session.execute(insert(OfficerPosition), rows[start : start + HISTORY_BATCH])
        batched = time.perf_counter() - t0
        return len(rows), per_fix, batched
    finally:
        engine.dispose()


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU seconds of a process (this one if pid is None), from /proc."""
    if pid is None:
        t = os.times()
        return t.user + t.system
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def bench_positions(
    report: Report,
    auth: Auth,
    sqlite_path: Path,
    workdir: Path,
    n_fixes: int,
    seed: int,
    pids: dict[str, int],
    trackers: dict[str, str],
) -> None:
    print(f"\n## 2. Position ingest through /osmand ({n_fixes:,} fixes, {INGEST_THREADS} threads)")
    walks = make_walks(n_fixes, seed, trackers)
    print(
        f"  {len(walks)} devices, {min(len(w.fixes) for w in walks)}–{max(len(w.fixes) for w in walks)} fixes each, "
        f"{FIX_INTERVAL_S} s and ~{FIX_STEP_M:.0f} m apart"
    )
    rows_before = history_rows(sqlite_path)
    base = auth.base
    listener = connect_listeners(auth, 1, ())[0]
    try:
        cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()} | {"client (this process)": cpu_seconds()}
        sent = send_fixes(base, walks, INGEST_THREADS)
        t_end = time.perf_counter()
        cpu = {name: cpu_seconds(pids.get(name)) - before for name, before in cpu_before.items()}
        expected = rows_before + sent["accepted"]
        deadline = t_end + POSITIONS_SETTLE_S
        rows = history_rows(sqlite_path)
        while time.perf_counter() < deadline:
            pushed = sum(len(b) for _, b in listener.positions)
            rows = history_rows(sqlite_path)
            if rows >= expected and pushed >= sent["accepted"]:
                break
            time.sleep(0.1)
        settle = time.perf_counter() - t_end
    finally:
        listener.close()
    rate = sent["sent"] / sent["seconds"]
    share = sent["accepted"] / sent["sent"] if sent["sent"] else 0.0
    print(
        f"  sent {sent['sent']:,} in {sent['seconds']:.2f} s = {rate:,.0f} fixes/s; HTTP {dict(sorted(sent['status'].items()))}; "
        f"accepted {sent['accepted']:,} ({share:.1%}); filtered {sent['filtered'] or 'none'}"
    )
    print(
        f"  CPU seconds used during the {sent['seconds']:.1f} s of sending ({os.cpu_count()} cores = "
        f"{(os.cpu_count() or 1) * sent['seconds']:.1f} CPU-s available): "
        + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
    )
    for e in sent["errors"][:5]:
        print(f"    error: {e}")
    batches = [(t, b) for t, b in listener.positions if t >= sent["t0"]]
    pushed = sum(len(b) for _, b in batches)
    window = (batches[-1][0] - batches[0][0]) if len(batches) > 1 else 0.0
    per_s = (len(batches) - 1) / window if window > 0 else float("nan")
    mean = pushed / len(batches) if batches else 0.0
    device_of = {w.officer_id: w.device_id for w in walks}
    stale = []
    for t, batch in batches:
        for p in batch:
            try:
                key = (device_of[p["officer_id"]], int(datetime.fromisoformat(p["at"]).timestamp()))
            except (KeyError, TypeError, ValueError):
                continue
            if key in sent["answered_at"]:
                stale.append(t - sent["answered_at"][key])
    staleness = _ms(stale)
    new_rows = rows - rows_before
    print(
        f"  after {settle:.1f} s: {new_rows:,} history rows written by the worker (expected {sent['accepted']:,}); "
        f"room {PUSH_ROOM!r} got {len(batches)} 'positions' batches with {pushed:,} positions "
        f"({per_s:.2f} batches/s, mean {mean:,.0f} per batch)"
    )
    print(f"  map staleness (200 answer → position pushed to the client): {_fmt(staleness)}")

    naive_sqlite = per_fix_commit(f"sqlite:///{workdir / 'per_fix.sqlite'}", walks)
    print(
        f"  baseline per-fix commit, SQLite (in process, no HTTP): {naive_sqlite[0]:,} in {naive_sqlite[1]:.2f} s = "
        f"{naive_sqlite[0] / naive_sqlite[1]:,.0f} fixes/s; the same rows {HISTORY_BATCH} per commit (as the worker): "
        f"{naive_sqlite[0] / naive_sqlite[2]:,.0f} rows/s"
    )
    naive_pg = None
    try:
        admin, _, name = _pg_admin(PG_URL)
        _recreate_pg_database(admin, name)
    except Exception as exc:
        report.notes.append(f"PostgreSQL baseline skipped: {type(exc).__name__}: {str(exc)[:160]}")
    else:
        try:
            naive_pg = per_fix_commit(PG_URL, walks)
            print(
                f"  baseline per-fix commit, PostgreSQL (in process): {naive_pg[0]:,} in {naive_pg[1]:.2f} s = "
                f"{naive_pg[0] / naive_pg[1]:,.0f} fixes/s; {HISTORY_BATCH} per commit: "
                f"{naive_pg[0] / naive_pg[2]:,.0f} rows/s"
            )
        except Exception as exc:
            report.notes.append(f"PostgreSQL baseline failed: {type(exc).__name__}: {str(exc)[:200]}")
        finally:
            _recreate_pg_database(admin, name, drop_only=True)

    baseline = f"per-fix commit: SQLite {naive_sqlite[0] / naive_sqlite[1]:,.0f}/s"
    if naive_pg:
        baseline += f", PostgreSQL {naive_pg[0] / naive_pg[1]:,.0f}/s"
    report.add(
        "position ingest via /osmand (8 threads)",
        f"{rate:,.0f} fixes/s",
        f"≥ {TARGET_FIXES_PER_S:.0f}/s per process",
        baseline + " (in process, no HTTP)",
        _ok(rate >= TARGET_FIXES_PER_S),
    )
    batched = f"SQLite {naive_sqlite[0] / naive_sqlite[2]:,.0f}/s"
    per_fix = f"SQLite {naive_sqlite[0] / naive_sqlite[1]:,.0f}/s"
    if naive_pg:
        batched += f", PostgreSQL {naive_pg[0] / naive_pg[2]:,.0f}/s"
        per_fix += f", PostgreSQL {naive_pg[0] / naive_pg[1]:,.0f}/s"
    report.add(
        f"history write, {HISTORY_BATCH} rows per commit (worker's way)", batched, "", f"per-fix commit: {per_fix}", ""
    )
    report.add(
        "  CPU-s while sending: web / worker / client",
        " / ".join(f"{v:.1f}" for v in cpu.values()),
        "",
        f"of {(os.cpu_count() or 1) * sent['seconds']:.1f} CPU-s on {os.cpu_count()} cores",
        "",
    )
    report.add(
        "fixes accepted by the noise filter",
        f"{sent['accepted']:,} of {sent['sent']:,} ({share:.1%})",
        "100 %",
        "",
        "ok" if sent["accepted"] == sent["sent"] else "FILTERED",
    )
    report.add(
        "history rows written by the worker",
        f"{new_rows:,} of {sent['accepted']:,}",
        "all, within 3 s",
        "",
        "ok" if new_rows == sent["accepted"] else "MISSING",
    )
    report.add(
        f"'positions' batches to room '{PUSH_ROOM}'",
        f"{per_s:.2f}/s, mean {mean:,.0f} fixes",
        "batched (≈ 2/s)",
        f"one push per fix would be {rate:,.0f}/s",
        "ok" if batches and mean > 1 else "NOT BATCHED",
    )
    report.add(
        "map staleness (answer → push)",
        _fmt(staleness),
        f"≤ {TARGET_STALENESS_S:.0f} s",
        "",
        _ok(staleness is not None and staleness["max"] <= TARGET_STALENESS_S * 1000),
    )
    wrk_rate = ingest_with_wrk(base, n_fixes, seed + 1, workdir, trackers)
    if wrk_rate is not None:
        rows_after = history_rows(sqlite_path)
        report.add(
            "position ingest via /osmand, wrk load generator",
            f"{wrk_rate[0]:,.0f} fixes/s ({wrk_rate[1]:,} sent, {rows_after - rows:,} history rows)",
            f"≥ {TARGET_FIXES_PER_S:.0f}/s per process",
            "same fixes as above; a C client leaves the second core to the server's Redis and worker",
            _ok(wrk_rate[0] >= TARGET_FIXES_PER_S),
        )
    if sent["accepted"] != sent["sent"]:
        report.notes.append(f"{sent['sent'] - sent['accepted']} fixes were filtered: {sent['filtered']}")
    if new_rows != sent["accepted"]:
        report.problems.append(f"{sent['accepted']} fixes accepted but {new_rows} history rows written")
    if pushed != sent["accepted"]:
        report.problems.append(f"{sent['accepted']} fixes accepted but {pushed} positions pushed to room {PUSH_ROOM!r}")


WRK_LUA = """
paths = {}
dofile("%s")
i = 0
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i])
end
"""


def ingest_with_wrk(
    base: str, n_fixes: int, seed: int, workdir: Path, trackers: dict[str, str]
) -> tuple[float, int] | None:
    """The same kind of fixes sent by wrk (a C load generator, 1 thread, 8 connections); None if wrk is absent.

    Fixes are issued device by device in time order (each device's next fix comes ~300 requests later),
    so the noise filter accepts them; the run stops after one pass over all fixes.
    """
    from urllib.parse import urlencode

    if shutil.which("wrk") is None:
        return None
    walks = make_walks(n_fixes, seed, trackers)
    longest = max(len(w.fixes) for w in walks)
    start = int(time.time()) - longest - 2  # after the first run's last fixes (a minute ago), 1 s apart, all past
    order = [w.fixes[k] | {"timestamp": str(start + k)} for k in range(longest) for w in walks if k < len(w.fixes)]
    data = workdir / "wrk_paths.lua"
    data.write_text("".join(f'paths[#paths+1] = "/osmand?{urlencode(f)}"\n' for f in order), encoding="utf-8")
    script = workdir / "wrk_osmand.lua"
    script.write_text(WRK_LUA % data, encoding="utf-8")
    seconds = max(3, int(len(order) / 600))
    out = subprocess.run(
        ["wrk", "-t1", "-c8", f"-d{seconds}s", "-s", str(script), base],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
    ).stdout
    print(
        "  wrk:",
        " | ".join(line.strip() for line in out.splitlines() if "Requests/sec" in line or "requests in" in line),
    )
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    sent = re.search(r"(\d+) requests in", out)
    return (float(match.group(1)), int(sent.group(1))) if match and sent else None


# ------------------------------------------------------------------------------------- 3. page


def _page_callback(session, base: str, deps: list) -> tuple[str, bytes] | None:
    """The callback that renders the page into the shell layout (what the browser asks right after load)."""
    values = {("gc-url", "pathname"): "/", ("gc-url", "search"): "", ("gc-lang", "data"): None}
    for dep in deps:
        if dep.get("output") not in ("gc-page.children", "..gc-page.children.."):
            continue
        body = {
            "output": dep["output"],
            "outputs": {"id": "gc-page", "property": "children"},
            "inputs": [{**i, "value": values.get((i["id"], i["property"]))} for i in dep.get("inputs", [])],
            "state": [{**s, "value": values.get((s["id"], s["property"]))} for s in dep.get("state", [])],
            "changedPropIds": [f"{i['id']}.{i['property']}" for i in dep.get("inputs", [])],
        }
        r = session.post(f"{base}/_dash-update-component", json=body, timeout=REQUEST_TIMEOUT_S)
        return f"POST /_dash-update-component (gc-page) HTTP {r.status_code}", r.content
    return None


def _strings_with(document: bytes, needle: str) -> set[str]:
    """Every string value in a JSON document that starts with `needle` (Dash escapes "/" as \\u002f)."""
    found: set[str] = set()
    try:
        stack = [json.loads(document)]
    except ValueError:
        return found
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and node.startswith(needle):
            found.add(node)
    return found


def top_up_open_incidents(auth: Auth, wanted: int, seed: int, problems: list[str]) -> int:
    """Create incidents (as fast as one client can) until `wanted` are open, as QUALITY.md's page target says."""
    base = auth.base
    with auth.api_session() as session:

        def open_total() -> int:
            r = session.get(
                f"{base}/api/v1/incidents", params={"open": "true", "page_size": 1}, timeout=REQUEST_TIMEOUT_S
            )
            r.raise_for_status()
            return int(r.json()["total"])

        have = open_total()
        if have < wanted:
            t0 = time.perf_counter()
            bodies = make_incident_bodies(wanted - have, seed)
            for body in bodies:
                r = session.post(f"{base}/api/v1/incidents", json=body, timeout=REQUEST_TIMEOUT_S)
                if r.status_code != 201:
                    problems.append(f"top-up POST /api/v1/incidents answered HTTP {r.status_code}: {r.text[:200]}")
                    break
            print(f"  created {len(bodies)} more incidents in {time.perf_counter() - t0:.1f} s")
        return open_total()


def bench_page(report: Report, auth: Auth, open_incidents: int, seed: int) -> None:
    import requests

    base = auth.base
    print("\n## 3. Command-center page")
    n_open = top_up_open_incidents(auth, open_incidents, seed, report.problems)
    print(f"  open incidents: {n_open}")
    fetched: list[tuple[str, int]] = []
    with requests.Session() as session:
        auth.sign_in(session)  # a browser's session cookie (not part of the figures below)
        session.headers["Origin"] = base  # the browser sends it with the page callback's POST (CSRF check)

        def get(path: str) -> bytes:
            r = session.get(f"{base}{path}", timeout=REQUEST_TIMEOUT_S)
            fetched.append((f"GET {path} HTTP {r.status_code}", len(r.content)))
            return r.content

        html = get("/").decode("utf-8", errors="replace")
        layout = get("/_dash-layout")
        deps_raw = get("/_dash-dependencies")
        documents = [layout]
        try:
            page = _page_callback(session, base, json.loads(deps_raw))
        except (ValueError, requests.RequestException) as exc:
            page = None
            report.notes.append(f"page callback not fetched: {exc}")
        if page:
            fetched.append((page[0], len(page[1])))
            documents.append(page[1])
        grid_urls = sorted({u for doc in documents for u in _strings_with(doc, "/api/v1/grids")})
        for url in grid_urls:
            get(url)
        assets = sorted(set(re.findall(r'(?:src|href)="(/[^"]+\.(?:js|css)[^"]*)"', html)))
        asset_bytes = 0
        for path in assets:
            r = session.get(f"{base}{path}", timeout=REQUEST_TIMEOUT_S)
            asset_bytes += len(r.content)
        units = session.get(f"{base}/api/v1/grids?level=unit", timeout=REQUEST_TIMEOUT_S)
    total = sum(n for _, n in fetched)
    for what, n in fetched:
        print(f"  {what}: {n:,} bytes")
    print(
        f"  JS/CSS files referenced by /: {len(assets)}, {asset_bytes:,} bytes (cached by the browser after the first visit)"
    )
    print(
        f"  initial payload (page, layout, dependencies, page callback, grid GeoJSON): {total:,} bytes = {_kib(total)}; "
        f"with JS/CSS {_kib(total + asset_bytes)}"
    )
    print(
        f"  grid layers referenced: {grid_urls or 'none'}; all unit grids as GeoJSON "
        f"(not sent up front): {len(units.content):,} bytes"
    )
    report.add(
        "page initial payload (no JS/CSS)",
        _kib(total),
        "grid layer sent once",
        f"unit layer up front would add {_kib(len(units.content))}",
        "",
    )
    report.add("page JS/CSS bundles (first visit)", f"{_kib(asset_bytes)} in {len(assets)} files", "", "", "")

    tti, floor, why = page_tti(auth)
    if tti is None:
        print(f"  page: not measured ({why})")
        report.add(
            "page time to interactive",
            f"not measured ({why})",
            f"≤ {TARGET_TTI_S:.0f} s",
            f"{floor:.2f} s (floor: browser navigation to /health)" if floor else "",
            "",
        )
    else:
        print(
            f"  time to interactive after sign-in (grid polygons on the map): first visit {tti[0]:.2f} s, reload {tti[1]:.2f} s; "
            f"floor (navigation to /health): {floor:.2f} s"
        )
        report.add(
            f"page time to interactive, first visit ({n_open} open)",
            f"{tti[0]:.2f} s",
            f"≤ {TARGET_TTI_S:.0f} s",
            f"{floor:.2f} s (floor: browser navigation to /health)",
            _ok(tti[0] <= TARGET_TTI_S),
        )
        report.add(
            f"page time to interactive, reload ({n_open} open)",
            f"{tti[1]:.2f} s",
            f"≤ {TARGET_TTI_S:.0f} s",
            "",
            _ok(tti[1] <= TARGET_TTI_S),
        )


# Grid polygons are on the map: SVG renderer = `path.leaflet-interactive` elements; Canvas renderer
# (preferCanvas) = the overlay canvas is painted over ≥ 10 % of its area (the community fills; markers
# are far smaller). Returns a description of what it found, or false.
GRIDS_DRAWN_JS = """() => {
  const pane = document.querySelector('.leaflet-container .leaflet-overlay-pane');
  if (!pane) return false;
  const paths = pane.querySelectorAll('path.leaflet-interactive').length;
  if (paths > 0) return 'SVG: ' + paths + ' path.leaflet-interactive';
  for (const c of pane.querySelectorAll('canvas')) {
    if (!c.width || !c.height) continue;
    const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let painted = 0, sampled = 0;
    for (let i = 3; i < data.length; i += 4 * 16) { sampled++; if (data[i] !== 0) painted++; }
    if (sampled && painted / sampled >= 0.10) return 'Canvas: ' + Math.round(100 * painted / sampled) + ' % painted';
  }
  return false;
}"""


def browser_sign_in(page, auth: Auth) -> None:
    """Sign in through the /login form; `next=/health` so that no Dash bundle is loaded (and cached) yet."""
    page.goto(f"{auth.base}/login?next=%2Fhealth", wait_until="load", timeout=PAGE_TIMEOUT_MS)
    page.fill("#username", auth.account.username)
    page.fill("#password", auth.account.password)
    with page.expect_navigation(wait_until="load", timeout=PAGE_TIMEOUT_MS):
        page.click("#login-form [type=submit]")
    if not page.url.rstrip("/").endswith("/health"):
        raise RuntimeError(f"sign-in through /login did not succeed (now at {page.url})")


def page_tti(auth: Auth) -> tuple[list[float] | None, float | None, str]:
    """Seconds from navigation to / (signed in) until the map exists and its grid polygons are drawn; plus a
    navigation floor."""
    base = auth.base
    if not CHROMIUM.exists():
        return None, None, f"{CHROMIUM} missing"
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None, None, "playwright not installed"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1600, "height": 900})
            page = context.new_page()
            t0 = time.perf_counter()
            page.goto(f"{base}/health", wait_until="load", timeout=PAGE_TIMEOUT_MS)
            floor = time.perf_counter() - t0
            try:
                browser_sign_in(page, auth)
            except (PlaywrightError, RuntimeError) as exc:
                return None, floor, f"browser sign-in failed: {str(exc)[:120]}"
            page.close()
            times = []
            for visit in ("first visit", "reload, JS cached"):
                page = (
                    context.new_page()
                )  # a fresh tab in the same context (signed in): the second visit has the JS cached
                t0 = time.perf_counter()
                page.goto(f"{base}/", wait_until="commit", timeout=PAGE_TIMEOUT_MS)
                try:
                    page.wait_for_selector(".leaflet-container", state="attached", timeout=PAGE_TIMEOUT_MS)
                except PlaywrightError:
                    return None, floor, "map not found"
                try:
                    handle = page.wait_for_function(GRIDS_DRAWN_JS, timeout=PAGE_TIMEOUT_MS, polling=50)
                except PlaywrightError:
                    return None, floor, "map found, but no grid polygons drawn within 30 s"
                times.append(time.perf_counter() - t0)
                print(
                    f"  browser, {visit}: grid polygons drawn ({handle.json_value()}) at 1600×900 after "
                    f"{times[-1]:.2f} s"
                )
                page.close()
            return times, floor, ""
        finally:
            browser.close()


# ------------------------------------------------------------------------------------------ main


def add_cluster_options(parser: argparse.ArgumentParser) -> None:
    """--cluster and --create-latency: nginx in front of two web processes on PostgreSQL (scripts/live_scale.py)."""
    group = parser.add_argument_group("scale-out shape (scripts/live_cluster.py, live_scale.py, live_fleet.py)")
    group.add_argument(
        "--cluster",
        action="store_true",
        help="N signed-in Socket.IO clients through nginx over two web processes, then the same N on one process",
    )
    group.add_argument(
        "--create-latency", action="store_true", help="1 client creating incidents through nginx vs straight"
    )
    group.add_argument("--cluster-clients", type=int, default=1000, help="clients of --cluster [%(default)s]")
    group.add_argument(
        "--cluster-events", type=int, default=150, help="incidents per --cluster pass (~30 s at 5/s) [%(default)s]"
    )
    group.add_argument("--interval", type=float, default=EVENT_INTERVAL_S, help="seconds between creates [%(default)s]")
    group.add_argument(
        "--deflate",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="clients offer permessage-deflate, as browsers do [%(default)s]",
    )
    group.add_argument(
        "--proxy-no-deflate",
        action="store_true",
        help="nginx drops Sec-WebSocket-Extensions: no per-socket compression behind the proxy (a proposed fix)",
    )
    group.add_argument("--floor", type=int, default=20, help="direct Redis emits per pass (the floor) [%(default)s]")
    group.add_argument("--creates", type=int, default=100, help="creates each way for --create-latency [%(default)s]")
    group.add_argument(
        "--pg-url",
        default=os.environ.get(
            "GRIDCOMMAND_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench_cluster"
        ),
        help="PostgreSQL database of the shape (dropped and created again!) [%(default)s]",
    )
    group.add_argument("--redis-url", default=REDIS_URL, help="Redis database of the shape (flushed!) [%(default)s]")
    group.add_argument(
        "--port", type=int, default=8130, help="nginx's port; the web processes take the next two [%(default)s]"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="1,50,100", help="client counts, comma separated [%(default)s]")
    parser.add_argument("--events", type=int, default=60, help="incidents per round [%(default)s]")
    parser.add_argument("--fixes", type=int, default=4000, help="OsmAnd fixes to send [%(default)s]")
    parser.add_argument(
        "--open-incidents",
        type=int,
        default=1000,
        help="open incidents on the page (topped up before part 3; QUALITY.md says 1,000) [%(default)s]",
    )
    parser.add_argument(
        "--only", choices=["push", "positions", "page"], action="append", help="run only this part (repeatable)"
    )
    parser.add_argument("--seed", type=int, default=20261202)
    add_cluster_options(parser)
    args = parser.parse_args(argv)
    if args.cluster or args.create_latency:  # the scale-out shape on PostgreSQL (scripts/live_scale.py)
        if not (1 <= args.cluster_clients <= 5000 and 1 <= args.cluster_events <= 5000 and 1 <= args.creates <= 5000):
            parser.error("--cluster-clients, --cluster-events and --creates must be 1..5000")
        from live_scale import run_cluster

        return run_cluster(args)
    try:
        client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    except ValueError:
        parser.error("--clients must be integers separated by commas, e.g. 1,50,100")
    if not client_counts or not all(1 <= c <= 500 for c in client_counts):
        parser.error("--clients must be 1..500 each")
    if not (1 <= args.events <= 5000 and 1 <= args.fixes <= 200_000 and 0 <= args.open_incidents <= 20_000):
        parser.error("--events must be 1..5000, --fixes 1..200000 and --open-incidents 0..20000")

    t_start = time.perf_counter()
    print(
        f"GridCommand live benchmark · Python {sys.version.split()[0]} · {os.cpu_count()} CPUs · "
        f"{time.strftime('%Y-%m-%d %H:%M:%S')}"
    )
    report = Report()
    workdir = Path(tempfile.mkdtemp(prefix="gridcommand-bench-live-"))
    sqlite_path = workdir / "live.sqlite"
    env = {
        **os.environ,
        **BENCH_KEYS,
        "DATABASE_URL": f"sqlite:///{sqlite_path}",
        "REDIS_URL": REDIS_URL,
        "GRIDCOMMAND_RELAY_INTERVAL_S": "0.2",
        "PYTHONUNBUFFERED": "1",
        **BENCH_RATE_LIMITS,
    }
    env.pop("GRIDCOMMAND_GRIDS_FILE", None)
    server = worker = None
    try:
        _flush_redis()
        print(f"\n## Setup: SQLite {sqlite_path}, Redis {REDIS_URL}")
        _run_cli(["db", "upgrade"], env)
        _run_cli(["import-grids", str(DEMO_GRIDS)], env)
        _run_cli(["import-officers", str(ROSTER)], env)
        trackers = enrol_trackers(env)
        print(f"  enrolled {len(trackers)} trackers (one per officer)")
        account = create_bench_account(env)
        import requests

        print("  benchmark server rate limits raised: " + ", ".join(f"{k}={v}" for k, v in BENCH_RATE_LIMITS.items()))
        report.notes.append(
            "auth: API calls send the bearer token of a shift_leader account (region "
            f"{BENCH_REGION}); each Socket.IO client signs in with its own session and is in rooms "
            f"{PUSH_ROOM} and triage; the browser signs in through /login before the page is timed; "
            "rate limits raised: " + ", ".join(f"{k}={v}" for k, v in BENCH_RATE_LIMITS.items())
        )
        server = Server(env, workdir)
        auth = Auth(server.base, account)
        worker = Worker(env, workdir)
        with requests.Session() as session:
            up = server.wait_healthy(session)
            print(f"  server up on {server.base} after {up:.1f} s: {session.get(server.base + '/health').json()}")
        print(f"  worker registered after {worker.wait_registered():.1f} s")

        parts = [
            ("push", lambda: bench_push(report, auth, client_counts, args.events, args.seed)),
            (
                "positions",
                lambda: bench_positions(
                    report,
                    auth,
                    sqlite_path,
                    workdir,
                    args.fixes,
                    args.seed,
                    {"web": server.proc.pid, "worker": worker.proc.pid},
                    trackers,
                ),
            ),
            ("page", lambda: bench_page(report, auth, args.open_incidents, args.seed + 100)),
        ]
        for name, part in parts:
            if args.only and name not in args.only:
                continue
            t_part = time.perf_counter()
            try:
                part()
                print(f"  (part '{name}' took {time.perf_counter() - t_part:.0f} s)")
            except Exception as exc:
                report.problems.append(f"part '{name}' failed: {type(exc).__name__}: {exc}")
                print(f"part '{name}' failed: {type(exc).__name__}: {exc}", file=sys.stderr)
                for proc in (server, worker):
                    print(f"  {type(proc).__name__} stderr (tail):\n{proc.stderr_text(30)}", file=sys.stderr)
    except Exception as exc:
        report.problems.append(f"setup failed: {type(exc).__name__}: {exc}")
        print(f"setup failed: {exc}", file=sys.stderr)
        for proc in (server, worker):
            if proc is not None:
                print(f"  {type(proc).__name__} stderr (tail):\n{proc.stderr_text(30)}", file=sys.stderr)
    finally:
        t_stop = time.perf_counter()
        for proc in (worker, server):
            if proc is not None:
                proc.stop()
        print(f"\n  server and worker stopped in {time.perf_counter() - t_stop:.1f} s")
        with contextlib.suppress(Exception):  # cleanup only
            _flush_redis()
        shutil.rmtree(workdir, ignore_errors=True)
    report.print_table()
    print(f"\nrun time {time.perf_counter() - t_start:.0f} s")
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
