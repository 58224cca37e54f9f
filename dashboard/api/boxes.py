"""The loop after dispatch at each desk: the boxes (待办/已办/超时/待审批/部门箱) with their counts, pending approvals,
the return reasons, and returns counted per department and reason."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from flask import jsonify
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from spectree import Response
from sqlalchemy import true

from dashboard.api import ErrorResponse, api, spec
from dashboard.api.incidents import IncidentOut, present
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role
from dispatcher.cases.commands import Phone
from dispatcher.cases.scope import scope_clause
from dispatcher.errors import Forbidden, Invalid, NotFound
from dispatcher.handling.boxes import Box, BoxQuery, counts, list_box, pending_approvals
from dispatcher.handling.returns import return_counts

TAG = "boxes"
MAX_DAYS = 366
REGION_STATS_ROLES = frozenset({Role.SHIFT_LEADER, Role.LEADER, Role.DISPATCHER})


class BoxFilter(BaseModel):
    """Filters of one box; all optional, combined with AND."""

    model_config = ConfigDict(extra="forbid")
    stage: Annotated[str, Field(max_length=16, pattern=r"^[a-z_]+$")] | None = Field(
        default=None, description="the running stage (file, dispatch, handle, verify)"
    )
    category: Annotated[str, Field(max_length=16)] | None = Field(default=None, description="category code or prefix")
    grid: Annotated[str, Field(max_length=32, pattern=r"^[0-9A-Za-z]+$")] | None = Field(
        default=None, description="grid code at any level"
    )
    due_before: AwareDatetime | None = Field(default=None, description="stage deadline before this time")
    q: Annotated[str, Field(min_length=1, max_length=100)] | None = Field(
        default=None, description="case number (or its start) or part of the address"
    )
    phone: Phone | None = Field(default=None, description="the caller's number (roles that see callers' numbers)")
    page: Annotated[int, Field(ge=1, le=1_000_000)] = 1
    page_size: Annotated[int, Field(ge=1, le=500)] = 50


class BoxPage(BaseModel):
    box: str
    items: list[IncidentOut]
    total: int
    page: int
    page_size: int


class CountsOut(BaseModel):
    """How many cases each box holds for the caller (department: only for department staff)."""

    model_config = ConfigDict(extra="allow")
    todo: int
    done: int
    overdue: int
    approval: int


class ApprovalsOut(BaseModel):
    items: list[dict]


class ReasonOut(BaseModel):
    code: str
    name_zh: str
    name_en: str
    evidence: bool


class ReasonsOut(BaseModel):
    items: list[ReasonOut]


class ReturnsQuery(BaseModel):
    """A period of local dates, both included, and optionally one returning department."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    start: date = Field(alias="from", description="first local day (YYYY-MM-DD)")
    end: date = Field(alias="to", description="last local day (YYYY-MM-DD), included")
    department: Annotated[str, Field(max_length=32)] | None = None


class ReturnsOut(BaseModel):
    start: str
    end: str
    items: list[dict]
    total: int


@api.get("/boxes")
@spec.validate(resp=Response(HTTP_200=CountsOut), tags=[TAG])
def box_counts():
    """How many cases each of the caller's boxes holds."""
    principal = require_principal()
    rt = current_runtime()
    with rt.sessions() as session:
        return jsonify(counts(session, rt.city, principal, now=rt.clock()))


@api.get("/boxes/<box>")
@spec.validate(
    query=BoxFilter,
    resp=Response(HTTP_200=BoxPage, HTTP_403=ErrorResponse, HTTP_404=ErrorResponse, HTTP_422=ErrorResponse),
    tags=[TAG],
    path_parameter_descriptions={"box": "one of: " + ", ".join(b.value for b in Box)},
)
def read_box(box: str, query: BoxFilter):
    """One page of one box, most urgent first (done: the latest change first); callers' details are masked."""
    try:
        chosen = Box(box)
    except ValueError:
        raise NotFound(f"unknown box '{box}'; known: {', '.join(b.value for b in Box)}", field="box") from None
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    with rt.sessions() as session:
        rows, total = list_box(session, rt.city, principal, BoxQuery(box=chosen, **query.model_dump()), now=now)
        items = [present(i, now) for i in rows]
    return jsonify(box=str(chosen), items=items, total=total, page=query.page, page_size=query.page_size)


@api.get("/approvals")
@spec.validate(resp=Response(HTTP_200=ApprovalsOut), tags=[TAG])
def approvals():
    """The requests (挂账/延期) waiting for the caller's decision (a shift leader), or made by the caller."""
    principal = require_principal()
    with current_runtime().sessions() as session:
        return jsonify(items=[row.as_dict() for row in pending_approvals(session, principal)])


@api.get("/return-reasons")
@spec.validate(resp=Response(HTTP_200=ReasonsOut), tags=[TAG])
def return_reasons():
    """The 退单 reason codes (data/handling.yaml); `evidence`: the return must carry a file of the case."""
    reasons = current_runtime().city.rules.return_reasons.values()
    return jsonify(
        items=[{"code": r.code, "name_zh": r.name_zh, "name_en": r.name_en, "evidence": r.evidence} for r in reasons]
    )


@api.get("/stats/returns")
@spec.validate(
    query=ReturnsQuery,
    resp=Response(HTTP_200=ReturnsOut, HTTP_403=ErrorResponse, HTTP_422=ErrorResponse),
    tags=["stats"],
)
def returns(query: ReturnsQuery):
    """Returns of a period (`from`, `to`: local dates, both included) per returning department and reason code.

    Shift leaders, leaders and dispatchers: the cases of their region; department heads: their own returns."""
    principal = require_principal()
    if query.end < query.start:
        raise Invalid(f"'to' ({query.end}) is before 'from' ({query.start})", field="to")
    if (query.end - query.start).days >= MAX_DAYS:
        raise Invalid(f"returns are counted over at most {MAX_DAYS} days", field="to")
    rt = current_runtime()
    if query.department is not None and query.department not in rt.city.catalogue.departments:
        raise Invalid(f"unknown department {query.department!r}", field="department")
    scope, department = _returns_scope(principal, query.department)
    zone = ZoneInfo(rt.settings.timezone)
    start = datetime.combine(query.start, time(), zone)
    end = datetime.combine(query.end + timedelta(days=1), time(), zone)
    with rt.sessions() as session:
        items = return_counts(session, start=start, end=end, scope=scope, department=department)
    return jsonify(start=str(query.start), end=str(query.end), items=items, total=sum(i["count"] for i in items))


def _returns_scope(principal: Principal, department: str | None):
    """(scope, returning department) the caller may count: Forbidden naming the user and what they asked for."""
    who = f"user {principal.username}"
    if principal.role in REGION_STATS_ROLES:
        return scope_clause(principal), department
    if principal.role is Role.DEPT_HEAD:
        own = principal.department_code
        if own is None:
            raise Forbidden(f"{who} belongs to no department: a department head counts their own department's returns")
        if department is not None and department != own:
            raise Forbidden(f"{who} may count the returns of department {own} only, not of department {department}")
        return true(), own  # their own department's returns, wherever the cases went since
    raise Forbidden(f"role '{principal.role}' may not count returns ({who})")
