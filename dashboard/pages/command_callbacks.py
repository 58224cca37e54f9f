"""The command center's callbacks: the browser-side queue (assets/queue.js), search, selection, the grid panel, the
community shading and the unit grids loaded at street zoom; the drawer registers its own (dashboard/pages/drawer.py).

The live path of the command center is not here: the browser's own Socket.IO client (assets/desk_live.js) fetches
the changed cases from /api/v1/feed and patches the queue and the markers itself, and moves the officers, without
any Dash prop (on a page this large every Dash update costs the browser dearly). What stays here for it: the hook
that catches up after the drawer's own actions. The outbox catch-up through Dash props (`sync`) now serves the
workbench (dashboard/pages/work.py), which carries the command center's DashSocketIO ids for the drawer.
"""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, ctx, no_update

from dashboard.pages import drawer, feed
from dashboard.pages.command_views import TABS, community_hideout, grid_panel, search_records
from dashboard.pages.components import viewer
from dashboard.runtime import current_runtime
from dispatcher.cases import stats
from dispatcher.cases.scope import scope_clause

UNIT_ZOOM = 16


def register(app: dash.Dash) -> None:
    """The command center's callbacks."""

    @app.callback(
        Output("cc-communities", "hideout"),
        Input("cc-shade-tick", "n_intervals"),
        State("cc-communities", "hideout"),
        prevent_initial_call=True,
    )
    def shading(_tick, shown):
        """The communities' open/overdue shading, on a slow tick (restyling every polygon on each event costs the
        browser more than the shading tells a seat), and only when it changed (else the map is not touched)."""
        rt = current_runtime()
        with rt.sessions() as session:
            hideout = community_hideout(stats.open_by_community(session, rt.clock(), scope_clause(viewer())))
        return no_update if hideout == shown else hideout

    @app.callback(
        Output("cc-incidents", "data"),
        Output("cc-seq", "data"),
        Input("cc-socket", "data-incident"),
        Input("cc-socket", "connected"),
        Input("cc-sync-tick", "n_intervals"),
        Input("cc-socket", "data-acted"),
        State("cc-seq", "data"),
        prevent_initial_call=True,
    )
    def sync(_message, connected, _tick, _acted, seq):
        """The workbench's catch-up from the outbox after the last applied sequence number (a push, a tick or the
        drawer's own action is only the trigger): the changed cases as a delta, and cc-seq moved so the drawer
        refreshes. Every input is one the command center does not carry (its browser catches up by itself)."""
        if ctx.triggered_id == "cc-socket" and ctx.triggered_prop_ids.get("cc-socket.connected") and not connected:
            return no_update, no_update
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
            return no_update, no_update
        return {"up": upserts, "gone": gone}, last

    # the drawer's action, handed to the workbench's catch-up above (a page without cc-socket drops this callback)
    app.clientside_callback(
        "() => Date.now()",
        Output("cc-socket", "data-acted"),
        Input("cc-act-result", "data"),
        prevent_initial_call=True,
    )
    # ... and on the command center to the browser's own catch-up (a no-op on other pages)
    app.clientside_callback(
        dash.ClientsideFunction("gc_live", "acted"),
        Input("cc-act-result", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(  # the workbench's connection state (the command center's is set by desk_live.js)
        dash.ClientsideFunction("gc_cc", "connection"),
        Output("cc-conn", "children"),
        Output("cc-conn", "className"),
        Input("cc-socket", "connected"),
        State("cc-strings", "data"),
    )

    app.clientside_callback(
        dash.ClientsideFunction("gc_desk", "queue"),
        *[Output(f"cc-tab-{k}", "label") for k in TABS],
        Output("cc-open-n", "children"),
        Output("cc-late-n", "children"),
        Input("cc-open", "data"),
        Input("cc-tab", "value"),
        Input("cc-street", "value"),
        Input("cc-category", "value"),
        Input("cc-queue-tick", "n_intervals"),
        Input("cc-search-hits", "data"),
        State("cc-names", "data"),
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_desk", "opened"),
        Output("cc-map", "viewport"),
        Input("cc-selected", "data"),
        State("cc-map", "zoom"),
    )

    @app.callback(Output("cc-search-hits", "data"), Input("cc-search", "value"), prevent_initial_call=True)
    def search(text):
        """The search box: matching cases of any status (None when the box is empty: the tabs again)."""
        text = (text or "").strip() if isinstance(text, str) else ""
        return search_records(text[:64]) if text else None

    @app.callback(
        Output("cc-selected", "data"),
        Input({"type": "cc-gprow", "index": ALL}, "n_clicks"),
        prevent_initial_call=True,
    )
    def select(_clicks):
        """A row of the grid panel opens the incident drawer (queue rows and markers open it in the browser)."""
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

    app.clientside_callback(  # unit grids are fetched once, when the map first reaches street-level zoom
        f"(zoom, url, src) => zoom >= {UNIT_ZOOM} && !url && src ? src : window.dash_clientside.no_update",
        Output("cc-units", "url"),
        Input("cc-map", "zoom"),
        State("cc-units", "url"),
        State("cc-unit-url", "data"),
        prevent_initial_call=True,
    )

    drawer.register(app)
