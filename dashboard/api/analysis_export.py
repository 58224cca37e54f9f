"""The analysis table as a file: GET /analysis/table.xlsx and /analysis/table.csv (UTF-8 with BOM), the same table
the /analysis page shows for the same query, inside the caller's scope (leaders, shift leaders, department heads).

Query: the parameters of GET /analysis/table (dashboard/api/analysis.py): `kind`, `period`, `at`, `parent`, `set`;
and `lang` (zh, en) for the headers.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response as FlaskResponse
from flask import request
from spectree import Response

from dashboard.api import ErrorResponse, api, spec
from dashboard.api.analysis import _names, analyst, catalogue, checked, choice, parent_of, period_for
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.scope import scope_clause
from dispatcher.evaluation import engine
from dispatcher.evaluation.documents.spreadsheet import filename, to_csv, to_xlsx
from dispatcher.evaluation.tables import CaseRef, ObjectKind, Table

TAG = "analysis"
TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _engine_args(principal: Principal, args: Any) -> dict[str, Any]:
    """What every engine call of a query shares: kind, period, now, tz, the principal's scope, parent."""
    analyst(principal)
    rt = current_runtime()
    tz, now = rt.settings.timezone, rt.clock()
    kind = choice(args, "kind", ObjectKind, "street")
    return {
        "kind": kind,
        "period": period_for(args, now.astimezone(ZoneInfo(tz)).date(), tz),
        "now": now,
        "tz": tz,
        "scope": scope_clause(principal),
        "parent": parent_of(args, catalogue(), kind),
    }


def table_for(principal: Principal, args: Any) -> Table:
    """The table of a query (the parameters of GET /analysis/table), inside the principal's scope."""
    common = _engine_args(principal, args)
    indicator_set = args.get("set") or None
    with current_runtime().sessions.begin() as session:  # keeps finished periods (evaluation/frozen.py)
        return checked(
            lambda: engine.evaluate(
                session, catalogue(), indicator_set=indicator_set, names=_names(common["kind"]), **common
            )
        )


def cases_for(principal: Principal, args: Any, *, code: str, count: str) -> list[CaseRef]:
    """The cases behind one count of one object of a query's table (inside the principal's scope)."""
    common = _engine_args(principal, args)
    with current_runtime().sessions() as session:
        return checked(lambda: engine.cases_behind(session, catalogue(), code=code, count=count, **common))


def _download(ext: str) -> FlaskResponse:
    principal = require_principal()
    table = table_for(principal, request.args)
    lang = "en" if request.args.get("lang") == "en" else "zh"
    data = to_xlsx(table, lang) if ext == "xlsx" else to_csv(table, lang)
    response = FlaskResponse(data, content_type=TYPES[ext])
    response.headers.set("Content-Disposition", "attachment", filename=filename(table, ext))
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@api.get("/analysis/table.xlsx")
@spec.validate(resp=Response(HTTP_400=ErrorResponse, HTTP_403=ErrorResponse), tags=[TAG])
def analysis_xlsx():
    """The analysis table of the query (see the module) as an xlsx workbook, inside the caller's scope."""
    return _download("xlsx")


@api.get("/analysis/table.csv")
@spec.validate(resp=Response(HTTP_400=ErrorResponse, HTTP_403=ErrorResponse), tags=[TAG])
def analysis_csv():
    """The analysis table of the query (see the module) as CSV, UTF-8 with a BOM, inside the caller's scope."""
    return _download("csv")
