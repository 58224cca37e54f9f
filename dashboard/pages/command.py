"""The command center page (/): live map, grid overlay, incident queue, incident drawer; pushed updates via Socket.IO.

Split by concern: this module lays the page out; command_views renders the queue and the grid panel and
command_callbacks keeps them live.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html
from dash_socketio import DashSocketIO

from dashboard.pages import drawer, feed
from dashboard.pages.command_callbacks import register
from dashboard.pages.command_views import TABS, community_hideout
from dashboard.pages.components import base_map, city_bounds, fn, grid_layer, grids_url, header, viewer
from dashboard.pages.i18n import client_strings, status_label, t
from dashboard.runtime import current_runtime
from dispatcher.cases import stats
from dispatcher.cases.scope import scope_clause
from geo.grids import Level

__all__ = ["layout", "register"]


def _coords(crs: str) -> dict | None:
    return None if crs == "wgs84" else fn("displayCoords")


def layout(lang: str, selected: str | None = None) -> html.Div:
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
            dcc.Store(id="cc-selected", data=selected),
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
                    drawer.panel(lang),
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
    """What the marker colours mean."""
    items = [("reported", "tab_new"), ("filed", "tab_dispatch"), ("dispatched", None), ("claimed", None)]
    rows = [html.Div([html.I(className=f"gc-lg gc-s-{s}"), html.Span(status_label(s, lang))]) for s, _ in items]
    rows.append(html.Div([html.I(className="gc-lg gc-lg-late"), html.Span(t("overdue_flag", lang))]))
    rows.append(html.Div([html.I(className="gc-lg gc-lg-off"), html.Span(t("officers", lang))]))
    return html.Div([html.Div(t("legend", lang), className="gc-lg-title"), *rows], className="gc-legend")
