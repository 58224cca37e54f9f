#!/usr/bin/env python
"""The loop after dispatch on PostgreSQL: how fast a handler's boxes answer over a city's worth of cases, and
what the workflow (approvals, evidence rules, verifier, callback, notices, ledger) costs per action.

    python scripts/bench_boxes.py [--cases 20000] [--loops 150] [--pg-url postgresql+psycopg://...]

1. Boxes: `--cases` incidents across the district (a third HW's, in every status, with deadlines around
   now and handlers' timeline rows), then a HW handler's box counts (待办/已办/超时/待审批/部门箱) and the
   first page of 待办, p50/p95 over repeated calls. Naive baseline (same run): load every case the handler
   may see and sort it into boxes in Python. Both must agree.
2. The loop: `--loops` cases each walked file → dispatch → claim → handle → verify → close → archive
   through `dispatcher/handling/workflow.py:perform` (one transaction per action, as the API does),
   against the same walk through the bare lifecycle (`dispatcher/cases/actions.py:perform_action`).
Targets (QUALITY.md: a desk answers within 200 ms; an action within 100 ms p95).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmark import BENCH_KEYS, DEMO_GRIDS, Report, _fmt_lat, _percentiles, _pg_admin, _recreate_pg_database

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gridcommand_bench_boxes"
HANDLERS = [f"hw-{n}" for n in range(8)]
STATUSES = ["reported", "filed", "dispatched", "claimed", "suspended", "returned", "handled", "rework", "verified",
            "closed", "archived"]  # fmt: skip
WALK = ["file", "dispatch", "claim", "handle", "verify", "close", "archive"]


def setup(pg_url: str):
    import os

    os.environ.update(BENCH_KEYS)
    from dispatcher.access.audit import install_audit_key
    from dispatcher.city.loader import load_city
    from dispatcher.settings import Settings
    from dispatcher.store import cipher
    from dispatcher.store.db import make_engine, make_sessions
    from dispatcher.store.gridstore import replace_grids
    from dispatcher.store.migrate import upgrade
    from geo.grids import GridIndex
    from geo.importer import load_grids

    admin, _, name = _pg_admin(pg_url)
    _recreate_pg_database(admin, name)
    settings = Settings()
    cipher.install_key(settings.key("pii_key"))
    install_audit_key(settings.key("audit_key"))
    engine = make_engine(pg_url)
    upgrade(engine)
    grids = load_grids(DEMO_GRIDS)
    sessions = make_sessions(engine)
    with sessions.begin() as session:
        replace_grids(session, grids, source="bench", actor="bench", now=datetime.now(UTC))
    return engine, sessions, load_city(Path(__file__).resolve().parents[1] / "data", GridIndex(grids, version="1"))


def seed(sessions, city, n: int, now: datetime, rng: random.Random) -> None:
    """n cases in every status; a third HW's, some claimed by one of the handlers, each with a timeline row."""
    from dispatcher.cases.incident import Incident, TimelineEntry

    units = city.grids.by_level("unit")
    for start in range(0, n, 2000):
        with sessions.begin() as session:
            for _ in range(min(2000, n - start)):
                unit = units[rng.randrange(len(units))]
                path = city.grids.path_of(unit.code)
                status = rng.choice(STATUSES)
                hw = rng.random() < 0.33
                assignee = rng.choice(HANDLERS) if hw and status in ("claimed", "suspended", "rework") else None
                created = now - timedelta(hours=rng.uniform(1, 96))
                incident = Incident(
                    id=str(uuid.uuid4()), channel="grid_worker", status=status, category_code="020101",
                    description="bench", grid_unit=path.unit, grid_community=path.community, grid_street=path.street,
                    grid_district=path.district, level="district", department_code="HW" if hw else "SZ",
                    assignee=assignee, stage="handle", stage_started_at=created,
                    stage_deadline=now + timedelta(hours=rng.uniform(-24, 48)), created_at=created, updated_at=created,
                )  # fmt: skip
                incident.timeline.append(
                    TimelineEntry(
                        seq=1,
                        at=created,
                        actor=rng.choice(HANDLERS) if hw else "sz",
                        action="claim",
                        from_status="dispatched",
                        to_status=status,
                        data={},
                    )  # fmt: skip
                )
                session.add(incident)


def bench_boxes(report: Report, sessions, city, now: datetime, repeats: int) -> None:
    from sqlalchemy import select

    from dispatcher.access.accounts import Principal
    from dispatcher.access.roles import Role
    from dispatcher.cases.incident import Incident
    from dispatcher.cases.lifecycle import OPEN_STATUSES
    from dispatcher.cases.scope import can_see, scope_clause
    from dispatcher.handling import boxes

    me = Principal("a", HANDLERS[0], Role.DEPT_HANDLER, None, "HW")
    counts_t, page_t = [], []
    with sessions() as session:
        for _ in range(repeats):
            t = time.perf_counter()
            counted = boxes.counts(session, city, me, now=now)
            counts_t.append(time.perf_counter() - t)
            t = time.perf_counter()
            boxes.list_box(session, city, me, boxes.BoxQuery(box=boxes.Box.TODO), now=now)
            page_t.append(time.perf_counter() - t)
        naive_t = []
        for _ in range(max(3, repeats // 20)):
            t = time.perf_counter()
            seen = [i for i in session.scalars(select(Incident).where(scope_clause(me))) if can_see(me, i)]
            todo = [
                i for i in seen
                if (i.assignee == me.username and i.status in ("dispatched", "claimed", "suspended", "rework"))
                or (i.status in ("dispatched", "rework") and i.assignee in (None, me.username))
                or i.status in ("escalated", "verified", "closed")
            ]  # fmt: skip
            department = [i for i in seen if i.state in OPEN_STATUSES]
            naive_t.append(time.perf_counter() - t)
            session.expunge_all()
    agree = counted["todo"] == len(todo) and counted["department"] == len(department)
    if not agree:
        report.problems.append(f"boxes disagree with the naive count: {counted} vs todo {len(todo)}")
    p_counts, p_page, p_naive = _percentiles(counts_t), _percentiles(page_t), _percentiles(naive_t)
    report.add(f"box counts (5 boxes, {counted['department']} open HW cases)", _fmt_lat(p_counts), "p95 ≤ 200 ms",
               _fmt_lat(p_naive), "ok" if p_counts["p95"] <= 200 and agree else "MISSED")  # fmt: skip
    report.add(
        "待办 first page (50 rows)", _fmt_lat(p_page), "p95 ≤ 200 ms", "", "ok" if p_page["p95"] <= 200 else "MISSED"
    )


def bench_loop(report: Report, sessions, city, loops: int, now: datetime, rng: random.Random) -> None:
    from dispatcher.access.accounts import Principal
    from dispatcher.access.roles import Role
    from dispatcher.cases.actions import perform_action
    from dispatcher.cases.commands import ActionRequest
    from dispatcher.cases.lifecycle import Action
    from dispatcher.cases.uow import UnitOfWork
    from dispatcher.handling.workflow import perform
    from dispatcher.intake.commands import CreateIncident
    from dispatcher.intake.reports import create_incident

    leader = Principal("l", "leader", Role.SHIFT_LEADER, "330199", None)
    head = Principal("h", "sz-head", Role.DEPT_HEAD, None, "SZ")
    units = [u for u in city.grids.by_level("unit") if city.grids.path_of(u.code).street == "330199002"]
    bodies = {"handle": ActionRequest(result="已修复")}

    def walk(engine_call) -> tuple[list[float], int]:
        times, done = [], 0
        for _ in range(loops):
            point = units[rng.randrange(len(units))].geometry.representative_point()
            command = CreateIncident(description="路面坑洼", category_code="010205", lon=point.x, lat=point.y)
            with UnitOfWork(sessions) as uow:
                incident = create_incident(uow, city, command, actor="bench", now=now)
                uow.commit(now)
            for step in WALK:
                who = head if step in ("claim", "handle") else leader
                t = time.perf_counter()
                with UnitOfWork(sessions) as uow:
                    engine_call(uow, incident.id, Action(step), bodies.get(step, ActionRequest()), who)
                    uow.commit(now)
                times.append(time.perf_counter() - t)
            done += 1
        return times, done

    full, n_full = walk(lambda uow, i, a, r, p: perform(uow, city, i, a, r, actor=p.username, now=now, principal=p))
    bare, _ = walk(lambda uow, i, a, r, p: perform_action(uow, city, i, a, r, actor=p.username, now=now, principal=p))
    p_full, p_bare = _percentiles(full), _percentiles(bare)
    report.add(f"one action through the workflow ({n_full} loops × {len(WALK)})", _fmt_lat(p_full), "p95 ≤ 100 ms",
               _fmt_lat(p_bare), "ok" if p_full["p95"] <= 100 else "MISSED")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--loops", type=int, default=150)
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--seed", type=int, default=10)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    engine, sessions, city = setup(args.pg_url)
    now = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)  # a Wednesday, 10:00 in Shanghai
    report = Report()
    t = time.perf_counter()
    seed(sessions, city, args.cases, now, rng)
    print(f"seeded {args.cases} cases in {time.perf_counter() - t:.1f} s")
    bench_boxes(report, sessions, city, now, args.repeats)
    bench_loop(report, sessions, city, args.loops, now, rng)
    report.print_table()
    engine.dispose()
    admin, _, name = _pg_admin(args.pg_url)
    _recreate_pg_database(admin, name, drop_only=True)
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
