"""The boxes (待办 / 已办 / 超时 / 待审批) of each person: what is theirs to do now, what they have done, what of it
is late, and what waits for an approval — evaluated in the database, inside the caller's scope."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role, may_see_phones
from dispatcher.cases.incident import CasePartner, Incident, TimelineEntry
from dispatcher.cases.lifecycle import OPEN_STATUSES, Status
from dispatcher.cases.scope import scope_clause
from dispatcher.city.loader import City
from dispatcher.errors import Forbidden
from dispatcher.handling.approvals import Approval, Decision
from dispatcher.intake.callers import phone_hash

R, S = Role, Status
I = Incident  # noqa: E741 - read as "incident" in the clauses below


class Box(StrEnum):
    TODO = "todo"  # 待办
    DONE = "done"  # 已办
    OVERDUE = "overdue"  # 超时
    APPROVAL = "approval"  # 待审批
    DEPARTMENT = "department"  # 部门箱: every open case of one's department (heads and handlers)


@dataclass(frozen=True)
class BoxQuery:
    """One box, filtered; None means "any"."""

    box: Box = Box.TODO
    stage: str | None = None
    category: str | None = None
    grid: str | None = None
    due_before: datetime | None = None
    q: str | None = None  # a case number (or its start) or part of the address
    phone: str | None = None  # the caller's number (only for roles that see callers' numbers)
    page: int = 1
    page_size: int = 50


def _in(*statuses: Status) -> ColumnElement[bool]:
    return I.status.in_([str(s) for s in statuses])


def _mine_or_free(principal: Principal) -> ColumnElement[bool]:
    return or_(I.assignee.is_(None), I.assignee == principal.username)


def closer_levels(city: City, principal: Principal) -> frozenset[str]:
    """The ladder levels whose cases this person's department closes (the closing path, data/handling.yaml)."""
    department = city.catalogue.departments.get(principal.department_code or "")
    if department is None:
        return frozenset()
    return frozenset(level for level, kind in city.rules.closing.items() if kind is department.kind)


def todo_clause(principal: Principal, closes: Collection[str]) -> ColumnElement[bool]:
    """What is this person's to do now (a claim takes a case out of colleagues' boxes at once); `closes`: the
    levels whose cases their department closes (closer_levels)."""
    role, me = principal.role, principal.username
    # every term is TRUE or FALSE, never NULL: `done` negates this clause, and NOT NULL would drop the row
    assigned = and_(I.assignee.is_not(None), I.assignee == me, _in(S.DISPATCHED, S.CLAIMED, S.SUSPENDED, S.REWORK))
    if role in {R.DEPT_HANDLER, R.DEPT_HEAD, R.ENFORCEMENT}:
        department = principal.department_code
        if department is None:
            return assigned
        ours = I.department_code == department
        part = I.partners.any(and_(CasePartner.department_code == department, CasePartner.done_at.is_(None)))
        to_claim = and_(ours, _in(S.DISPATCHED, S.REWORK), _mine_or_free(principal))
        to_dispatch = and_(ours, _in(S.ESCALATED))  # handed over to this body by an escalation
        to_close = and_(ours, _in(S.VERIFIED, S.CLOSED), I.level.in_(list(closes)))  # where it is the closer
        return or_(assigned, to_claim, to_dispatch, and_(part, _in(S.DISPATCHED, S.CLAIMED)), to_close)
    if role is R.GRID_WORKER:
        return and_(_in(S.HANDLED), or_(I.verifier == me, I.verifier.is_(None)))
    if role in {R.DISPATCHER, R.SHIFT_LEADER}:
        center = or_(
            _in(S.REPORTED, S.TRIAGE, S.FILED, S.RETURNED),
            and_(_in(S.ESCALATED), or_(I.department_code.is_(None), I.department_code == "QZH")),
            and_(_in(S.HANDLED), I.verifier.is_(None)),
        )
        if role is R.SHIFT_LEADER:
            center = or_(center, _in(S.CLOSED), and_(_in(S.VERIFIED), _callback_settled()))
        return center
    if role is R.HOTLINE:
        return and_(_in(S.VERIFIED), I.callback_required.is_(True), _callback_open())
    if role is R.LEADER:
        return and_(I.supervised_at.is_not(None), I.status.in_([str(s) for s in OPEN_STATUSES]))
    return false()


def _callback_settled() -> ColumnElement[bool]:
    # never NULL (an IN on a NULL outcome is): `done` negates the to-do clause, and NOT NULL drops the row
    settled = and_(I.callback_outcome.is_not(None), I.callback_outcome.in_(["satisfied", "not_reached"]))
    return or_(I.callback_required.is_(False), settled)


def _callback_open() -> ColumnElement[bool]:
    return or_(I.callback_outcome.is_(None), I.callback_outcome == "unsatisfied")


def _late(now: datetime) -> ColumnElement[bool]:
    running = I.status.in_([str(s) for s in OPEN_STATUSES - {S.SUSPENDED}])
    return and_(running, or_(I.stage_deadline < now, I.total_deadline < now))


def _approval_clause(principal: Principal) -> ColumnElement[bool]:
    waiting = I.id.in_(select(Approval.incident_id).where(Approval.status == str(Decision.PENDING)))
    if principal.role is R.SHIFT_LEADER:
        return waiting
    mine = select(Approval.incident_id).where(
        Approval.status == str(Decision.PENDING), Approval.requested_by == principal.username
    )
    return I.id.in_(mine)


def box_clause(principal: Principal, box: Box, now: datetime, closes: Collection[str]) -> ColumnElement[bool]:
    """The condition of one box for this person (scope is added by the caller)."""
    if box is Box.TODO:
        return todo_clause(principal, closes)
    if box is Box.OVERDUE:
        return and_(todo_clause(principal, closes), _late(now))
    if box is Box.APPROVAL:
        return _approval_clause(principal)
    if box is Box.DEPARTMENT:
        if principal.department_code is None:
            return false()
        ours = or_(
            I.department_code == principal.department_code,
            I.partners.any(CasePartner.department_code == principal.department_code),
        )
        return and_(ours, I.status.in_([str(s) for s in OPEN_STATUSES]))
    done = I.id.in_(select(TimelineEntry.incident_id).where(TimelineEntry.actor == principal.username))
    return and_(done, ~todo_clause(principal, closes))


def _filtered(
    session: Session, principal: Principal, query: BoxQuery, now: datetime, closes: Collection[str]
) -> Select[Any]:
    stmt = select(Incident).where(scope_clause(principal), box_clause(principal, query.box, now, closes))
    if query.stage:
        stmt = stmt.where(I.stage == query.stage)
    if query.category:
        stmt = stmt.where(I.category_code.startswith(query.category, autoescape=True))
    if query.grid:
        g = query.grid
        stmt = stmt.where(or_(I.grid_unit == g, I.grid_community == g, I.grid_street == g, I.grid_district == g))
    if query.due_before:
        stmt = stmt.where(I.stage_deadline < query.due_before)
    if query.q:
        stmt = stmt.where(_text_clause(query.q))
    if query.phone:
        stmt = stmt.where(_phone_clause(principal, query.phone))
    return stmt


def _text_clause(text: str) -> ColumnElement[bool]:
    text = text.strip()
    return or_(
        I.case_number.startswith(text, autoescape=True),
        I.id.startswith(text, autoescape=True),
        I.address.contains(text, autoescape=True),
    )


def _phone_clause(principal: Principal, phone: str) -> ColumnElement[bool]:
    if not may_see_phones(principal.role):
        raise Forbidden(
            f"role '{principal.role}' may not search by a caller's number (user {principal.username})",
            field="phone",
        )
    return I.reporter_phone_hash == phone_hash(phone)


PHONE_DIGITS = 7  # a search of at least this many digits (and nothing else) is also a caller's number


def search(session: Session, principal: Principal, text: str, *, limit: int = 50) -> list[Incident]:
    """The seat's search box: cases of any status inside the scope whose number starts with `text`, whose address
    contains it, or — for roles that see callers' numbers — whose caller's number it is; newest first."""
    text = text.strip()
    clause = _text_clause(text)
    digits = text.replace(" ", "").replace("-", "")
    if digits.isdigit() and len(digits) >= PHONE_DIGITS and may_see_phones(principal.role):
        clause = or_(clause, _phone_clause(principal, digits))
    stmt = select(Incident).where(scope_clause(principal), clause)
    return list(session.scalars(stmt.order_by(I.created_at.desc(), I.id).limit(limit)))


def list_box(
    session: Session, city: City, principal: Principal, query: BoxQuery, *, now: datetime
) -> tuple[list[Incident], int]:
    """One page of a box: most urgent first (the earliest deadline; done: the latest change), and the total."""
    stmt = _filtered(session, principal, query, now, closer_levels(city, principal))
    total = session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    order: tuple[Any, ...] = (
        (I.updated_at.desc(), I.id)
        if query.box is Box.DONE
        else (I.stage_deadline.is_(None), I.stage_deadline, I.created_at, I.id)
    )
    page = stmt.order_by(*order).offset((query.page - 1) * query.page_size).limit(query.page_size)
    return list(session.scalars(page)), total


def counts(session: Session, city: City, principal: Principal, *, now: datetime) -> dict[str, int]:
    """How many cases each box holds for this person."""
    closes = closer_levels(city, principal)
    boxes = [Box.TODO, Box.DONE, Box.OVERDUE, Box.APPROVAL]
    if principal.department_code is not None:
        boxes.append(Box.DEPARTMENT)
    scope = scope_clause(principal)
    return {
        str(box): session.execute(
            select(func.count()).select_from(I).where(scope, box_clause(principal, box, now, closes))
        ).scalar_one()
        for box in boxes
    }


def pending_approvals(session: Session, principal: Principal) -> list[Approval]:
    """The requests waiting for this person's decision (a shift leader) or made by them, inside their scope."""
    query = (
        select(Approval)
        .join(I, I.id == Approval.incident_id)
        .where(Approval.status == str(Decision.PENDING), scope_clause(principal))
    )
    if principal.role is not R.SHIFT_LEADER:
        query = query.where(Approval.requested_by == principal.username)
    return list(session.scalars(query.order_by(Approval.requested_at, Approval.id)))
