"""Tallies per department × street in ONE grouped query (open, overdue, in handling now; closed, due to close and
closed on time today and over the week), from which the headline totals and the rankings of departments and streets
are summed — over a few hundred groups, never over the cases themselves. Closed, due to close (应结案) and closed on
time (按期结案) are the indicator engine's counts (dispatcher/evaluation/counts.py), over the periods cut at `now`,
so the wall and the analysis tables never disagree."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident
from dispatcher.evaluation.clauses import IN_HANDLING, count_if, is_open, overdue
from dispatcher.evaluation.counts import COUNTS, due, on_time, within
from dispatcher.evaluation.periods import Period, Rate, clipped


class RankRow(BaseModel):
    """One department or street: open and overdue cases now, and its 按期结案率 over the week with its denominator
    (应结案: the cases due to close in the week)."""

    model_config = ConfigDict(frozen=True)
    code: str
    open: int
    overdue: int
    on_time: Rate


@dataclass
class Tally:
    """The counts of one group of cases (all of them summed for the totals)."""

    open: int = 0
    overdue: int = 0
    in_handling: int = 0
    closed_day: int = 0
    due_day: int = 0
    on_time_day: int = 0
    closed_week: int = 0
    due_week: int = 0
    on_time_week: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


def tallies(
    session: Session, now: datetime, day: Period, week: Period, scope: ColumnElement[bool]
) -> dict[tuple[str | None, str | None], Tally]:
    """(department, street) → its Tally: open cases and closures of the day and the week, grouped in SQL."""
    day, week = clipped(day, now), clipped(week, now)
    closures = [
        count_if(condition)
        for p in (day, week)
        for condition in (COUNTS["closed"](p), due("close", p), on_time("close", p))
    ]
    # due to close in the week: closed in it, or its limit ran out in it (open then; maybe closed since, for a past
    # `now`); open now for the open and overdue counts
    touched = or_(is_open(), within(Incident.closed_at, week), within(Incident.total_deadline, week))
    query = (
        select(
            Incident.department_code,
            Incident.grid_street,
            count_if(is_open()),
            count_if(overdue(now)),
            count_if(Incident.status.in_(IN_HANDLING)),
            *closures,
        )
        .where(touched, scope)
        .group_by(Incident.department_code, Incident.grid_street)
    )
    return {(dept, street): Tally(*(int(n) for n in counts)) for dept, street, *counts in session.execute(query)}


def total(groups: dict[tuple[str | None, str | None], Tally]) -> Tally:
    out = Tally()
    for tally in groups.values():
        out.add(tally)
    return out


def rank(groups: dict[tuple[str | None, str | None], Tally], by: int, week: Period) -> list[RankRow]:
    """Departments (`by` 0) or streets (`by` 1), worst first: most overdue, most open, lowest on-time rate."""
    summed: dict[str, Tally] = {}
    for key, tally in groups.items():
        if (code := key[by]) is not None:
            summed.setdefault(code, Tally()).add(tally)
    rows = [
        RankRow(
            code=code,
            open=t.open,
            overdue=t.overdue,
            on_time=Rate(numerator=t.on_time_week, denominator=t.due_week, period=week),
        )
        for code, t in summed.items()
    ]
    return sorted(rows, key=_worst_first)


def _worst_first(row: RankRow) -> tuple[int, int, float, str]:
    rate = row.on_time.value
    return (-row.overdue, -row.open, 2.0 if rate is None else rate, row.code)
