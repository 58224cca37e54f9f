"""The command center page (/): live map, grid overlay, incident queue, incident drawer; pushed updates via Socket.IO."""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, Patch, State, ctx, dcc, html, no_update
from dash_socketio import DashSocketIO

from dashboard.pages import drawer, feed
from dashboard.pages.components import (
    ago,
    base_map,
    city_bounds,
    fn,
    grid_layer,
    grids_url,
    header,
    light_dot,
    viewer,
)
from dashboard.pages.i18n import client_strings, t
from dashboard.runtime import current_runtime
from dispatcher.cases import queries, stats
from dispatcher.cases.lifecycle import Status
from dispatcher.cases.scope import scope_clause
from geo.grids import Level

UNIT_ZOOM = 16
QUEUE_ROWS = 100
TABS = {
    "new": dict(status=[Status.REPORTED, Status.TRIAGE]),
    "dispatch": dict(status=[Status.FILED, Status.ESCALATED, Status.RETURNED]),
    "overdue": dict(overdue=True, open=True),
}


def _coords(crs: str) -> dict | None:
    return None if crs == "wgs84" else fn("displayCoords")


def community_hideout(load: dict) -> dict:
    """The community layer's shading input: open/overdue per community and the maximum."""
    return {"kind": "community", "load": load, "max": max((v["open"] for v in load.values()), default=0)}


def layout(lang: str) -> html.Div:
    """The whole command center, with the open incidents current as of the last outbox sequence number.

    Everything shown is inside the signed-in user's scope (dispatcher.cases.scope); nothing comes from browser ids.
    """
    principal = viewer()
    rt = current_runtime()
    crs = feed.display_crs(rt.settings.tile_url)
    now = rt.clock()
    with rt.sessions() as session:
        records, seq = feed.open_incidents(session, rt.city, now, crs, principal)
        load = stats.open_by_community(session, now, scope_clause(principal))
    strings = client_strings(lang)
    counters = [
        html.Div([html.Span(t("open_total", lang)), html.B("0", id="cc-open-n")], className="gc-hstat"),
        html.Div([html.Span(t("tab_overdue", lang)), html.B("0", id="cc-late-n")], className="gc-hstat gc-hstat-late"),
    ]
    the_map = base_map(
        "cc-map",
        [
            grid_layer(
                "cc-streets", "street", url=grids_url("street"), hideout={}, coords=_coords(crs), interactive=False
            ),
            grid_layer(
                "cc-communities",
                "community",
                url=grids_url("community"),
                hideout=community_hideout(load),
                coords=_coords(crs),
            ),
            grid_layer("cc-units", "unit", url=None, hideout={}, coords=_coords(crs)),
            dl.GeoJSON(
                id="cc-incidents-layer",
                data=None,
                cluster=True,
                pointToLayer=fn("incidentPoint"),
                clusterToLayer=fn("incidentCluster"),
                superClusterOptions={"radius": 36, "maxZoom": 15},
                zoomToBoundsOnClick=True,
                hideout={"strings": strings},
            ),
            dl.GeoJSON(id="cc-officers", data=None, pointToLayer=fn("officerPoint"), hideout={"strings": strings}),
            dl.ScaleControl(position="bottomleft", imperial=False),
        ],
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        className="gc-map",
    )
    return html.Div(
        [
            header("command", lang, "cc", counters),
            DashSocketIO(id="cc-socket", eventNames=["incident", "positions"]),
            dcc.Store(id="cc-incidents", data=records),
            dcc.Store(id="cc-seq", data=seq),
            dcc.Store(id="cc-selected", data=None),
            dcc.Store(id="cc-act-result", data=0),
            dcc.Store(id="cc-drawer-ver", data=None),
            dcc.Interval(id="cc-sync-tick", interval=20_000),
            dcc.Interval(id="cc-queue-tick", interval=30_000),
            dcc.Interval(id="cc-off-tick", interval=60_000),
            html.Div(
                [
                    _queue_panel(lang, rt),
                    html.Main(
                        [
                            the_map,
                            _legend(lang),
                            html.Div(
                                html.Div(t("grid_hint", lang), className="gc-hint"),
                                id="cc-grid-panel",
                                className="gc-grid-panel",
                            ),
                        ],
                        className="gc-mapbox",
                    ),
                    html.Aside(
                        [
                            html.Div(drawer.empty(lang), id="cc-drawer-body"),
                            html.Div(id="cc-drawer-actions"),
                            html.Div(id="cc-toast", className="gc-toast"),
                        ],
                        id="cc-drawer",
                        className="gc-drawer",
                    ),
                ],
                className="gc-cc-body",
            ),
        ],
        className="gc-page gc-cc",
        **{"data-crs": crs},
    )


def _queue_panel(lang: str, rt) -> html.Aside:
    streets = [
        {"label": g.name if lang == "zh" else g.properties.get("name_en", g.name), "value": g.code}
        for g in sorted(rt.city.grids.by_level(Level.STREET), key=lambda g: g.code)
    ]
    cat = rt.city.catalogue
    bigs = [
        {"label": (b.name_zh if lang == "zh" else b.name_en), "value": b.code}
        for b in sorted(cat.big_classes.values(), key=lambda b: b.code)
    ]
    tabs = dcc.Tabs(
        id="cc-tab",
        value="new",
        className="gc-tabs",
        children=[
            dcc.Tab(
                label=t(f"tab_{k}", lang), value=k, id=f"cc-tab-{k}", className="gc-tab", selected_className="gc-tab-on"
            )
            for k in TABS
        ],
    )
    return html.Aside(
        [
            tabs,
            html.Div(
                [
                    dcc.Dropdown(
                        id="cc-street",
                        options=streets,
                        placeholder=t("all_streets", lang),
                        clearable=True,
                        className="gc-dd",
                    ),
                    dcc.Dropdown(
                        id="cc-category",
                        options=bigs,
                        placeholder=t("all_categories", lang),
                        clearable=True,
                        className="gc-dd",
                    ),
                ],
                className="gc-filters",
            ),
            html.Div(id="cc-queue", className="gc-queue-list"),
        ],
        className="gc-queue",
    )


def _legend(lang: str) -> html.Div:
    items = [("reported", "tab_new"), ("filed", "tab_dispatch"), ("dispatched", None), ("claimed", None)]
    from dashboard.pages.i18n import status_label

    rows = [html.Div([html.I(className=f"gc-lg gc-s-{s}"), html.Span(status_label(s, lang))]) for s, _ in items]
    rows.append(html.Div([html.I(className="gc-lg gc-lg-late"), html.Span(t("overdue_flag", lang))]))
    rows.append(html.Div([html.I(className="gc-lg gc-lg-off"), html.Span(t("officers", lang))]))
    return html.Div([html.Div(t("legend", lang), className="gc-lg-title"), *rows], className="gc-legend")


def queue_rows(tab: str, street: str | None, category: str | None, lang: str) -> tuple[list, dict[str, int]]:
    """The rows of the active tab (newest first) and the count of every tab, under the street/category filters,
    inside the signed-in user's scope (the filters only narrow it)."""
    scope = scope_clause(viewer())
    rt = current_runtime()
    now = rt.clock()
    counts, rows = {}, []
    with rt.sessions() as session:
        for key, base in TABS.items():
            f = queries.IncidentFilter(
                **base, grid=street or None, category=category or None, page_size=QUEUE_ROWS if key == tab else 1
            )
            items, counts[key] = queries.list_incidents(session, f, now=now, scope=scope)
            if key == tab:
                rows = [queue_row(i, rt, now, lang) for i in items]
    if not rows:
        rows = [html.Div(t("queue_empty", lang), className="gc-empty")]
    elif counts[tab] > QUEUE_ROWS:
        rows.append(html.Div(t("queue_more", lang, n=QUEUE_ROWS, total=counts[tab]), className="gc-empty"))
    return rows, counts


def queue_row(incident, rt, now, lang: str) -> html.Div:
    """One queue line: urgency, category, clock light, description, where, how long ago."""
    from dispatcher.cases.clocks import is_overdue, light

    category = rt.city.catalogue.find_category(incident.category_code) if incident.category_code else None
    cname = (category.name_zh if lang == "zh" else category.name_en) if category else (incident.category_code or "—")
    community = rt.city.grids.find(incident.grid_community) if incident.grid_community else None
    street = rt.city.grids.find(incident.grid_street) if incident.grid_street else None
    place = " · ".join(
        g.name if lang == "zh" else g.properties.get("name_en", g.name) for g in (street, community) if g
    )
    late = is_overdue(incident, now)
    signal = light(rt.city, incident, now)
    return html.Div(
        [
            html.Div(className=f"gc-urg gc-urg-{incident.urgency}"),
            html.Div(
                [
                    html.Div(
                        [
                            html.B(cname, className="gc-q-cat"),
                            html.Span(t("overdue_flag", lang), className="gc-tag-late")
                            if late
                            else light_dot(str(signal) if signal else None, lang),
                        ],
                        className="gc-q-l1",
                    ),
                    html.Div(incident.description, className="gc-q-desc"),
                    html.Div(
                        [
                            html.Span(place or (t("f_location", lang) + " —")),
                            html.Span(ago(incident.created_at, now, lang)),
                        ],
                        className="gc-q-l3",
                    ),
                ],
                className="gc-q-main",
            ),
        ],
        id={"type": "cc-qrow", "index": incident.id},
        n_clicks=0,
        className="gc-qrow" + (" gc-qrow-late" if late else ""),
        **{"data-id": incident.id, "data-status": incident.status},
    )


def grid_panel(props: dict, lang: str) -> list:
    """The clicked grid: code, name, leader and phone, its open incidents (those inside the user's scope).

    Only the grid code is taken from the browser; everything else is read from the server's grids.
    """
    scope = scope_clause(viewer())
    rt = current_runtime()
    now = rt.clock()
    grid = rt.city.grids.find(str(props["code"]))
    if grid is None:
        return [html.Div(t("grid_hint", lang), className="gc-hint")]
    with rt.sessions() as session:
        items, total = queries.list_incidents(
            session, queries.IncidentFilter(grid=grid.code, open=True, page_size=8), now=now, scope=scope
        )
        rows = [
            html.Div(
                [html.Span(i.description[:28]), html.Span(ago(i.created_at, now, lang))],
                id={"type": "cc-qrow", "index": i.id},
                n_clicks=0,
                className="gc-gp-row",
            )
            for i in items
        ]
    info = grid.properties
    name = grid.name if lang == "zh" else info.get("name_en") or grid.name
    return [
        html.Div(
            [html.B(name), html.Span(t(f"level_{grid.level}", lang), className="gc-gp-level")], className="gc-gp-title"
        ),
        html.Div([html.Span(t("grid_code", lang)), html.Code(grid.code)], className="gc-kv"),
        html.Div([html.Span(t("grid_leader", lang)), html.B(info.get("leader_name") or "—")], className="gc-kv"),
        html.Div(
            [
                html.Span(t("grid_phone", lang)),
                html.A(info.get("leader_phone") or "—", href=f"tel:{info.get('leader_phone', '')}"),
            ],
            className="gc-kv",
        ),
        html.Div(f"{t('grid_open', lang)} · {total}", className="gc-gp-sub"),
        *rows,
    ]


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
