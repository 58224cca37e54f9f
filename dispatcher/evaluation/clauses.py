"""The SQL conditions the wall's figures share: open, overdue, created or closed in a period.

- open: not closed, archived, voided or merged.
- overdue (在办超期): open, clock running (not suspended), past its stage deadline or its overall limit (总时限) —
  the same rule as the workbench's 超时 box.
- closed in a period: status closed or archived with `closed_at` inside it (a voided case is not a closure).
Closure on time (应结案, 按期结案) is the indicator engine's: dispatcher/evaluation/counts.py (one rule for the wall
and the analysis tables).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, case, func, or_

from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status
from dispatcher.evaluation.periods import Period

OPEN = sorted(str(s) for s in OPEN_STATUSES)
RUNNING = sorted(str(s) for s in OPEN_STATUSES - {Status.SUSPENDED})
CLOSED = [str(Status.CLOSED), str(Status.ARCHIVED)]
IN_HANDLING = [str(s) for s in (Status.DISPATCHED, Status.CLAIMED, Status.SUSPENDED, Status.REWORK)]


def is_open() -> ColumnElement[bool]:
    return Incident.status.in_(OPEN)


def overdue(now: datetime) -> ColumnElement[bool]:
    """Open, clock running, past the stage deadline or the overall limit at `now`."""
    past = or_(Incident.stage_deadline < now, Incident.total_deadline < now)
    return and_(Incident.status.in_(RUNNING), past)


def created_in(period: Period) -> ColumnElement[bool]:
    return and_(Incident.created_at >= period.start, Incident.created_at < period.end)


def closed_in(period: Period) -> ColumnElement[bool]:
    return and_(Incident.status.in_(CLOSED), Incident.closed_at >= period.start, Incident.closed_at < period.end)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """SUM(CASE WHEN condition THEN 1 ELSE 0 END), 0 on no rows: a conditional count inside one GROUP BY."""
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
