"""A plausible morning's backlog for the demo city: incidents over the last hours, moved along the lifecycle through
the engine with past timestamps (so some are already late). Used by `gridcommand demo` on first start."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from dispatcher.cases.actions import perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.loader import load_city
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.gridstore import load_index


def seed_backlog(database_url: str, data_dir: Path, *, count: int = 140, now: datetime, seed: int = 7) -> int:
    """A plausible morning: incidents reported over the last hours, many moved along the lifecycle, some late."""
    rng = random.Random(seed)
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    with sessions() as session:
        city = load_city(data_dir, load_index(session))
    units = city.grids.by_level("unit")
    categories = [c for c in city.catalogue.categories.values() if c.default_department]
    weights = [6 if c.code.startswith("02") else 1 for c in categories]
    places = ["路口", "小区东门", "人行道", "沿街商铺前", "公园北侧", "公交站旁", "菜场门口", "学校附近"]
    plan = [
        ("file",),
        ("file", "dispatch"),
        ("file", "dispatch", "claim"),
        ("file", "dispatch", "claim", "handle"),
        (),
        ("file", "dispatch", "claim", "handle", "verify", "close"),
    ]
    for _n in range(count):
        at = now - timedelta(minutes=rng.randint(1, 330))
        point = units[rng.randrange(len(units))].geometry.representative_point()
        category = rng.choices(categories, weights)[0]
        steps = rng.choices(plan, [3, 3, 4, 2, 4, 3])[0]
        with UnitOfWork(sessions) as uow:
            incident = create_incident(
                uow,
                city,
                CreateIncident(
                    description=f"{rng.choice(places)}{category.name_zh}，请尽快处置",
                    category_code=category.code,
                    lon=point.x,
                    lat=point.y,
                    channel=rng.choice(["grid_worker", "hotline", "public"]),
                ),
                actor="demo",
                now=at,
            )
            uow.commit(at)
            incident_id = incident.id
        step_at = at
        for action in steps:
            step_at = step_at + timedelta(minutes=rng.randint(2, 20))
            if step_at > now:
                break
            body = {"result": "已处置完毕"} if action == "handle" else {}
            with UnitOfWork(sessions) as uow:
                perform_action(uow, city, incident_id, Action(action), ActionRequest(**body), actor="demo", now=step_at)
                uow.commit(step_at)
    engine.dispose()
    return count
