"""Stage clocks: which deadline an incident runs against, and its traffic light at `now`."""

from __future__ import annotations

from datetime import datetime

from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Action, Status, allowed_actions
from dispatcher.city.calendar import YELLOW_AT, Light
from dispatcher.city.catalogue import Stage, TimeLimit
from dispatcher.city.loader import City

TRIAGE_FILE_LIMIT = TimeLimit.parse("2wh")  # an unplaced report must be sorted out within two working hours


def stage_limit(city: City, incident: Incident, stage: Stage) -> TimeLimit | None:
    """The time limit of a stage for this incident's category (triage uses the default filing limit)."""
    category = city.catalogue.find_category(incident.category_code) if incident.category_code else None
    if category is None:
        return TRIAGE_FILE_LIMIT if stage is Stage.FILE else None
    return category.limits.get(stage)


def start_stage(city: City, incident: Incident, stage: Stage | None, now: datetime) -> None:
    """Start the clock of `stage` at `now` (None stops the clock); keep the left stage's deadline for milestones."""
    limit = stage_limit(city, incident, stage) if stage else None
    incident.stage_left = (incident.stage, incident.stage_deadline)  # the deadline in force when it was left
    incident.stage = str(stage) if stage else None
    incident.stage_started_at = now if stage else None
    incident.stage_deadline = city.calendar.add(now, limit) if limit else None
    incident.overdue_flagged_at = None
    incident.warned = 0
    incident.timer_due_at = next_timer(city, incident, running=stage is not None)


def yellow_at(city: City, incident: Incident) -> datetime | None:
    """When the stage's light turns yellow (YELLOW_AT of its allowed time used, on the limit's own clock)."""
    start, deadline = incident.stage_started_at, incident.stage_deadline
    limit = stage_limit(city, incident, Stage(incident.stage)) if incident.stage else None
    if start is None or deadline is None or limit is None:
        return None
    if limit.is_working_time:
        allowed = city.calendar.working_seconds_between(start, deadline)
        return city.calendar.add_working_seconds(start, allowed * YELLOW_AT)
    return start + (deadline - start) * YELLOW_AT


def escalate_at(city: City, incident: Incident) -> datetime | None:
    """When the level holding an overdue case has held it too long and it goes up by itself (None: it never does)."""
    if incident.stage_deadline is None or incident.level is None:
        return None
    try:
        rung = city.catalogue.escalation_level(incident.level)
    except ValueError:
        return None
    if rung.auto_escalate_after is None or city.router.next_level(rung) is None:
        return None
    return city.calendar.add(incident.stage_deadline, rung.auto_escalate_after)


def next_timer(city: City, incident: Incident, *, running: bool | None = None) -> datetime | None:
    """The next moment a timer acts on this case: yellow warning, red (overdue), then auto-escalation."""
    if running is None:
        running = incident.state in OPEN_STATUSES and incident.state is not Status.SUSPENDED
    if not running or incident.stage_deadline is None:
        return None
    if incident.warned < 1:
        return yellow_at(city, incident)
    if incident.warned < 2:
        return incident.stage_deadline
    if Action.ESCALATE not in allowed_actions(incident.state):  # e.g. reported: nothing more until it moves on
        return None
    return escalate_at(city, incident)


def rearm(city: City, incident: Incident) -> None:
    """Set when the timers next look at this case (after any change to its status or clocks)."""
    incident.timer_due_at = next_timer(city, incident)


def start_total(city: City, incident: Incident, now: datetime) -> None:
    """Start the overall time limit (总时限) at filing, once: refiling after a merge or a revoke keeps it."""
    if incident.total_deadline is None and (limit := stage_limit(city, incident, Stage.TOTAL)) is not None:
        incident.total_deadline = city.calendar.add(now, limit)


def total_overdue(incident: Incident, now: datetime) -> bool:
    """Past the overall time limit while open and not suspended."""
    return (
        incident.total_deadline is not None
        and incident.state in OPEN_STATUSES
        and incident.state is not Status.SUSPENDED
        and now > incident.total_deadline
    )


def is_overdue(incident: Incident, now: datetime) -> bool:
    """Past its stage deadline while open and not suspended."""
    return (
        incident.stage_deadline is not None
        and incident.state in OPEN_STATUSES
        and incident.state is not Status.SUSPENDED
        and now > incident.stage_deadline
    )


def light(city: City, incident: Incident, now: datetime) -> Light | None:
    """Green / yellow / red for the running stage clock, None when no clock runs."""
    if incident.stage is None or incident.stage_deadline is None or incident.state not in OPEN_STATUSES:
        return None
    limit = stage_limit(city, incident, Stage(incident.stage))
    if incident.stage_started_at is None or limit is None:  # a deadline is only ever set with both
        return None
    at = incident.suspended_at or now
    return city.calendar.traffic_light(incident.stage_started_at, incident.stage_deadline, at, limit)
