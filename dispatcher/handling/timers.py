"""Timers that act (催办): yellow and red warnings to whoever holds a case, then escalation when a level has held
an overdue case past its `auto_escalate_after`. Each case carries `timer_due_at` (dispatcher/cases/clocks.py
next_timer); a scheduled job per case and moment, and a sweep as the safety net, both call `act`."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from dispatcher.cases.actions import perform_action
from dispatcher.cases.clocks import escalate_at, rearm, yellow_at
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Action, Status, allowed_actions
from dispatcher.cases.uow import UnitOfWork
from dispatcher.city.loader import City
from dispatcher.handling import notices

SYSTEM = "system"


def act(uow: UnitOfWork, city: City, incident: Incident, now: datetime) -> list[str]:
    """Do whatever is due on this case at `now` (each step once), and re-arm its timer; the steps taken."""
    done: list[str] = []
    if incident.state not in OPEN_STATUSES or incident.state is Status.SUSPENDED or incident.stage_deadline is None:
        rearm(city, incident)
        return done
    deadline = incident.stage_deadline
    if incident.warned < 1 and now < deadline and (at := yellow_at(city, incident)) is not None and now >= at:
        _warn(uow, incident, "yellow", f"stage '{incident.stage}' is due at {deadline.isoformat()}", now)
        done.append("yellow")
    if incident.warned < 2 and now > deadline:
        incident.overdue_flagged_at = now
        incident.supervised_at, incident.supervised_by = incident.supervised_at or now, incident.supervised_by or SYSTEM
        _warn(uow, incident, "red", f"stage '{incident.stage}' passed its deadline {deadline.isoformat()}", now)
        done.append("red")
    at = escalate_at(city, incident)
    if incident.warned >= 2 and at is not None and now >= at and Action.ESCALATE in allowed_actions(incident.state):
        reason = f"auto: level {incident.level} held the case past {deadline.isoformat()} + its auto_escalate_after"
        perform_action(uow, city, incident.id, Action.ESCALATE, ActionRequest(reason=reason), actor=SYSTEM, now=now)
        notices.after_action(uow.session, incident, Action.ESCALATE, now=now)
        done.append("escalate")
    rearm(city, incident)
    return done


def _warn(uow: UnitOfWork, incident: Incident, light: str, note: str, now: datetime) -> None:
    """黄牌 (a `warn` row) or 红牌 (an `overdue` row), once per stage, and the notices that go with it."""
    incident.warned = 1 if light == "yellow" else 2
    action = "warn" if light == "yellow" else "overdue"
    incident.record(action=action, actor=SYSTEM, now=now, to=incident.state, note=note, data={"light": light})
    notices.warning(uow.session, incident, light, now=now)


def due(uow: UnitOfWork, now: datetime, limit: int) -> list[Incident]:
    """Cases whose timer is due, oldest first, locked so that two sweeps never take the same case."""
    query = (
        select(Incident)
        .where(Incident.timer_due_at <= now)
        .order_by(Incident.timer_due_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(uow.session.scalars(query))


def sweep(uow: UnitOfWork, city: City, now: datetime, limit: int = 500) -> int:
    """The safety net: act on every case whose timer is due (a lost or late job is caught here); how many acted."""
    acted = 0
    for incident in due(uow, now, limit):
        if act(uow, city, incident, now):
            acted += 1
    return acted
