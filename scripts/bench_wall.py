#!/usr/bin/env python
"""The wall's live situation over a city's worth of cases, on PostgreSQL and SQLite.

    python scripts/bench_wall.py [--cases 20000] [--repeats 40] [--pg-url postgresql+psycopg://...] [--sqlite-only]

Seeds `--cases` incidents over the last 30 days (every channel, department, street and status; deadlines around
now; a file / dispatch / close timeline, red cards on some), the demo roster, then computes
`dispatcher/evaluation/situation.py:situation` for the district, p50/p95 over repeated calls. Naive baseline (same
run): load every incident with its timeline and count the same headline figures in Python. Both must agree.
Target: the wall refreshes at most once a second, so one situation must take well under that (p95 ≤ 300 ms).
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmark import BENCH_KEYS, DEMO_GRIDS, Report, _fmt_lat, _percentiles, _pg_admin, _recreate_pg_database

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench_wall"
NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
TZ = "Asia/Shanghai"
OPEN = ["reported", "filed", "dispatched", "claimed", "suspended", "returned", "handled", "rework", "verified"]
CHANNELS = ["hotline"] * 4 + ["grid_worker"] * 4 + ["public", "open311", "video", "sensor"]
DEPARTMENTS = ["HW", "SZ", "YL", "CGZF", "ZJ", "SCJG", "JJ", "SW", "STHJ", "GD"]
TARGET_MS = 300


def setup(url: str):
    import os

    os.environ.update(BENCH_KEYS)
    from dispatcher.access.audit import install_audit_key
    from dispatcher.settings import Settings
    from dispatcher.store import cipher
    from dispatcher.store.db import make_engine, make_sessions
    from dispatcher.store.gridstore import replace_grids
    from dispatcher.store.migrate import upgrade
    from geo.importer import load_grids

    if url.startswith("postgresql"):
        admin, _, name = _pg_admin(url)
        _recreate_pg_database(admin, name)
    settings = Settings()
    cipher.install_key(settings.key("pii_key"))
    install_audit_key(settings.key("audit_key"))
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        replace_grids(session, load_grids(DEMO_GRIDS), source="bench", actor="bench", now=NOW)
    return engine, sessions


def seed(sessions, n: int, rng: random.Random) -> None:
    """n incidents over the last 30 days; about 60 % closed or archived, some voided, the rest open."""
    from dispatcher.cases.incident import Incident, TimelineEntry
    from dispatcher.fleet.officers import load_roster
    from geo.grids import GridIndex
    from geo.importer import load_grids

    grids = GridIndex(load_grids(DEMO_GRIDS), version="1")
    paths = [grids.path_of(u.code) for u in grids.by_level("unit")]
    for start in range(0, n, 2000):
        with sessions.begin() as session:
            for _ in range(min(2000, n - start)):
                path = rng.choice(paths)
                created = NOW - timedelta(hours=rng.triangular(0, 30 * 24, 0))
                age = (NOW - created).total_seconds() / 3600
                roll = rng.random()
                status = (
                    "closed"
                    if roll < 0.45
                    else "archived"
                    if roll < 0.6
                    else "voided"
                    if roll < 0.63
                    else rng.choice(OPEN)
                )
                closed = (
                    created + timedelta(hours=rng.uniform(0.5, max(age, 0.6)))
                    if status in ("closed", "archived", "voided")
                    else None
                )
                closed = min(closed, NOW) if closed else None
                total = created + timedelta(hours=rng.uniform(4, 120))
                incident = Incident(
                    id=str(uuid.uuid4()), channel=rng.choice(CHANNELS), status=status, category_code="020101",
                    description="bench", grid_unit=path.unit, grid_community=path.community, grid_street=path.street,
                    grid_district=path.district, level="district", department_code=rng.choice(DEPARTMENTS),
                    stage="handle" if closed is None else None, stage_started_at=created,
                    stage_deadline=NOW + timedelta(hours=rng.uniform(-24, 48)) if closed is None else None,
                    total_deadline=total, created_at=created, updated_at=closed or created, closed_at=closed,
                )  # fmt: skip
                steps = [("file", created + timedelta(minutes=5)), ("dispatch", created + timedelta(minutes=20))]
                if rng.random() < 0.15:
                    steps.append(("overdue", created + timedelta(hours=3)))
                if status in ("closed", "archived") and closed is not None:
                    steps.append(("close", closed))
                for seq, (action, at) in enumerate(steps, start=1):
                    incident.timeline.append(
                        TimelineEntry(
                            seq=seq,
                            at=min(at, NOW),
                            actor="bench",
                            action=action,
                            from_status=None,
                            to_status=status,
                            data={},
                        )  # fmt: skip
                    )
                session.add(incident)
    with sessions.begin() as session:
        session.add_all(load_roster(DEMO_GRIDS.parent / "officers.yaml"))


def naive(session) -> dict:
    """The same headline figures from every incident loaded into Python."""
    from sqlalchemy import select

    from dispatcher.cases.incident import Incident

    zone = ZoneInfo(TZ)
    today = NOW.astimezone(zone).date()
    week_start = today - timedelta(days=6)
    received = open_n = late = closed_today = good_today = closed_week = good_week = 0
    by_department: dict[str, list[int]] = {}
    for i in session.scalars(select(Incident)):
        day = i.created_at.astimezone(zone).date()
        received += day == today
        if i.status in ("closed", "archived", "voided", "merged"):
            if i.status != "voided" and i.closed_at is not None:
                closed_day = i.closed_at.astimezone(zone).date()
                ok = (i.total_deadline is None or i.closed_at <= i.total_deadline) and not any(
                    t.action == "overdue" for t in i.timeline
                )
                if closed_day == today:
                    closed_today += 1
                    good_today += ok
                if week_start <= closed_day <= today:
                    closed_week += 1
                    good_week += ok
            continue
        open_n += 1
        running = i.status != "suspended"
        is_late = running and any(d is not None and d < NOW for d in (i.stage_deadline, i.total_deadline))
        late += is_late
        row = by_department.setdefault(i.department_code, [0, 0])
        row[0] += 1
        row[1] += is_late
    return {
        "received": received,
        "open": open_n,
        "open_overdue": late,
        "on_time_today": (good_today, closed_today),
        "on_time_week": (good_week, closed_week),
        "departments": {k: tuple(v) for k, v in by_department.items()},
    }


def figures(s) -> dict:
    return {
        "received": s.today.received,
        "open": s.open,
        "open_overdue": s.open_overdue,
        "on_time_today": (s.on_time_today.numerator, s.on_time_today.denominator),
        "on_time_week": (s.on_time_week.numerator, s.on_time_week.denominator),
        "departments": {r.code: (r.open, r.overdue) for r in s.departments if r.open},
    }


def bench(report: Report, label: str, url: str, cases: int, repeats: int, seed_n: int) -> None:
    from sqlalchemy import true

    from dispatcher.evaluation.situation import situation

    engine, sessions = setup(url)
    t = time.perf_counter()
    seed(sessions, cases, random.Random(seed_n))
    print(f"{label}: seeded {cases} cases in {time.perf_counter() - t:.1f} s")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")  # what autovacuum would have done after such a load
    times, naive_times = [], []
    with sessions() as session:
        result = situation(session, now=NOW, tz=TZ, scope=true(), last_fixes={})  # warm-up
        for _ in range(repeats):
            t = time.perf_counter()
            result = situation(session, now=NOW, tz=TZ, scope=true(), last_fixes={})
            times.append(time.perf_counter() - t)
        for _ in range(max(3, repeats // 10)):
            t = time.perf_counter()
            counted = naive(session)
            naive_times.append(time.perf_counter() - t)
            session.expunge_all()
    mine = figures(result)
    if mine != counted:
        report.problems.append(f"{label}: situation disagrees with the naive count: {mine} vs {counted}")
    p, q = _percentiles(times), _percentiles(naive_times)
    what = f"{label}: situation, {cases} cases ({result.open} open, {result.today.closed} closed today)"
    report.add(what, _fmt_lat(p), f"p95 ≤ {TARGET_MS} ms", _fmt_lat(q), "ok" if p["p95"] <= TARGET_MS else "MISSED")
    engine.dispose()
    if url.startswith("postgresql"):
        admin, _, name = _pg_admin(url)
        _recreate_pg_database(admin, name, drop_only=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=40)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--sqlite-only", action="store_true")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    report = Report()
    with tempfile.TemporaryDirectory() as tmp:
        bench(report, "SQLite", f"sqlite:///{tmp}/wall.sqlite", args.cases, args.repeats, args.seed)
    if not args.sqlite_only:
        bench(report, "PostgreSQL", args.pg_url, args.cases, args.repeats, args.seed)
    report.print_table()
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
