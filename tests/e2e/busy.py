"""A busy city for the browser tests and the desk benchmark: thousands of open cases seeded fast, and the simulator.

`seed_open_cases` writes N open cases straight into a GridCommand database through the engine's own functions
(`create_incident`, `workflow.perform`: case numbers, routing, clocks, timeline, outbox and audit rows), a few
hundred cases per transaction; the outbox rows it writes are marked published (history from before the server
started, nobody was listening). The mix: reported (some past their filing clock), triage (outside every grid),
filed, dispatched, claimed (in handling), a few escalated; every category with a department, all channels, some
特急/紧急, spread over the demo city's unit grids and the last hours.

Run as a script in the server's environment (DATABASE_URL, GRIDCOMMAND_* keys), so that a checkout other than
this one (the benchmark's baseline worktree) seeds and simulates with its own packages:

    python tests/e2e/busy.py seed --count 1000
    python tests/e2e/busy.py simulate --url http://127.0.0.1:8050 --rate 20 --officers 60

This module imports only the product's packages (never pytest or the test fixtures).
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy.orm import Session, sessionmaker

# The open stages of the mix and their weights (out of 100).
MIX: dict[str, int] = {
    "reported": 22,
    "triage": 5,
    "filed": 20,
    "escalated": 3,
    "dispatched": 22,
    "claimed": 28,
}
STEPS: dict[str, list[str]] = {
    "reported": [],
    "triage": [],
    "filed": ["file"],
    "escalated": ["file", "escalate"],
    "dispatched": ["file", "dispatch"],
    "claimed": ["file", "dispatch", "claim"],
}
CHANNELS = ["hotline", "hotline", "grid_worker", "grid_worker", "public", "open311", "video", "sensor", "api"]
URGENCY = [(3, 0.03), (2, 0.10), (1, 0.87)]  # 特急, 紧急, 一般
PLACES = ["路口", "小区东门", "人行道", "沿街商铺前", "公园北侧", "公交站旁", "菜场门口", "学校附近"]
SPREAD_MIN = 8 * 60  # cases were reported over the last eight hours: the older ones are overdue
CENTER = "sim-center"


class _BatchSession(Session):
    """A session whose `get` trusts its identity map: the seeding is the only writer and the cases of a batch were
    created in it, so re-reading each one "for update" before every step (two reloads per step) is skipped."""

    def get(self, entity: Any, ident: Any, **kwargs: Any) -> Any:
        kwargs.pop("with_for_update", None)
        return super().get(entity, ident, **kwargs)


def _urgency(rng: random.Random) -> int:
    pick, acc = rng.random(), 0.0
    for level, share in URGENCY:
        acc += share
        if pick < acc:
            return level
    return 1


def seed_open_cases(
    database_url: str,
    count: int,
    *,
    now: datetime,
    seed: int = 11,
    batch: int = 250,
    mark_published: bool = True,
) -> Counter[str]:
    """`count` open cases in a mix of stages, `batch` cases per transaction; their statuses counted."""
    from sqlalchemy import update

    from dispatcher.cases.commands import ActionRequest
    from dispatcher.cases.lifecycle import Action
    from dispatcher.cases.uow import UnitOfWork
    from dispatcher.city.loader import load_city
    from dispatcher.handling.workflow import perform
    from dispatcher.intake.commands import CreateIncident
    from dispatcher.intake.reports import create_incident
    from dispatcher.settings import get_settings
    from dispatcher.store.db import make_engine, make_sessions
    from dispatcher.store.gridstore import load_index
    from dispatcher.store.outbox import OutboxEvent
    from geo.grids import Level
    from workers.simulator.actors import DEPT_PREFIX, STATION_PREFIX

    rng = random.Random(seed)
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    batch_sessions = cast(
        "sessionmaker[Session]", sessionmaker(engine, class_=_BatchSession, expire_on_commit=False, autoflush=False)
    )
    statuses: Counter[str] = Counter()
    try:
        with sessions() as session:
            city = load_city(get_settings().data_dir, load_index(session))
        units = city.grids.by_level(Level.UNIT)
        minx, miny, maxx, maxy = city.grids.by_level(Level.DISTRICT)[0].geometry.bounds
        categories = [c for c in city.catalogue.categories.values() if c.default_department]
        weights = [6 if c.code.startswith("02") else 1 for c in categories]
        stages = rng.choices(list(MIX), weights=list(MIX.values()), k=count)
        times = sorted(now - timedelta(minutes=rng.uniform(15, SPREAD_MIN)) for _ in range(count))
        requests = {
            "file": lambda i: (Action.FILE, ActionRequest(note="情况属实，予以立案"), CENTER),
            "escalate": lambda i: (Action.ESCALATE, ActionRequest(reason="超出本级处置能力"), CENTER),
            "dispatch": lambda i: (Action.DISPATCH, ActionRequest(note="请按时限处置并反馈"), CENTER),
            "claim": lambda i: (
                Action.CLAIM,
                ActionRequest(note="已签收"),
                STATION_PREFIX + i.grid_community
                if i.department_code == "SQ" and i.grid_community
                else DEPT_PREFIX + str(i.department_code),
            ),
        }
        for start in range(0, count, batch):
            with UnitOfWork(batch_sessions) as uow:
                created = []
                for stage, at in zip(stages[start : start + batch], times[start : start + batch], strict=True):
                    category = rng.choices(categories, weights)[0]
                    channel = rng.choice(CHANNELS)
                    if stage == "triage":  # just outside the district: no grid takes it
                        lon, lat = maxx + rng.uniform(0.01, 0.05), rng.uniform(miny, maxy)
                    else:
                        point = units[rng.randrange(len(units))].geometry.representative_point()
                        lon, lat = point.x, point.y
                    extra: dict = {}
                    if channel == "hotline":
                        extra = {"reporter_phone": f"139{rng.randrange(10**8):08d}", "call_nature": "no_callback"}
                    incident = create_incident(
                        uow,
                        city,
                        CreateIncident(
                            description=f"{rng.choice(PLACES)}{category.name_zh}，请尽快处置",
                            category_code=category.code,
                            lon=lon,
                            lat=lat,
                            channel=channel,
                            urgency=_urgency(rng),
                            **extra,
                        ),
                        actor=CENTER,
                        now=at,
                    )
                    created.append((incident, stage, at))
                uow.session.flush()
                for incident, stage, at in created:
                    step_at = at
                    gap = (now - at) / (len(STEPS[stage]) + 2)
                    for step in STEPS[stage]:
                        step_at += gap * rng.uniform(0.5, 1.0)
                        action, req, actor = requests[step](incident)
                        perform(uow, city, incident.id, action, req, actor=actor, now=step_at)
                    statuses[incident.status] += 1
                uow.commit(now)
        if mark_published:
            with sessions.begin() as session:
                session.execute(update(OutboxEvent).where(OutboxEvent.published_at.is_(None)).values(published_at=now))
    finally:
        engine.dispose()
    return statuses


def open_case_count(database_url: str) -> int:
    """How many cases are open (not closed, archived, voided or merged) in the database."""
    from sqlalchemy import func, select

    from dispatcher.cases.incident import Incident
    from dispatcher.store.db import make_engine, make_sessions

    engine = make_engine(database_url)
    try:
        with make_sessions(engine)() as session:
            done = ("closed", "archived", "voided", "merged")
            query = select(func.count()).select_from(Incident).where(Incident.status.not_in(done))
            return int(session.scalar(query) or 0)
    finally:
        engine.dispose()


def _install_keys() -> None:
    from dispatcher.access.audit import install_audit_key
    from dispatcher.settings import get_settings
    from dispatcher.store import cipher

    settings = get_settings()
    cipher.install_key(settings.key("pii_key"))
    install_audit_key(settings.key("audit_key"), settings.audit_checkpoint_file)


def simulate(url: str, *, rate: float, officers: int, stop: threading.Event) -> None:
    """The demo's simulator against `url` until `stop`: its accounts, tokens and trackers issued as `gridcommand demo`
    issues them (in the server's database, this process's environment), then incidents at `rate` per minute and
    `officers` officers moving."""
    import contextlib
    import io

    from dashboard.cli.demo import demo_trackers, simulator_tokens
    from dispatcher.settings import get_settings
    from workers.simulator import run_simulator

    settings = get_settings()
    with contextlib.redirect_stdout(io.StringIO()):  # click.echo of the demo's helpers
        tokens = simulator_tokens(settings)
        devices = demo_trackers(settings) if officers else {}
    print(f"simulator: {len(tokens)} tokens, {len(devices)} trackers; {rate}/min, {officers} officers", flush=True)
    run_simulator(url, officers=officers, incident_rate_per_min=rate, stop=stop, tokens=tokens, devices=devices)


def main(argv: Sequence[str] | None = None) -> int:
    """``python tests/e2e/busy.py seed|simulate ...`` in the server's environment."""
    parser = argparse.ArgumentParser(prog="busy.py", description=__doc__.split("\n")[0] if __doc__ else None)
    sub = parser.add_subparsers(dest="command", required=True)
    seed = sub.add_parser("seed", help="seed open cases into DATABASE_URL; prints a JSON summary")
    seed.add_argument("--count", type=int, default=1000)
    seed.add_argument("--seed", type=int, default=11)
    seed.add_argument("--batch", type=int, default=250)
    sim = sub.add_parser("simulate", help="run the simulator against a server until SIGTERM")
    sim.add_argument("--url", required=True)
    sim.add_argument("--rate", type=float, default=20.0)
    sim.add_argument("--officers", type=int, default=60)
    args = parser.parse_args(argv)
    _install_keys()
    if args.command == "seed":
        from dispatcher.settings import get_settings

        started = time.monotonic()
        url = get_settings().database_url
        statuses = seed_open_cases(url, args.count, now=datetime.now(UTC), seed=args.seed, batch=args.batch)
        summary = {
            "seconds": round(time.monotonic() - started, 2),
            "statuses": dict(statuses),
            "open": open_case_count(url),
        }
        print(json.dumps(summary), flush=True)
        return 0
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    simulate(args.url, rate=args.rate, officers=args.officers, stop=stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
