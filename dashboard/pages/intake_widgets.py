"""Widgets the hotline console and the triage page share: the searchable category list, the map a report is
placed on (a click read back as a WGS-84 point, its pin and grid path) and the row of a possible duplicate."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import dash
import dash_leaflet as dl
from dash import Input, Output, State, html

from dashboard.pages import feed
from dashboard.pages.components import ago, base_map, city_bounds, fn, grid_layer, grids_url, status_badge, viewer
from dashboard.pages.i18n import STRINGS, lang_of, t
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import ACTIONS
from geo.crs import bd09_to_wgs84, gcj02_to_wgs84

PIN_COLOUR = "#f59e0b"


def forbidden(lang: str, page: str, prefix: str) -> html.Div:
    """The refusal shown to a role the page is not for."""
    return html.Div(t(f"{page}_forbidden", lang), className=f"gc-hint gc-{prefix}-forbidden")


def may(principal: Principal, action: Action) -> bool:
    """Whether the principal's role may perform `action` (dispatcher.cases.scope.ACTIONS)."""
    return action in ACTIONS.get(principal.role, frozenset())


def reason_text(reason: str, lang: str) -> str:
    """A duplicate or triage reason in words (the code itself when there are none)."""
    key = f"dup_reason_{reason}"
    return t(key, lang) if key in STRINGS else reason


# ---------------------------------------------------------------- categories


def category_name(code: str | None, lang: str, missing: str = "—") -> str:
    """The category's name in the page's language; the code, or `missing`, when the catalogue lacks it."""
    cat = current_runtime().city.catalogue.find_category(code)
    return (cat.name_zh if lang == "zh" else cat.name_en) if cat else (code or missing)


def category_option(cat, catalogue, lang: str) -> dict:
    """A dropdown option; `search` holds code, both names, keywords and the big class so the browser's own
    filter keeps every match the server ranked."""
    big = catalogue.big_classes.get(cat.big_class)
    name = cat.name_zh if lang == "zh" else cat.name_en
    blob = " ".join([cat.code, cat.name_zh, cat.name_en, *cat.keywords, *([big.name_zh, big.name_en] if big else [])])
    return {"label": f"{cat.code} {name}", "value": cat.code, "search": blob}


def category_options(text: str | None, selected: str | None, lang: str) -> list[dict]:
    """Every category (nothing typed) or the matches of catalogue.search_categories, best first; the
    selected one always stays in the list."""
    catalogue = current_runtime().city.catalogue
    cats = (
        catalogue.search_categories(text)
        if (text or "").strip()
        else sorted(catalogue.categories.values(), key=lambda c: c.code)
    )
    options = [category_option(c, catalogue, lang) for c in cats]
    chosen = catalogue.find_category(selected) if isinstance(selected, str) else None
    if chosen is not None and all(o["value"] != chosen.code for o in options):
        options.append(category_option(chosen, catalogue, lang))
    return options


# ---------------------------------------------------------------- the map


def display_crs() -> str:
    """The coordinate system the base map is drawn in (from the configured tiles)."""
    return feed.display_crs(current_runtime().settings.tile_url)


def placing_map(prefix: str) -> dl.Map:
    """The map a report is placed on: street outlines and a layer for the pin (`{prefix}-map`, `{prefix}-pin`)."""
    rt = current_runtime()
    coords = None if display_crs() == "wgs84" else fn("displayCoords")
    streets = grid_layer(
        f"{prefix}-streets", "street", url=grids_url("street"), hideout={}, coords=coords, interactive=False
    )
    return base_map(
        f"{prefix}-map",
        [streets, dl.LayerGroup(id=f"{prefix}-pin")],
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        zoom=12.5,
        className=f"gc-{prefix}-map",
    )


def click_latlng(click: dict | None) -> tuple[float, float] | None:
    """(lat, lng) of a map click as Leaflet reports it (in the base map's system), validated."""
    latlng = (click or {}).get("latlng")
    if isinstance(latlng, dict):
        lat, lng = latlng.get("lat"), latlng.get("lng")
    elif isinstance(latlng, (list, tuple)) and len(latlng) >= 2:
        lat, lng = latlng[0], latlng[1]
    else:
        return None
    try:
        lat, lng = float(lat), float(lng)
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def clicked_point(click: dict | None, crs: str) -> tuple[float, float] | None:
    """WGS-84 (lon, lat) of a map click (the base map may be drawn in GCJ-02 or BD-09)."""
    latlng = click_latlng(click)
    if latlng is None:
        return None
    lat, lng = latlng
    if crs == "gcj02":
        return gcj02_to_wgs84(lng, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lng, lat)
    return lng, lat


def stored_point(loc) -> tuple[float, float] | None:
    """(lon, lat) from a location store, validated again (the browser may have changed it)."""
    if not isinstance(loc, dict):
        return None
    try:
        lon, lat = float(loc["lon"]), float(loc["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


def pin(lat: float, lng: float, colour: str = PIN_COLOUR, marker_id: str | None = None) -> list:
    """The marker of a chosen place, in Leaflet order (the base map's system)."""
    extra = {"id": marker_id} if marker_id else {}
    return [
        dl.CircleMarker(center=[lat, lng], radius=9, color=colour, fillColor=colour, fillOpacity=0.8, weight=2, **extra)
    ]


def grid_path_view(lon: float, lat: float, lang: str) -> html.Div:
    """Unit / community / street of the point and the grid leader, from the server's grid index."""
    grids = current_runtime().city.grids
    path = grids.locate(lon, lat)
    coords = html.Small(f"{lon:.5f}, {lat:.5f}", className="gc-hl-coords")
    if path is None:
        return html.Div(
            [html.Span(t("hl_outside", lang), className="gc-tag-late"), coords],
            className="gc-hl-path gc-hl-path-out",
            **{"data-unit": ""},
        )

    def name(code):
        g = grids.find(code) if code else None
        if g is None:
            return "—"
        return g.name if lang == "zh" else g.properties.get("name_en") or g.name

    unit = grids.find(path.unit) if path.unit else None
    community = grids.find(path.community) if path.community else None
    holder = unit if unit is not None and unit.properties.get("leader_name") else community
    info = holder.properties if holder is not None else {}
    leader = [
        html.Span(t("grid_leader", lang)),
        html.B(info.get("leader_name") or "—"),
        html.Span(info.get("leader_phone") or "", className="gc-hl-muted"),
    ]
    rows = [
        html.Div([html.Span(t("level_street", lang)), html.B(name(path.street))], className="gc-kv"),
        html.Div([html.Span(t("level_community", lang)), html.B(name(path.community))], className="gc-kv"),
        html.Div(
            [html.Span(t("level_unit", lang)), html.B(name(path.unit)), html.Code(path.unit or "—")], className="gc-kv"
        ),
        html.Div(leader, className="gc-kv"),
        coords,
    ]
    return html.Div(rows, className="gc-hl-path", **{"data-unit": path.unit or ""})


# ---------------------------------------------------------------- duplicates


def distance_text(distance_m: float | None) -> str:
    """A distance the engine computed, in whole metres ("—" when either report has no point)."""
    return f"{distance_m:.0f} m" if distance_m is not None else "—"


def duplicate_row(
    suggestion, lang: str, now: datetime, *, button=None, chosen: bool = False, missing: str = "—"
) -> html.Div:
    """One possible original (a dispatcher.intake.duplicates.Suggestion): category, status, distance, reason,
    description, id and age, with the page's merge button."""
    incident = suggestion.incident
    head = [
        html.B(category_name(incident.category_code, lang, missing)),
        status_badge(incident.status, lang),
        html.Span(distance_text(suggestion.distance_m), className="gc-hl-dist"),
        html.Span(reason_text(suggestion.reason, lang), className="gc-hl-muted"),
    ]
    foot = [html.Code(incident.label), html.Span(ago(incident.created_at, now, lang), className="gc-hl-muted"), button]
    return html.Div(
        [
            html.Div(head, className="gc-hl-h1"),
            html.Div(incident.description, className="gc-q-desc"),
            html.Div(foot, className="gc-hl-h3"),
        ],
        className="gc-hl-dup" + (" gc-hl-dup-on" if chosen else ""),
        **{"data-id": incident.id},
    )


def register_category_search(app: dash.Dash, prefix: str, allowed: Callable[[Principal], bool]) -> None:
    """The searchable category dropdown `<prefix>-category`: by code, name or keyword, for the page's roles only."""

    @app.callback(
        Output(f"{prefix}-category", "options"),
        Input(f"{prefix}-category", "search_value"),
        State(f"{prefix}-category", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def search(text, selected, lang):
        if not allowed(viewer()):
            return []
        return category_options(text, selected, lang_of(lang))
