"""The wall display (/wall): today's figures with their periods and denominators, the shaded live map, trends by
hour and by day, departments and streets ranked worst first, channel mix and staff on duty. No controls; refreshed by
pushes (at most once a second) and a slow tick for the clock-based figures; sized by the viewport
(dashboard/assets/wall.css, wall.js)."""

from __future__ import annotations

from dash import dcc, html

from dashboard.pages.components import base_map, city_bounds, grid_layer, grids_url, header
from dashboard.pages.feed import display_crs
from dashboard.pages.i18n import t
from dashboard.pages.sockets import live_socket
from dashboard.pages.wall_callbacks import register  # noqa: F401  (the page's callbacks, registered by mount_dash)
from dashboard.pages.wall_views import GRAPH_CONFIG, tile
from dashboard.runtime import current_runtime

THROTTLE_MS = 1000
ZOOM = 13.25  # the whole district on a 1920 px wide wall; wall.js adds log2(width / 1920) on other screens
SLOW_MS = 60_000  # the clock moves overdue counts and the current hour even when nothing is pushed
TILES = ("received", "filed", "dispatched", "in_handling", "closed")


def _graph(graph_id: str) -> dcc.Graph:
    return dcc.Graph(id=graph_id, config=GRAPH_CONFIG, className="gc-wgraph", responsive=True)


def _panel(title: str, body, panel_id: str) -> html.Section:
    return html.Section([html.H3(title), body], id=panel_id, className="gc-wpanel")


def _map(lang: str):
    rt = current_runtime()
    coords = None if display_crs(rt.settings.tile_url) == "wgs84" else {"variable": "gc.map.displayCoords"}
    layers = [
        grid_layer(
            "wall-communities", "community", url=grids_url("community"), hideout={}, coords=coords, interactive=False
        ),
        grid_layer(
            "wall-streets",
            "street",
            url=grids_url("street"),
            hideout={"shade": True},
            coords=coords,
            interactive=False,
        ),
    ]
    return base_map(
        "wall-map",
        layers,
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        zoom=ZOOM,
        lang=lang,
        zoomControl=False,
        dragging=False,
        scrollWheelZoom=False,
        doubleClickZoom=False,
        className="gc-map gc-wall-map",
    )


def _view() -> dict | None:
    """The map's centre (the city's) and zoom at 1920 px, for wall.js to scale the zoom to the screen."""
    bounds = city_bounds(current_runtime().city.grids)
    if bounds is None:
        return None
    (south, west), (north, east) = bounds
    return {"center": {"lat": (south + north) / 2, "lng": (west + east) / 2}, "zoom": ZOOM}


def layout(lang: str) -> html.Div:
    """The leader's wall: no controls, type sized by the viewport, refreshed by pushes (at most once a second)."""
    tiles = [tile(k, lang) for k in TILES]
    tiles += [
        tile("on_time", lang, sub=True),
        tile("open_overdue", lang, sub=True),
        tile("on_time_week", lang, sub=True),
    ]
    left = html.Div(
        [
            _panel(t("wl_hourly", lang), _graph("wall-hours"), "wall-p-hours"),
            _panel(t("wl_daily", lang), _graph("wall-days"), "wall-p-days"),
            _panel(t("wl_channels", lang), _graph("wall-channels"), "wall-p-channels"),
        ],
        className="gc-wall-col",
    )
    right = html.Div(
        [
            _panel(t("wl_depts", lang), html.Div(id="wall-depts", className="gc-wrank"), "wall-p-depts"),
            _panel(t("wl_streets", lang), html.Div(id="wall-streets-rank", className="gc-wrank"), "wall-p-streets"),
            _panel(t("wl_staff", lang), html.Div(id="wall-staff", className="gc-wstaff-box"), "wall-p-staff"),
        ],
        className="gc-wall-col",
    )
    return html.Div(
        [
            header("wall", lang, "wall"),
            live_socket("wall-socket"),
            dcc.Store(id="wall-dirty", data=0),
            dcc.Store(id="wall-refresh", data=None),
            dcc.Store(id="wall-figs", data=None),
            dcc.Interval(id="wall-throttle", interval=THROTTLE_MS),
            dcc.Interval(id="wall-slow", interval=SLOW_MS),
            html.Div(tiles, className="gc-kpis gc-wall-kpis"),
            dcc.Store(id="wall-view", data=_view()),
            html.Div([left, html.Div(_map(lang), className="gc-wall-mapbox"), right], className="gc-wall-grid"),
        ],
        className="gc-page gc-wall",
    )
