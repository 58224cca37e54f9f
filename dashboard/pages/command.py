"""The command center page (/): live map, grid overlay, incident queue, incident drawer; pushed updates via Socket.IO.

Split by concern: this module lays the page out; command_views renders the queue and the grid panel and
command_callbacks keeps them live.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from dashboard.pages import drawer, feed
from dashboard.pages.basemap import base_layers, layers_control, legend
from dashboard.pages.command_callbacks import register
from dashboard.pages.command_views import TABS, community_hideout, desk_names, help_overlay
from dashboard.pages.components import base_map, city_bounds, fn, grid_layer, header, viewer
from dashboard.pages.i18n import dropdown_labels, t
from dashboard.runtime import current_runtime
from dashboard.tiles import grid_outlines_url
from dispatcher.cases import stats
from dispatcher.cases.scope import scope_clause
from geo.grids import Level

__all__ = ["layout", "register"]
SHADE_MS = 30_000
FEED_URL = "/api/v1/feed"  # the open cases, fetched by the browser itself (assets/desk_live.js), compressed


# what the command center's first paint waits for besides Dash itself: asked for with the page (HTTP Link preload),
# while the browser is still parsing the scripts (Dash's lazily loaded GeoJSON layer code among them)
PRELOAD_SCRIPTS = ("/_dash-component-suites/dash_leaflet/async-GeoJSON.js",)


def preload_links(grid_version: str) -> str:
    """The Link header of the command center's page: the outlines it draws first and the GeoJSON layer's code, fetched
    while the browser parses the scripts, and then taken from the cache by the map. (Not the open cases: their query
    is the longest of the page's, and on SQLite it would hold the database while every script request signs in;
    assets/desk_live.js asks for them once the scripts are in.)"""
    fetched = [grid_outlines_url(level, grid_version) for level in ("street", "community")]
    links = [f"<{url}>; rel=preload; as=fetch; crossorigin=anonymous" for url in fetched]
    links += [f"<{url}>; rel=preload; as=script" for url in PRELOAD_SCRIPTS]
    return ", ".join(links)


def _coords(crs: str) -> dict | None:
    return None if crs == "wgs84" else fn("displayCoords")


def layout(lang: str, selected: str | None = None) -> html.Div:
    """The whole command center. The open incidents are not in it: the browser fetches them from FEED_URL (started
    before Dash renders this, compressed; the same records and rules), as it fetches the grid outlines from their
    versioned, cacheable URLs.

    Everything shown is inside the signed-in user's scope (dispatcher.cases.scope); nothing comes from browser ids.
    """
    principal = viewer()
    rt = current_runtime()
    crs = feed.display_crs(rt.settings.tile_url)
    version = str(rt.city.grids.version)
    with rt.sessions() as session:
        load = stats.open_by_community(session, rt.clock(), scope_clause(principal))
    counters = [
        html.Div([html.Span(t("open_total", lang)), html.B("0", id="cc-open-n")], className="gc-hstat"),
        html.Div([html.Span(t("tab_overdue", lang)), html.B("0", id="cc-late-n")], className="gc-hstat gc-hstat-late"),
    ]
    coords = _coords(crs)
    # the markers themselves are drawn by assets/incidents.js (Leaflet.markercluster, patched marker by marker);
    # this empty group is what the layer control toggles
    incidents = dl.LayerGroup(id="cc-incidents-layer")
    # officers too (assets/desk_live.js, moved marker by marker from the pushed positions), in a pane under the
    # incident markers (assets/basemap.js): an officer never hides an incident; this empty group is their toggle
    officers = dl.LayerGroup(id="cc-officers-layer")
    overlays = [
        (
            "bm_streets",
            grid_layer(
                "cc-streets",
                "street",
                url=grid_outlines_url("street", version),
                hideout={},
                coords=coords,
                interactive=False,
            ),
            True,
        ),
        (
            "bm_communities",
            grid_layer(
                "cc-communities",
                "community",
                url=grid_outlines_url("community", version),
                hideout=community_hideout(load),
                coords=coords,
            ),
            True,
        ),
        ("bm_units", grid_layer("cc-units", "unit", url=None, hideout={}, coords=coords), True),
        ("bm_incidents", incidents, True),
        ("officers", officers, True),
    ]
    base = base_layers(rt.settings, rt.settings.tile_url, lang=lang, coords=coords)
    control = layers_control(lang, base, overlays)
    # the overlays shown at first: dash-leaflet's control updates this list as they are toggled (and fails on a
    # toggle while it is unset)
    control.overlays = [t(key, lang) for key, _, shown in overlays if shown]
    the_map = base_map(
        "cc-map",
        [control, dl.ScaleControl(position="bottomleft", imperial=False)],
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        base=False,
        className="gc-map",
    )
    return html.Div(
        [
            header("command", lang, "cc", counters),
            # where the open cases come from: the browser fetches them (assets/desk_live.js, started as soon as its
            # script runs), keeps its copy and fetches only deltas itself, on Socket.IO pushes, outside Dash (every
            # Dash prop update costs this large page dearly)
            dcc.Store(id="cc-open", data={"src": FEED_URL}),
            dcc.Store(id="cc-unit-url", data=grid_outlines_url("unit", version)),  # loaded at street zoom
            dcc.Store(id="cc-names", data=desk_names(rt.city, lang)),
            dcc.Store(id="cc-search-hits", data=None),
            dcc.Store(id="cc-seq", data=0),  # moved only when the open case changes: the drawer refreshes
            dcc.Store(id="cc-selected", data=selected),
            dcc.Store(id="cc-act-result", data=0),
            dcc.Store(id="cc-drawer-ver", data=None),
            dcc.Interval(id="cc-shade-tick", interval=SHADE_MS),  # the communities' load shading
            dcc.Interval(id="cc-queue-tick", interval=60_000),  # the rows' "n min ago" and clock lights
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
            html.Div(id="cc-alert", className="gc-alert", role="alert"),
            help_overlay(lang),
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
    search = dcc.Input(
        id="cc-search",
        type="search",
        debounce=0.3,
        placeholder=t("q_search_ph", lang),
        className="gc-q-search",
        autoComplete="off",
    )
    return html.Aside(
        [
            search,
            tabs,
            html.Div(
                [
                    dcc.Dropdown(
                        labels=dropdown_labels(lang),
                        id="cc-street",
                        options=streets,
                        placeholder=t("all_streets", lang),
                        clearable=True,
                        className="gc-dd",
                    ),
                    dcc.Dropdown(
                        labels=dropdown_labels(lang),
                        id="cc-category",
                        options=bigs,
                        placeholder=t("all_categories", lang),
                        clearable=True,
                        className="gc-dd",
                    ),
                ],
                className="gc-filters",
            ),
            html.Div(
                [
                    html.Button(id="cc-queue-pill", className="gc-q-pill", type="button"),
                    html.Div(id="cc-queue", className="gc-queue-list", role="listbox"),  # drawn by assets/queue.js
                ],
                className="gc-queue-box",
            ),
            html.Div(
                [html.Span(t("help_keys", lang)), html.Button(id="cc-sound", className="gc-q-sound", type="button")],
                className="gc-q-keys",
            ),
        ],
        className="gc-queue",
    )


def _legend(lang: str) -> html.Details:
    """Every symbol on the map: incident status, urgency, overdue, clusters, officers, grids, base map."""
    return legend(lang)
