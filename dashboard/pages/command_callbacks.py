"""The command center's callbacks: catch-up from the outbox, the browser-side layers, the queue, selection,
the grid panel and the unit grids loaded at street zoom; the drawer registers its own (dashboard/pages/drawer.py)."""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, Patch, State, ctx, no_update

from dashboard.pages import drawer, feed
from dashboard.pages.command_views import TABS, community_hideout, grid_panel, queue_rows
from dashboard.pages.components import grids_url, viewer
from dashboard.pages.i18n import t
from dashboard.runtime import current_runtime
from dispatcher.cases import stats
from dispatcher.cases.scope import scope_clause

UNIT_ZOOM = 16


def register(app: dash.Dash) -> None:
    """The command center's callbacks."""

    @app.callback(
        Output("cc-incidents", "data"),
        Output("cc-seq", "data"),
        Output("cc-communities", "hideout"),
        Input("cc-socket", "data-incident"),
        Input("cc-socket", "connected"),
        Input("cc-sync-tick", "n_intervals"),
        Input("cc-act-result", "data"),
        State("cc-seq", "data"),
        prevent_initial_call=True,
    )
    def sync(_message, connected, _tick, _acted, seq):
        """Catch up from the outbox after the last applied sequence number (a push is only the trigger)."""
        if ctx.triggered_id == "cc-socket" and ctx.triggered_prop_ids.get("cc-socket.connected") and not connected:
            return no_update, no_update, no_update
        principal = viewer()
        rt = current_runtime()
        now = rt.clock()
        crs = feed.display_crs(rt.settings.tile_url)
        try:
            after = max(int(seq or 0), 0)
        except (TypeError, ValueError):
            after = 0
        with rt.sessions() as session:
            upserts, gone, last = feed.catch_up(session, rt.city, after, now, crs, principal)
            if last == after:
                return no_update, no_update, no_update
            load = stats.open_by_community(session, now, scope_clause(principal))
        patch = Patch()
        for incident_id, record in upserts.items():
            patch[incident_id] = record
        for incident_id in gone:
            del patch[incident_id]
        return patch, last, community_hideout(load)

    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "incidentsLayer"),
        Output("cc-incidents-layer", "data"),
        Output("cc-open-n", "children"),
        Output("cc-late-n", "children"),
        Input("cc-incidents", "data"),
        Input("cc-street", "value"),
        Input("cc-category", "value"),
        Input("cc-queue-tick", "n_intervals"),
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "officersLayer"),
        Output("cc-officers", "data"),
        Input("cc-socket", "data-positions"),
        Input("cc-off-tick", "n_intervals"),
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "connection"),
        Output("cc-conn", "children"),
        Output("cc-conn", "className"),
        Input("cc-socket", "connected"),
        State("cc-strings", "data"),
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "clock"), Output("cc-clock", "children"), Input("cc-clock-tick", "n_intervals")
    )

    @app.callback(
        Output("cc-queue", "children"),
        *[Output(f"cc-tab-{k}", "label") for k in TABS],
        Input("cc-seq", "data"),
        Input("cc-tab", "value"),
        Input("cc-street", "value"),
        Input("cc-category", "value"),
        Input("cc-queue-tick", "n_intervals"),
        State("gc-lang", "data"),
    )
    def queue(_seq, tab, street, category, _tick, lang):
        """The side queue of the chosen tab, with the count of each tab in its label."""
        rows, counts = queue_rows(tab or "new", street, category, lang)
        return rows, *[f"{t(f'tab_{k}', lang)} {counts[k]}" for k in TABS]

    @app.callback(
        Output("cc-selected", "data"),
        Input("cc-incidents-layer", "clickData"),
        Input({"type": "cc-qrow", "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(click, _clicks):
        """A marker or a queue row opens the incident drawer."""
        if ctx.triggered_id == "cc-incidents-layer":
            props = (click or {}).get("properties") or {}
            return props.get("id") or no_update
        if isinstance(ctx.triggered_id, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            return ctx.triggered_id["index"]
        return no_update

    @app.callback(
        Output("cc-grid-panel", "children"),
        Input("cc-communities", "clickData"),
        Input("cc-units", "clickData"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def grid_clicked(community, unit, lang):
        """Clicking a grid shows its leader and open incidents."""
        clicked = unit if ctx.triggered_id == "cc-units" else community
        props = (clicked or {}).get("properties")
        return grid_panel(props, lang) if isinstance(props, dict) and props.get("code") else no_update

    @app.callback(
        Output("cc-units", "url"), Input("cc-map", "zoom"), State("cc-units", "url"), prevent_initial_call=True
    )
    def unit_grids(zoom, url):
        """Unit grids are fetched once, when the map first reaches street-level zoom."""
        return grids_url("unit") if zoom and zoom >= UNIT_ZOOM and not url else no_update

    drawer.register(app)
