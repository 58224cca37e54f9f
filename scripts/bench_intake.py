#!/usr/bin/env python
"""Sustained intake through the real HTTP endpoints, every channel mixed, duplicate detection on (PostgreSQL).

    python scripts/bench_intake.py [--requests 1200] [--clients 8] [--pg-url postgresql+psycopg://...]

The mix: hotline reports with callers' numbers (duplicate suggestions and the caller index computed
on every create), Open311 POSTs (form-encoded, api_key), camera/sensor events (deduplicated per
source and place) and grid workers' multipart reports with a JPEG. A third of the points repeat an
earlier place, so duplicate detection has work to do. Printed: accepted intakes/s with N concurrent
clients against the same mix sent by one client (the naive baseline, same run), p50/p95 per channel,
and "lost": every 201 must be one incident in the database, nothing more, nothing less.
Target (QUALITY.md / issue 5): ≥ 50 incidents/s per web process on PostgreSQL, 0 lost.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from benchmark import (
    BENCH_KEYS,
    DEMO_GRIDS,
    Report,
    Server,
    _percentiles,
    _pg_admin,
    _recreate_pg_database,
    _run_cli,
    create_bench_account,
)

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench_intake"
REDIS_URL = "redis://127.0.0.1:6379/11"
LIMITS = {"GRIDCOMMAND_RATE_LIMIT_INTAKE": "1000000/minute", "GRIDCOMMAND_RATE_LIMIT_OSMAND": "1000000/minute"}
MIX = {"hotline": 0.45, "open311": 0.20, "machine": 0.20, "report": 0.15}
CATEGORIES = ["020101", "020103", "020501", "020504", "020505", "010103"]
TARGET_PER_S = 50


def jpeg() -> bytes:
    """A small real JPEG (what a phone would send, only smaller)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 140, 90)).save(buffer, "JPEG")
    return buffer.getvalue()


def unit_points(n: int, rng: random.Random) -> list[tuple[float, float]]:
    """Points well inside random unit grids of the demo city."""
    from geo.grids import Level
    from geo.importer import load_grids

    units = [g for g in load_grids(DEMO_GRIDS) if g.level is Level.UNIT]
    return [(p.x, p.y) for p in (rng.choice(units).geometry.representative_point() for _ in range(n))]


class Traffic:
    """The mixed requests, one per call, from one client session."""

    def __init__(self, base: str, tokens: dict[str, str], points: list[tuple[float, float]], seed: int):
        import requests

        self.base, self.tokens, self.points = base, tokens, points
        self.rng = random.Random(seed)
        self.session = requests.Session()
        self.photo = jpeg()

    def point(self) -> tuple[float, float]:
        lon, lat = self.rng.choice(
            self.points[: max(1, len(self.points) // 3)] if self.rng.random() < 0.33 else self.points
        )
        return lon + self.rng.uniform(-5e-5, 5e-5), lat + self.rng.uniform(-5e-5, 5e-5)

    def send(self) -> tuple[str, int, float]:
        channel = self.rng.choices(list(MIX), weights=list(MIX.values()))[0]
        lon, lat = self.point()
        category = self.rng.choice(CATEGORIES)
        started = time.perf_counter()
        response = getattr(self, channel)(lon, lat, category)
        return channel, response.status_code, time.perf_counter() - started

    def hotline(self, lon, lat, category):
        body = {
            "channel": "hotline",
            "category_code": category,
            "description": "市民来电反映路边有问题，请尽快处理",
            "lon": lon,
            "lat": lat,
            "reporter_name": "张先生",
            "call_nature": "callback",
            "reporter_phone": f"139{self.rng.randrange(10**8):08d}",
        }
        return self.session.post(
            f"{self.base}/api/v1/incidents",
            json=body,
            timeout=30,
            headers={"Authorization": f"Bearer {self.tokens['leader']}", "Idempotency-Key": uuid.uuid4().hex},
        )

    def open311(self, lon, lat, category):
        form = {
            "api_key": self.tokens["open311"],
            "service_code": category,
            "lat": lat,
            "long": lon,
            "description": "Open311 partner app report",
        }
        return self.session.post(f"{self.base}/open311/v2/requests.json", data=form, timeout=30)

    def machine(self, lon, lat, category):
        event = {
            "source_id": f"CAM-{self.rng.randrange(40):03d}",
            "source_kind": "camera",
            "event_type": self.rng.choice(["garbage_overflow", "illegal_parking", "street_vending"]),
            "confidence": round(self.rng.uniform(0.5, 0.99), 2),
            "lon": lon,
            "lat": lat,
            "detected_at": time.time(),
        }
        return self.session.post(
            f"{self.base}/api/v1/machine-events",
            json=event,
            timeout=30,
            headers={"Authorization": f"Bearer {self.tokens['leader']}"},
        )

    def report(self, lon, lat, category):
        part = {
            "client_id": str(uuid.uuid4()),
            "category_code": category,
            "description": "网格员巡查上报",
            "lon": lon,
            "lat": lat,
        }
        return self.session.post(
            f"{self.base}/api/v1/reports",
            timeout=30,
            headers={"Authorization": f"Bearer {self.tokens['worker']}"},
            data={"report": json.dumps(part, ensure_ascii=False)},
            files={"photo": ("scene.jpg", self.photo, "image/jpeg")},
        )


def run(base: str, tokens: dict, points: list, n: int, clients: int, seed: int) -> dict:
    """Send n mixed requests from `clients` concurrent sessions; per-channel latencies and status counts."""
    lanes = [Traffic(base, tokens, points, seed + i) for i in range(clients)]
    lock = threading.Lock()
    results: list[tuple[str, int, float]] = []

    def lane(traffic: Traffic, count: int) -> None:
        for _ in range(count):
            outcome = traffic.send()
            with lock:
                results.append(outcome)

    share = [n // clients + (1 if i < n % clients else 0) for i in range(clients)]
    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(lane, lanes, share))
    wall = time.perf_counter() - started
    created = sum(1 for _, status, _ in results if status == 201)
    return {"wall": wall, "results": results, "created": created}


def summarise(report: Report, label: str, run_: dict, baseline: dict | None) -> None:
    per_s = run_["created"] / run_["wall"]
    statuses: dict[str, dict[int, int]] = {}
    for channel, status, _ in run_["results"]:
        statuses.setdefault(channel, {}).setdefault(status, 0)
        statuses[channel][status] += 1
    base = "" if baseline is None else f"{baseline['created'] / baseline['wall']:.0f} incidents/s from one client"
    verdict = "" if baseline is None else "meets target" if per_s >= TARGET_PER_S else "BELOW TARGET"
    report.add(
        f"accepted intakes, {label}",
        f"{per_s:.0f} incidents/s ({len(run_['results'])} requests, {run_['wall']:.1f} s)",
        "" if baseline is None else f"≥ {TARGET_PER_S}/s",
        base,
        verdict,
    )
    for channel in MIX:
        latencies = [t for c, _, t in run_["results"] if c == channel]
        if latencies:
            p = _percentiles(latencies)
            report.add(
                f"  {channel} p50 / p95, {label}",
                f"{p['p50']:.1f} / {p['p95']:.1f} ms",
                "",
                f"answers {dict(sorted(statuses[channel].items()))}",
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    import redis

    admin, _, name = _pg_admin(args.pg_url)
    _recreate_pg_database(admin, name)
    redis.Redis.from_url(REDIS_URL).flushdb()
    env = {**os.environ, **BENCH_KEYS, "DATABASE_URL": args.pg_url, "REDIS_URL": REDIS_URL, **LIMITS}
    report = Report()
    with tempfile.TemporaryDirectory(prefix="gc-intake-") as tmp:
        env["GRIDCOMMAND_MEDIA_DIR"] = str(Path(tmp) / "media")
        _run_cli(["db", "upgrade"], env)
        _run_cli(["import-grids", str(DEMO_GRIDS)], env)
        leader = create_bench_account(env)
        _run_cli(
            ["accounts", "create", "bench-gw", "--name", "网格员", "--role", "grid_worker", "--region", "330199"],
            env,
            echo=False,
        )
        tokens = {
            "leader": leader.token,
            "worker": _run_cli(["accounts", "token", "bench-gw", "--name", "bench"], env, echo=False).strip(),
            "open311": _run_cli(
                ["accounts", "token", "bench", "--name", "partner", "--kind", "open311"], env, echo=False
            ).strip(),
        }
        print("  rate limits raised for the benchmark server: " + ", ".join(f"{k}={v}" for k, v in LIMITS.items()))
        server = Server(env, Path(tmp))
        try:
            import requests

            with requests.Session() as session:
                server.wait_healthy(session)
            points = unit_points(400, random.Random(args.seed))
            warm = run(server.base, tokens, points, 40, 2, args.seed)
            one = run(server.base, tokens, points, max(100, args.requests // 6), 1, args.seed + 100)
            many = run(server.base, tokens, points, args.requests, args.clients, args.seed + 200)
            with requests.Session() as session:
                total = session.get(
                    f"{server.base}/api/v1/incidents?page_size=1",
                    timeout=30,
                    headers={"Authorization": f"Bearer {leader.token}"},
                ).json()["total"]
        except BaseException:
            print(server.stderr_text(60), file=sys.stderr)
            raise
        finally:
            server.stop()
    _recreate_pg_database(admin, name, drop_only=True)
    summarise(report, "1 client", one, None)
    summarise(report, f"{args.clients} clients", many, one)
    answered = warm["created"] + one["created"] + many["created"]
    report.add(
        "lost (201 answers minus incidents stored)",
        str(answered - total),
        "0",
        f"{answered} answered 201 (incl. warm-up), {total} incidents stored",
    )
    errors = sum(1 for r in (one, many) for _, status, _ in r["results"] if status >= 500)
    report.add("server errors (5xx)", str(errors), "0", "")
    report.print_table()
    return 1 if errors or answered != total else 0


if __name__ == "__main__":
    raise SystemExit(main())
