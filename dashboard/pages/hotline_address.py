"""Address → location at the hotline console: the city's gazetteer (geo.gazetteer over the imported addresses and
the grids' communities and streets), candidates under the address field with their grid path, and the pick.

The index is built once per web process and rebuilt when another process imports new addresses or grids
(checked every few seconds, like the grids). A pick is recomputed on the server from the typed text and the
candidate's position in the list: the browser never sends a point of its own here.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from dash import html
from flask import current_app

from dashboard.pages import i18n_address  # noqa: F401  (merges the strings into i18n)
from dashboard.pages.i18n import t
from dashboard.pages.intake_widgets import display_crs, grid_path_view, pin
from dashboard.runtime import current_runtime
from dispatcher.store.gazetteer import current_address_version, load_addresses
from geo.crs import wgs84_to_bd09, wgs84_to_gcj02
from geo.gazetteer import Candidate, Gazetteer, areas_from_grids

CANDIDATES = 8
CHECK_EVERY_S = 5.0
MAX_TYPED = 120  # characters of an address looked up
_LOCK = threading.Lock()


@dataclass
class _Loaded:
    key: tuple[int | None, str]  # (address version, grid version)
    gazetteer: Gazetteer
    checked: float


def gazetteer() -> Gazetteer:
    """The gazetteer of this web process, rebuilt when the stored addresses or the grids changed."""
    rt = current_runtime()
    loaded: _Loaded | None = current_app.extensions.get("gc-gazetteer")
    if loaded is not None and time.monotonic() - loaded.checked < CHECK_EVERY_S:
        return loaded.gazetteer
    with _LOCK:
        with rt.sessions() as session:
            key = (current_address_version(session), rt.city.grids.version)
            if loaded is None or loaded.key != key:
                entries = load_addresses(session) + areas_from_grids(rt.city.grids)
                loaded = _Loaded(key, Gazetteer(entries), 0.0)
        loaded.checked = time.monotonic()
        current_app.extensions["gc-gazetteer"] = loaded
    return loaded.gazetteer


def warm() -> None:
    """Build the gazetteer in the background when a console opens and none is loaded yet (the first keystroke
    then finds it ready: loading the pinyin dictionaries and indexing take a moment)."""
    if "gc-gazetteer" in current_app.extensions:
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]

    def build() -> None:
        with app.app_context():
            gazetteer()

    threading.Thread(target=build, name="gazetteer-warm", daemon=True).start()


def candidates(typed: str | None) -> list[Candidate]:
    """The best places for what the call-taker typed, best first (none for fewer than two characters)."""
    text = (typed or "").strip()[:MAX_TYPED]
    return gazetteer().match(text, CANDIDATES) if len(text) >= 2 else []


def grid_names(c: Candidate, lang: str) -> list[str]:
    """Street, community and unit grid names of a candidate's point (empty outside every grid)."""
    grids = current_runtime().city.grids
    path = grids.locate(c.lon, c.lat)
    if path is None:
        return []
    names = []
    for code in (path.street, path.community, path.unit):
        grid = grids.find(code) if code else None
        if grid is not None:
            names.append(grid.name if lang == "zh" else str(grid.properties.get("name_en") or grid.name))
    return names


def candidate_list(found: list[Candidate], lang: str) -> list:
    """The candidates as buttons (the first one active: Enter picks it; ↑/↓ move, dashboard/assets/hotline.js)."""
    if not found:
        return [html.Div(t("hl_addr_none", lang), className="gc-hint gc-hl-addr-none", id="hl-addr-none")]
    rows = []
    for i, c in enumerate(found):
        names = grid_names(c, lang)
        path = " › ".join(names) if names else t("hl_addr_outside", lang)
        rows.append(
            html.Button(
                [
                    html.Span(t(f"hl_addr_kind_{c.kind}", lang), className=f"gc-hl-addr-kind gc-hl-addr-{c.kind}"),
                    html.B(c.label if lang == "zh" else c.label_en, className="gc-hl-addr-label"),
                    html.Span(path, className="gc-hl-addr-path"),
                ],
                id={"type": "hl-addr", "index": i},
                n_clicks=0,
                tabIndex=-1,
                className="gc-hl-addr-item" + (" gc-active" if i == 0 else ""),
                role="option",
                **{"aria-selected": "true" if i == 0 else "false", "data-label": c.label},
            )
        )
    return [html.Div(t("hl_addr_hint", lang), className="gc-hl-addr-hint"), *rows]


def display_latlng(lon: float, lat: float) -> tuple[float, float]:
    """(lat, lng) of a WGS-84 point in the base map's system (Leaflet order)."""
    crs = display_crs()
    if crs == "gcj02":
        lon, lat = wgs84_to_gcj02(lon, lat)
    elif crs == "bd09":
        lon, lat = wgs84_to_bd09(lon, lat)
    return lat, lon


def placed_address(typed: str, c: Candidate) -> str:
    """The address to keep: the candidate's label, plus what followed the house number (楼栋、单元、室)."""
    text = typed.strip()
    if c.kind == "road" and "号" in text:
        return c.label + text.split("号", 1)[1]
    return c.label if c.label not in text else text


def placed(c: Candidate, typed: str, lang: str) -> tuple:
    """What a pick sets: the location store, the pin, the grid path with the leader, the map's view, the address
    and the note under the field (the same location state a map click sets)."""
    lat, lng = display_latlng(c.lon, c.lat)
    view = {"center": [lat, lng], "zoom": 17, "transition": "flyTo"}
    note = html.Div(t("hl_addr_placed", lang, label=c.label), className="gc-hl-addr-placed", id="hl-addr-placed")
    loc = {"lon": c.lon, "lat": c.lat, "label": c.label}
    marker = pin(lat, lng, marker_id="hl-pin-marker")
    return loc, marker, grid_path_view(c.lon, c.lat, lang), view, placed_address(typed, c), note
