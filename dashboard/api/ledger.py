"""The ledger (台账) export: GET /ledger?from=&to=&department=&format=csv|xlsx, audited.

The shift leader and the leader export their region's archived cases (every department, or one); a department
head exports their own department's only. Dates are local (settings.timezone): the period is [from 00:00,
to + 1 day 00:00).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import Response as FlaskResponse
from flask import request
from spectree import Response
from sqlalchemy.orm import Session

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Forbidden, Invalid
from dispatcher.handling.ledger_export import rows, to_csv, to_xlsx

TAG = "ledger"
MAX_DAYS = 366
REGION_ROLES = frozenset({Role.SHIFT_LEADER, Role.LEADER})
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@api.get("/ledger")
@spec.validate(resp=Response(HTTP_403=ErrorResponse, HTTP_422=ErrorResponse), tags=[TAG])
def export_ledger():
    """The ledger of archived cases of a period, as xlsx (default) or csv (UTF-8 with BOM).

    Query: `from`, `to` (local dates, both included), optional `department`, `format` (xlsx, csv), `lang` (zh, en).
    Shift leaders and leaders: their region; department heads: their own department only.
    """
    principal = require_principal()
    start_day, end_day = _day("from"), _day("to")
    if end_day < start_day:
        raise Invalid(f"'to' ({end_day}) is before 'from' ({start_day})", field="to")
    if (end_day - start_day).days >= MAX_DAYS:
        raise Invalid(f"a ledger export covers at most {MAX_DAYS} days", field="to")
    kind = request.args.get("format", "xlsx")
    if kind not in TYPES:
        raise Invalid(f"unknown format {kind!r}; one of: {', '.join(TYPES)}", field="format")
    lang = "en" if request.args.get("lang") == "en" else "zh"
    rt = current_runtime()
    tz = rt.settings.timezone
    department = request.args.get("department") or None
    if department is not None and department not in rt.city.catalogue.departments:
        raise Invalid(f"unknown department {department!r}", field="department")
    zone = ZoneInfo(tz)
    start = datetime.combine(start_day, time(), zone)
    end = datetime.combine(end_day + timedelta(days=1), time(), zone)
    target = f"ledger:{start_day}..{end_day}:{department or 'all'}"
    with UnitOfWork(rt.sessions) as uow:
        try:
            department, region = _scope(principal, department)
        except Forbidden as exc:
            _record(uow.session, principal, target, "denied", {"reason": exc.message}, rt.clock())
            raise
        entries = rows(uow.session, start=start, end=end, department=department, region=region)
        data = to_xlsx(entries, lang, tz) if kind == "xlsx" else to_csv(entries, lang, tz)
        detail = {"from": str(start_day), "to": str(end_day), "department": department, "region": region}
        _record(uow.session, principal, target, "ok", {**detail, "format": kind, "rows": len(entries)}, rt.clock())
    name = f"ledger-{start_day}-{end_day}" + (f"-{department}" if department else "") + f".{kind}"
    response = FlaskResponse(data, content_type=TYPES[kind])
    response.headers.set("Content-Disposition", "attachment", filename=name)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _day(name: str) -> date:
    """A required local date of the query (422 naming it when missing or not YYYY-MM-DD)."""
    text = request.args.get(name)
    if not text:
        raise Invalid(f"query parameter '{name}' is required (a date, YYYY-MM-DD)", field=name)
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise Invalid(f"query parameter '{name}' is not a date (YYYY-MM-DD): {text!r}", field=name) from None


def _scope(principal: Principal, department: str | None) -> tuple[str | None, str | None]:
    """The (department, region) this caller may export: Forbidden naming the user and what they asked for."""
    who = f"user {principal.username}"
    if principal.role in REGION_ROLES:
        if not principal.region_code:
            raise Forbidden(f"{who} has no region: the ledger is exported by region")
        return department, principal.region_code
    if principal.role is Role.DEPT_HEAD:
        own = principal.department_code
        if own is None:
            raise Forbidden(f"{who} belongs to no department: a department head exports their own department's ledger")
        if department is not None and department != own:
            raise Forbidden(f"{who} may export the ledger of department {own} only, not of department {department}")
        return own, None
    raise Forbidden(f"role '{principal.role}' may not export the ledger ({who})")


def _record(session: Session, principal: Principal, target: str, result: str, detail: dict, now: datetime) -> None:
    audit.append(
        session,
        actor=principal.username,
        role=str(principal.role),
        ip=request.remote_addr,
        action="ledger.export",
        target=target,
        result=result,
        detail=detail,
        now=now,
    )
    session.commit()
