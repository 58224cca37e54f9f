"""The triage page's callbacks: each reads the signed-in user and the controls it needs and delegates to
triage_views (what is shown) and triage_actions (what a button does)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, html, no_update

from dashboard.pages import feed
from dashboard.pages.components import register_chrome, viewer
from dashboard.pages.i18n import lang_of, t
from dashboard.pages.intake_widgets import (
    click_latlng,
    clicked_point,
    display_crs,
    forbidden,
    grid_path_view,
    pin,
    register_category_search,
)
from dashboard.pages.triage_actions import act, outputs
from dashboard.pages.triage_views import allowed, candidates_view, find_item, info, list_rows, queue
from dashboard.runtime import current_runtime

SELECTED_PIN = "#a78bfa"  # the report's own point; a corrected point has the usual pin colour


def _clicked() -> bool:
    return bool(ctx.triggered) and bool(ctx.triggered[0]["value"])


def register(app: dash.Dash) -> None:
    """Every callback of the triage page."""
    register_chrome(app, "tr")

    @app.callback(
        Output("tr-list", "children"),
        Output("tr-count", "children"),
        Input("tr-socket", "data-incident"),
        Input("tr-done", "data"),
        Input("tr-tick", "n_intervals"),
        Input("tr-selected", "data"),
        State("gc-lang", "data"),
    )
    def listing(_msg, _done, _tick, selected, lang):
        """The triage queue, refreshed on every pushed change."""
        lang = lang_of(lang)
        principal = viewer()
        if not allowed(principal):
            return forbidden(lang, "triage", "tr"), ""
        with current_runtime().sessions() as session:
            items = queue(session, principal)
            return list_rows(items, selected if isinstance(selected, str) else None, lang), str(len(items))

    @app.callback(
        Output("tr-selected", "data"), Input({"type": "tr-row", "index": ALL}, "n_clicks"), prevent_initial_call=True
    )
    def select(_clicks):
        """A click on a row selects the report."""
        if isinstance(ctx.triggered_id, dict) and _clicked():
            return ctx.triggered_id["index"]
        return no_update

    @app.callback(
        Output("tr-info", "children"),
        Output("tr-category", "value"),
        Output("tr-loc", "data"),
        Output("tr-pin", "children"),
        Output("tr-grid", "children"),
        Output("tr-cands", "children"),
        Output("tr-void-reason", "value"),
        Input("tr-selected", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def show(incident_id, lang):
        """The selected report: facts, reason, current category and point, duplicate candidates."""
        lang = lang_of(lang)
        principal = viewer()
        empty = (html.Div(t("tr_pick", lang), className="gc-hint"), None, None, [], [], [], "")
        if not allowed(principal) or not isinstance(incident_id, str):
            return empty
        with current_runtime().sessions() as session:
            item = find_item(session, principal, incident_id)
            if item is None:
                return empty
            i = item.incident
            marker, grid = [], []
            if i.lon is not None:
                lon, lat = feed.to_display(i.lon, i.lat, display_crs())
                marker, grid = pin(lat, lon, SELECTED_PIN), grid_path_view(i.lon, i.lat, lang)
            return info(item, lang), i.category_code, None, marker, grid, candidates_view(item, principal, lang), ""

    register_category_search(app, "tr", allowed)

    @app.callback(
        Output("tr-loc", "data", allow_duplicate=True),
        Output("tr-pin", "children", allow_duplicate=True),
        Output("tr-grid", "children", allow_duplicate=True),
        Input("tr-map", "clickData"),
        State("tr-selected", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def clicked(click, selected, lang):
        """A map click is the corrected location; its grid path shows at once."""
        ready = allowed(viewer()) and isinstance(selected, str)
        point = clicked_point(click, display_crs()) if ready else None
        if point is None:
            return no_update, no_update, no_update
        lat, lng = click_latlng(click)
        return {"lon": point[0], "lat": point[1]}, pin(lat, lng), grid_path_view(point[0], point[1], lang_of(lang))

    @app.callback(
        Output("tr-toast", "children"),
        Output("tr-done", "data"),
        Output("tr-selected", "data", allow_duplicate=True),
        Input("tr-file", "n_clicks"),
        Input("tr-void", "n_clicks"),
        Input({"type": "tr-merge", "index": ALL}, "n_clicks"),
        State("tr-selected", "data"),
        State("tr-category", "value"),
        State("tr-loc", "data"),
        State("tr-void-reason", "value"),
        State("tr-done", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def action(_file, _void, _merge, incident_id, category, loc, reason, done, lang):
        """File (with the corrections), void (with a reason) or merge into a candidate, in one step."""
        outcome = act(
            viewer(), incident_id, ctx.triggered_id, clicked=_clicked(), category=category, loc=loc, reason=reason
        )
        return outputs(outcome, done, lang_of(lang))
