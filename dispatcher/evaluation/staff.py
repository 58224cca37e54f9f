"""Staff on duty: officers by status (dispatcher/fleet/officers.py status_of: on duty, busy, stale, offline, off
duty), by role among those on shift, and how many sent a position lately."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dispatcher.fleet.officers import OFFLINE_AFTER_S, Officer, OfficerPosition, OfficerStatus, Role, loads, status_of

RECENT_MINUTES = 5


class StaffOnDuty(BaseModel):
    """Officers by status (every status present), on shift by role, and those with a fix in `recent_minutes`."""

    model_config = ConfigDict(frozen=True)
    total: int
    by_status: dict[str, int]
    on_shift_by_role: dict[str, int]
    reporting: int
    recent_minutes: int


def last_fixes_from_history(session: Session, now: datetime) -> dict[str, datetime]:
    """Each officer's latest stored fix of the last OFFLINE_AFTER_S seconds (older ones make them offline anyway);
    for when the live positions (Redis) are not at hand."""
    since = now - timedelta(seconds=OFFLINE_AFTER_S)
    rows = session.execute(
        select(OfficerPosition.officer_id, func.max(OfficerPosition.at))
        .where(OfficerPosition.at >= since, OfficerPosition.at <= now)
        .group_by(OfficerPosition.officer_id)
    )
    return {officer_id: at for officer_id, at in rows if at is not None}


def staff_on_duty(
    session: Session,
    now: datetime,
    last_fixes: Mapping[str, datetime] | None = None,
    *,
    visible: Callable[[Officer], bool] | None = None,
    recent_minutes: int = RECENT_MINUTES,
) -> StaffOnDuty:
    """Count the roster (the officers `visible` lets through) by status at `now`, from each one's last fix time
    (`last_fixes`: the live positions; None reads the stored history) and open load."""
    fixes = last_fixes_from_history(session, now) if last_fixes is None else last_fixes
    busy = loads(session)
    recent = now - timedelta(minutes=recent_minutes)
    by_status = {str(s): 0 for s in OfficerStatus}
    by_role = {str(r): 0 for r in Role}
    total = reporting = 0
    for officer in session.scalars(select(Officer)):
        if visible is not None and not visible(officer):
            continue
        total += 1
        fix = fixes.get(officer.id)
        status = status_of(officer, fix, busy.get(officer.id, 0), now)
        by_status[str(status)] += 1
        if status is not OfficerStatus.OFF_DUTY:
            by_role[officer.role] = by_role.get(officer.role, 0) + 1
        if fix is not None and recent <= fix <= now:
            reporting += 1
    return StaffOnDuty(
        total=total, by_status=by_status, on_shift_by_role=by_role, reporting=reporting, recent_minutes=recent_minutes
    )
