"""Read-side queries over incidents: filters and pagination, evaluated in the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, func, or_, select
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status


@dataclass(frozen=True)
class IncidentFilter:
    """What to list; None means "any"."""

    status: list[Status] | None = None
    category: str | None = None
    grid: str | None = None
    department: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    overdue: bool | None = None
    open: bool | None = None
    number: str | None = None  # a case number, whole or its start
    page: int = 1
    page_size: int = 50


def _filtered(f: IncidentFilter, now: datetime) -> Select:
    query = select(Incident)
    if f.status:
        query = query.where(Incident.status.in_([str(s) for s in f.status]))
    if f.category:
        query = query.where(Incident.category_code.startswith(f.category, autoescape=True))
    if f.grid:
        query = query.where(
            or_(
                Incident.grid_unit == f.grid,
                Incident.grid_community == f.grid,
                Incident.grid_street == f.grid,
                Incident.grid_district == f.grid,
            )
        )
    if f.department:
        query = query.where(Incident.department_code == f.department)
    if f.number:
        query = query.where(Incident.case_number.startswith(f.number.strip(), autoescape=True))
    if f.created_from:
        query = query.where(Incident.created_at >= f.created_from)
    if f.created_to:
        query = query.where(Incident.created_at < f.created_to)
    open_statuses = [str(s) for s in OPEN_STATUSES]
    if f.open is not None:
        query = query.where(Incident.status.in_(open_statuses) if f.open else Incident.status.not_in(open_statuses))
    if f.overdue is not None:
        running = [s for s in open_statuses if s != Status.SUSPENDED]
        late = Incident.status.in_(running) & (Incident.stage_deadline < now)
        query = query.where(late if f.overdue else ~late | Incident.stage_deadline.is_(None))
    return query


def list_incidents(
    session: Session, f: IncidentFilter, *, now: datetime, scope: ColumnElement[bool]
) -> tuple[list[Incident], int]:
    """One page of matching incidents inside `scope` (dispatcher.cases.scope.scope_clause), newest first, and the total."""
    query = _filtered(f, now).where(scope)
    total = session.execute(select(func.count()).select_from(query.order_by(None).subquery())).scalar_one()
    page = query.order_by(Incident.created_at.desc(), Incident.id).offset((f.page - 1) * f.page_size).limit(f.page_size)
    return list(session.scalars(page)), total
