"""The workbench's callbacks: the list and the box counts (live: the command center's catch-up moves cc-seq when an
event of the user's rooms arrives; a slow interval is the safety net), and a row click opening the drawer. The
drawer's own callbacks are registered once, by the command center (dashboard/pages/drawer.py)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, no_update

from dashboard.pages.components import viewer
from dashboard.pages.i18n import lang_of
from dashboard.pages.i18n_errors import error_text
from dashboard.pages.work_views import Filters, listing, may_work, rows, stable_order, tab_label
from dispatcher.errors import EngineError
from dispatcher.handling.boxes import Box

LIVE_TRIGGERS = {"cc-seq", "wk-tick", "cc-selected", "cc-act-result"}  # refreshes that keep the rows in place
ALL_BOXES = [str(b) for b in Box]


def refresh(
    f: Filters, order: list[str] | None, selected: str | None, lang: str, *, live: bool
) -> tuple[list, dict[str, str], list[str]]:
    """The rows of the chosen box, every tab's label with its count, and the order shown. A live refresh keeps
    the previous order; a new box, filter or search starts from the server's order (most urgent first)."""
    principal = viewer()
    if not may_work(principal):
        return [], {}, []
    items, total, tally, now, names = listing(principal, f)
    fresh = [i.id for i in items]
    shown = stable_order(order if live and isinstance(order, list) else None, fresh)
    labels = {box: tab_label(box, n, lang) for box, n in tally.items()}
    return rows(items, shown, total, now, lang, selected, names), labels, shown


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("wk-list", "children"),
        *[Output(f"wk-tab-{b}", "label") for b in ALL_BOXES],
        Output("wk-order", "data"),
        Input("wk-tab", "value"),
        Input("wk-stage", "value"),
        Input("wk-category", "value"),
        Input("wk-grid", "value"),
        Input("wk-due", "value"),
        Input("wk-q", "value"),
        Input("wk-phone", "value"),
        Input("cc-seq", "data"),
        Input("wk-tick", "n_intervals"),
        Input("cc-selected", "data"),
        State("wk-order", "data"),
        State("gc-lang", "data"),
    )
    def work_list(box, stage, category, grid, due, q, phone, _seq, _tick, selected, order, lang):
        """The list and the counts; a phone search a role may not make shows nothing rather than everything."""
        live = ctx.triggered_id in LIVE_TRIGGERS
        f = Filters(box=box, stage=stage, category=category, grid=grid, due=due, q=q, phone=phone)
        selected = selected if isinstance(selected, str) else None
        try:
            children, labels, shown = refresh(f, order, selected, lang, live=live)
        except EngineError as exc:
            from dash import html

            message = error_text(exc, lang_of(lang))
            return [html.Div(message, className="gc-hint")], *[no_update] * len(ALL_BOXES), no_update
        return children, *[labels.get(b, no_update) for b in ALL_BOXES], shown

    @app.callback(
        Output("cc-selected", "data", allow_duplicate=True),
        Input({"type": "wk-row", "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def open_case(_clicks):
        """A row opens exactly the case it shows (its id, never its position)."""
        if isinstance(ctx.triggered_id, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            return ctx.triggered_id["index"]
        return no_update
