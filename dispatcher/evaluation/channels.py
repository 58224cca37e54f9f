"""Where cases come from: received per intake channel today and over a longer period (one GROUP BY)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Channel, Incident
from dispatcher.evaluation.clauses import count_if, created_in
from dispatcher.evaluation.periods import Period


class ChannelMix(BaseModel):
    """Received per channel code (every known channel present, 0 when none) in two periods."""

    model_config = ConfigDict(frozen=True)
    today: dict[str, int]
    week: dict[str, int]
    today_period: Period
    week_period: Period


def mix(session: Session, today: Period, week: Period, scope: ColumnElement[bool]) -> ChannelMix:
    """Received per channel today and over `week` (which contains today)."""
    rows = session.execute(
        select(Incident.channel, count_if(created_in(today)), func.count())
        .where(created_in(week), scope)
        .group_by(Incident.channel)
    )
    day = {str(c): 0 for c in Channel}
    longer = dict(day)
    for channel, n_today, n_week in rows:
        day[channel] = day.get(channel, 0) + int(n_today)
        longer[channel] = longer.get(channel, 0) + int(n_week)
    return ChannelMix(today=day, week=longer, today_period=today, week_period=week)
