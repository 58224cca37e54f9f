"""The analysis page's callbacks: the table of the chosen object, set and period (kept in a Store for the trend chart),
drill-down by a row's name, the cases behind a clicked cell, the choropleth of an indicator at a grid level, and the
export links carrying the same query."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import dash
from dash import ALL, Input, Output, State, ctx, html
from dash.exceptions import PreventUpdate

from dashboard.api.analysis_export import cases_for, table_for
from dashboard.pages.analysis_views import case_list, choropleth, table_view, trend_figure
from dashboard.pages.components import grids_url, viewer
from dashboard.pages.i18n import lang_of, t
from dashboard.pages.i18n_errors import error_text
from dispatcher.errors import EngineError
from dispatcher.evaluation.tables import Table

CASES_LIMIT = 200
EXPORT = "/api/v1/analysis/table"


def query(kind, indicator_set, period, anchor, end, parent) -> dict[str, str]:
    """The page's choice as the query of GET /analysis/table and its exports (parent only when it drills this kind)."""
    period = period or "month"
    at = f"{anchor}..{end or anchor}" if period == "range" and anchor else (anchor or "")
    args = {"kind": kind or "street", "period": period, "at": at, "set": indicator_set or ""}
    if parent and parent.get("kind") == args["kind"]:
        args["parent"] = parent["code"]
    return {k: v for k, v in args.items() if v}


def trend_labels(table: Table, count: int) -> list[str]:
    """The keys of the last `count` periods, oldest first (the engine's periods.back)."""
    from dispatcher.evaluation import periods

    return [p.key for p in periods.back(table.period, count)]


def crumbs(parent: dict | None, lang: str) -> list:
    """全部 › the drilled object (a click on 全部 goes back to the top of the kind above)."""
    if not parent:
        return []
    return [
        html.Button(t("an_top", lang), id="an-top", className="gc-an-crumb"),
        html.Span(" › "),
        html.B(parent.get("name") or parent["code"]),
    ]


def _table(args: dict[str, str]) -> Table:
    return table_for(viewer(), args)


def refresh_outputs(args: dict[str, str], parent: dict | None, lang: str) -> tuple:
    """Everything a new choice changes: the stored table, its view, the export links, indicator options, crumbs."""
    try:
        table = _table(args)
    except (EngineError, ValueError) as exc:
        message = t("an_error", lang, message=error_text(exc, lang) if isinstance(exc, EngineError) else str(exc))
        return None, [], "#", "#", [], crumbs(parent, lang), message
    options = [{"label": i.name_zh if lang == "zh" else i.name_en, "value": i.code} for i in table.indicators]
    link = urlencode({**args, "lang": lang})
    return (
        table.model_dump(mode="json"),
        table_view(table, lang),
        f"{EXPORT}.xlsx?{link}",
        f"{EXPORT}.csv?{link}",
        options,
        crumbs(parent, lang),
        "",
    )


def cases_view(args: dict[str, str], code: str, indicator: str, stored: dict, lang: str) -> html.Div:
    """The numerator's and the denominator's cases of one cell."""
    table = Table.model_validate(stored)
    chosen = next(i for i in table.indicators if i.code == indicator)
    row = next((r for r in table.rows if r.code == code), table.total)
    cell = row.cells[indicator]
    parts: list[Any] = [
        html.H4(t("an_cases_of", lang, name=row.name, indicator=chosen.name_zh if lang == "zh" else chosen.name_en))
    ]
    for count, key, n in (
        (chosen.numerator, "an_numerator", cell.numerator),
        (chosen.denominator, "an_denominator", cell.denominator),
    ):
        cases = cases_for(viewer(), args, code=code, count=count)[:CASES_LIMIT]
        parts.append(case_list(cases, t(key, lang, label=count, n=n), lang, CASES_LIMIT))
    return html.Div(parts, id="an-cases-list")


def register(app: dash.Dash) -> None:
    """The page's server callbacks."""
    controls = [
        Input("an-kind", "value"),
        Input("an-set", "value"),
        Input("an-period", "value"),
        Input("an-anchor", "value"),
        Input("an-end", "value"),
        Input("an-parent", "data"),
    ]

    @app.callback(
        Output("an-data", "data"),
        Output("an-table", "children"),
        Output("an-xlsx", "href"),
        Output("an-csv", "href"),
        Output("an-indicator", "options"),
        Output("an-crumbs", "children"),
        Output("an-error", "children"),
        *controls,
        State("gc-lang", "data"),
    )
    def refresh(kind, indicator_set, period, anchor, end, parent, lang):
        """The table of the choice, inside the viewer's scope."""
        return refresh_outputs(query(kind, indicator_set, period, anchor, end, parent), parent, lang_of(lang))

    @app.callback(
        Output("an-kind", "value"),
        Output("an-parent", "data"),
        Input({"type": "an-drill", "code": ALL, "kind": ALL}, "n_clicks"),
        State("an-data", "data"),
        prevent_initial_call=True,
    )
    def drill(clicks, stored):
        """A row's name: its children (street → communities, post → persons)."""
        if not ctx.triggered_id or not any(clicks):
            raise PreventUpdate
        code, kind = ctx.triggered_id["code"], ctx.triggered_id["kind"]
        rows = (stored or {}).get("rows", [])
        name = next((r["name"] for r in rows if r["code"] == code), code)
        return kind, {"kind": kind, "code": code, "name": name}

    @app.callback(
        Output("an-kind", "value", allow_duplicate=True),
        Output("an-parent", "data", allow_duplicate=True),
        Input("an-top", "n_clicks"),
        State("an-kind", "value"),
        prevent_initial_call=True,
    )
    def top(n, kind):
        """全部: back to the kind above without a parent."""
        if not n:
            raise PreventUpdate
        up = {"community": "street", "unit": "community", "person": "post", "street": "district"}
        return up.get(kind, kind), None

    @app.callback(Output("an-indicator", "value"), Input("an-indicator", "options"), State("an-indicator", "value"))
    def first_indicator(options, value):
        """Keep the chosen indicator when it is still there, else the first."""
        codes = [o["value"] for o in options or []]
        return value if value in codes else (codes[0] if codes else None)

    @app.callback(
        Output("an-trend", "figure"), Input("an-data", "data"), Input("an-indicator", "value"), State("gc-lang", "data")
    )
    def trend(stored, indicator, lang):
        """The chosen indicator over the last periods: the total and the best rows."""
        if not stored:
            return {"data": [], "layout": {"height": 260}}
        table = Table.model_validate(stored)
        count = max((len(c.trend) for c in table.total.cells.values()), default=0)
        try:
            labels = trend_labels(table, count)
        except (ImportError, AttributeError, ValueError):
            labels = []
        return trend_figure(table, indicator, labels, lang_of(lang))

    @app.callback(
        Output("an-choro", "hideout"),
        Output("an-choro", "url"),
        Input("an-level", "value"),
        Input("an-indicator", "value"),
        *controls[1:5],
    )
    def choro(level, indicator, indicator_set, period, anchor, end):
        """The chosen indicator per grid of the chosen level, for the map's colours."""
        args = query(level or "street", indicator_set, period, anchor, end, None)
        try:
            table = _table(args)
        except (EngineError, ValueError):
            return {"kind": level, "values": {}}, grids_url(level or "street")
        return {"kind": level, **choropleth(table, indicator)}, grids_url(level or "street")

    @app.callback(
        Output("an-cases", "children"),
        Output("an-cases", "className"),
        Input({"type": "an-cell", "code": ALL, "ind": ALL}, "n_clicks"),
        State("an-data", "data"),
        *[State(c.component_id, c.component_property) for c in controls],
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def cases(clicks, stored, kind, indicator_set, period, anchor, end, parent, lang):
        """A cell: the cases behind its numerator and denominator, each openable in the command center."""
        if not ctx.triggered_id or not any(clicks) or not stored:
            raise PreventUpdate
        args = query(kind, indicator_set, period, anchor, end, parent)
        code, indicator = ctx.triggered_id["code"], ctx.triggered_id["ind"]
        return cases_view(args, code, indicator, stored, lang_of(lang)), "gc-an-cases-box"
