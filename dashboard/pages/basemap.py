"""The base map under every map, the command center's layer control and the map legend.

Offline (no GRIDCOMMAND_TILE_URL, no GRIDCOMMAND_MBTILES) the base is the demo city's vector layer
(roads, water, landmarks with labels; dashboard/tiles.py serves it, assets/basemap.js draws it).
A configured tile URL, else a raster MBTiles file served by the app, replaces it.
Panes (created in assets/basemap.js): roads and water under the grid outlines, labels above them,
officers below the incident markers so an officer never hides an incident.
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import html
from dash.development.base_component import Component

from dashboard.pages.i18n import OFFICER_STATUS, STRINGS, status_label, t
from dashboard.tiles import BASEMAP_PATH, RASTER_FORMATS, TILE_PATH, basemap_file, mbtiles_format, mbtiles_metadata
from dispatcher.cases.lifecycle import OPEN_STATUSES
from dispatcher.settings import Settings

BN = "gc.basemap."  # the browser namespace of the base map functions (assets/basemap.js)
LANDMARKS = ("hospital", "school", "station", "government", "mall", "park", "market")
ROADS = ("arterial", "secondary", "lane")

BASEMAP_STRINGS: dict[str, tuple[str, str]] = {
    "bm_city": ("城市底图", "City map"),
    "bm_tiles": ("瓦片底图", "Tile map"),
    "bm_none": ("无底图", "No base map"),
    "bm_streets": ("街道边界", "Street boundaries"),
    "bm_communities": ("社区", "Communities"),
    "bm_units": ("单元网格", "Unit grids"),
    "bm_incidents": ("事件", "Incidents"),
    "lg_status": ("事件状态（颜色）", "Incident status (colour)"),
    "lg_urgency": ("紧急程度（大小）", "Urgency (size)"),
    "lg_overdue_ring": ("红色脉冲环：已超时", "Pulsing red ring: overdue"),
    "lg_cluster": ("聚合：数字为事件数，点击放大", "Cluster: number of incidents, click to zoom"),
    "lg_cluster_late": ("红色聚合：含超时事件", "Red cluster: holds overdue incidents"),
    "lg_heading": ("箭头：行进方向", "Arrow: heading"),
    "lg_grids": ("网格", "Grids"),
    "lg_street_line": ("街道边界", "Street boundary"),
    "lg_community_line": ("社区边界", "Community boundary"),
    "lg_unit_line": ("单元网格（放大后显示）", "Unit grid (zoomed in)"),
    "lg_load": ("社区在办量：少 → 多", "Open cases per community: few → many"),
    "lg_community_late": ("红色社区边界：有超时事件", "Red community outline: overdue cases"),
    "lg_base": ("底图", "Base map"),
    "lg_water": ("河流、湖泊", "River, lake"),
    "lg_arterial": ("主干道", "Arterial road"),
    "lg_secondary": ("次干道", "Secondary road"),
    "lg_lane": ("支路、巷", "Lane"),
    "lm_hospital": ("医院", "Hospital"),
    "lm_school": ("学校", "School"),
    "lm_station": ("车站", "Station"),
    "lm_government": ("政府机关", "Government"),
    "lm_mall": ("商场", "Shopping"),
    "lm_park": ("公园", "Park"),
    "lm_market": ("农贸市场", "Market"),
}
STRINGS.update({key: pair for key, pair in BASEMAP_STRINGS.items() if key not in STRINGS})
# the landmark symbols (also drawn by assets/basemap.js, keep in step)
GLYPHS = {
    "zh": {
        "hospital": "医",
        "school": "学",
        "station": "站",
        "government": "政",
        "mall": "商",
        "park": "园",
        "market": "市",
    },
    "en": {"hospital": "H", "school": "S", "station": "T", "government": "G", "mall": "M", "park": "P", "market": "K"},
}


def bfn(name: str) -> dict:
    """A reference to a browser function in assets/basemap.js."""
    return {"variable": BN + name}


def tile_layer(settings: Settings, tile_url: str | None) -> dl.TileLayer | None:
    """The configured tiles (a tile URL, else a raster MBTiles file served at /tiles), or None."""
    if tile_url:
        return dl.TileLayer(url=tile_url, attribution="")
    path = settings.mbtiles
    if path is None or not path.is_file() or mbtiles_format(path) not in RASTER_FORMATS:
        return None
    meta = mbtiles_metadata(path)
    zooms = {k: int(meta[m]) for k, m in (("minNativeZoom", "minzoom"), ("maxNativeZoom", "maxzoom")) if m in meta}
    return dl.TileLayer(url=TILE_PATH.replace("{fmt}", mbtiles_format(path)), attribution="", **zooms)


def vector_layer(settings: Settings, *, lang: str | None, coords: dict | None) -> dl.GeoJSON | None:
    """The demo city's vector base layer (fetched once, asynchronously, from /map/base.geojson), or None."""
    if not basemap_file(settings).is_file():
        return None
    kwargs = {"coordsToLatLng": coords} if coords else {}
    return dl.GeoJSON(
        url=BASEMAP_PATH,
        style=bfn("style"),
        pointToLayer=bfn("point"),
        onEachFeature=bfn("label"),
        interactive=False,
        zoomToBounds=False,
        hideout={"lang": lang} if lang else {},
        **kwargs,
    )


def base_layers(settings: Settings, tile_url: str | None, *, lang: str | None, coords: dict | None) -> list:
    """What goes under a map's own layers: tiles if configured, else the vector base layer, else nothing."""
    base = tile_layer(settings, tile_url)  # (a Dash component without children is falsy: no `or` here)
    if base is None:
        base = vector_layer(settings, lang=lang, coords=coords)
    return [base] if base is not None else []


def layers_control(lang: str, base: list, overlays: list[tuple[str, Component, bool]]) -> dl.LayersControl:
    """A layer switcher: the base map (or none) as base layers, then the named overlays (key, layer, shown)."""
    bases = []
    if base:
        name = "bm_city" if isinstance(base[0], dl.GeoJSON) else "bm_tiles"
        bases.append(dl.BaseLayer(base[0], name=t(name, lang), checked=True))
    bases.append(dl.BaseLayer(dl.LayerGroup(), name=t("bm_none", lang), checked=not base))
    shown = [dl.Overlay(layer, name=t(key, lang), checked=checked) for key, layer, checked in overlays]
    return dl.LayersControl([*bases, *shown], position="topright", collapsed=True, sortLayers=False, id="cc-layers")


def legend(lang: str, *, with_base: bool = True) -> html.Details:
    """Every symbol on the command center map: incidents, clusters, officers, grids, the base map."""

    def row(symbol: html.I | html.Span, key: str, label: str | None = None) -> html.Div:
        return html.Div([symbol, html.Span(label or t(key, lang))], className="gc-lg-row")

    def section(key: str, rows: list) -> html.Div:
        return html.Div([html.Div(t(key, lang), className="gc-lg-sub"), html.Div(rows, className="gc-lg-rows")])

    statuses = [
        s
        for s in (
            "reported",
            "triage",
            "filed",
            "escalated",
            "dispatched",
            "claimed",
            "returned",
            "rework",
            "handled",
            "verified",
            "suspended",
        )
        if s in {str(o) for o in OPEN_STATUSES}
    ]
    sections = [
        section("lg_status", [row(html.I(className=f"gc-lg gc-s-{s}"), "", status_label(s, lang)) for s in statuses]),
        section(
            "lg_urgency",
            [row(html.I(className=f"gc-lg gc-lg-u{u} gc-s-reported"), f"urgency_{u}") for u in (1, 2, 3)]
            + [
                row(html.I(className="gc-lg gc-lg-late"), "lg_overdue_ring"),
                row(html.I(className="gc-lg-cluster", children="8"), "lg_cluster"),
                row(html.I(className="gc-lg-cluster gc-lg-cluster-late", children="8"), "lg_cluster_late"),
            ],
        ),
        section(
            "officers",
            [
                row(html.I(className=f"gc-lg-off gc-os-{s}"), "", pair[0] if lang == "zh" else pair[1])
                for s, pair in OFFICER_STATUS.items()
            ]
            + [row(html.I(className="gc-lg-heading"), "lg_heading")],
        ),
        section(
            "lg_grids",
            [
                row(html.I(className="gc-lg-line gc-lg-street"), "lg_street_line"),
                row(html.I(className="gc-lg-line gc-lg-community"), "lg_community_line"),
                row(html.I(className="gc-lg-line gc-lg-unit"), "lg_unit_line"),
                row(html.I(className="gc-lg-load"), "lg_load"),
                row(html.I(className="gc-lg-line gc-lg-community-late"), "lg_community_late"),
            ],
        ),
    ]
    if with_base:
        glyphs = GLYPHS.get(lang, GLYPHS["zh"])
        sections.append(
            section(
                "lg_base",
                [row(html.I(className="gc-lg-water"), "lg_water")]
                + [row(html.I(className=f"gc-lg-road gc-lg-road-{r}"), f"lg_{r}") for r in ROADS]
                + [row(html.I(glyphs[c], className=f"gc-bm-lm gc-bm-lm-{c}"), f"lm_{c}") for c in LANDMARKS],
            )
        )
    return html.Details(
        [html.Summary(t("legend", lang), className="gc-lg-title"), html.Div(sections, className="gc-lg-body")],
        className="gc-legend gc-legend-full",
        id="cc-legend",
        open=False,  # folded: the map stays visible; one click shows every symbol
    )
