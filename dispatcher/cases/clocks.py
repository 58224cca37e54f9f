"""Stage clocks: which deadline an incident runs against, and its traffic light at `now`."""

from __future__ import annotations

from datetime import datetime

from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status
from dispatcher.city.calendar import Light
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
    """Start the clock of `stage` at `now` (None stops the clock)."""
    limit = stage_limit(city, incident, stage) if stage else None
    incident.stage = str(stage) if stage else None
    incident.stage_started_at = now if stage else None
    incident.stage_deadline = city.calendar.add(now, limit) if limit else None
    incident.overdue_flagged_at = None


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
