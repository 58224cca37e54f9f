"""Shared pieces of the pages: header, map base, grid layers, small badges and time formatting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

import dash
import dash_leaflet as dl
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.auth import current_principal
from dashboard.pages import (
    i18n_analysis,  # noqa: F401  (nav_analysis, an_title)
    i18n_work,  # noqa: F401  (the workbench's strings: nav_work, work_title)
)
from dashboard.pages.basemap import base_layers
from dashboard.pages.bell import bell
from dashboard.pages.feed import display_crs
from dashboard.pages.i18n import client_strings, lang_of, role_label, status_label, t
from dashboard.pages.i18n_errors import error_text
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Account, Principal
from dispatcher.errors import EngineError

CENTER = {"lat": 30.272, "lng": 120.165}  # the demo district; Leaflet order only here
NAV_PAGES = ("command", "hotline", "triage", "work")  # pages with the navigation and the language toggle in the header
TOGGLE_PAGES = (*NAV_PAGES, "audit", "devices", "analysis")  # pages with the language toggle in the header
SUBTITLES = {
    "command": "product_sub",
    "work": "work_title",
    "audit": "audit_title",
    "devices": "devices_title",
    "analysis": "an_title",
}
ANALYSIS_NAV_ROLES = frozenset({"leader", "shift_leader", "dept_head"})  # who may open /analysis (api/analysis.py)
# who gets the 工作台 (/work) link: the people after dispatch (dashboard/pages/work.py)
WORK_NAV_ROLES = frozenset(
    {"dept_handler", "dept_head", "enforcement", "grid_worker", "dispatcher", "shift_leader", "hotline"}
)
FN = "gc.map."  # the browser namespace of the Leaflet functions (assets/gridcommand.js)


def fn(name: str) -> dict:
    """A reference to a browser function in assets/gridcommand.js."""
    return {"variable": FN + name}


def viewer() -> Principal:
    """The signed-in user of this page or callback request (the Dash routes are gated, so one is always there;
    without one nothing is computed)."""
    principal = current_principal()
    if principal is None:
        raise PreventUpdate
    return principal


def display_name(principal: Principal) -> str:
    """The account's display name (its username if the account row is gone)."""
    with current_runtime().sessions() as session:
        account = session.get(Account, principal.account_id)
        return account.display_name if account is not None else principal.username


def user_box(lang: str) -> html.Div:
    """The notification bell, who is signed in (name and role) and a sign-out button (a real form POST to /logout)."""
    principal = current_principal()
    if principal is None:
        return html.Div()
    return html.Div(
        [
            bell(lang),
            html.Span(display_name(principal), className="gc-user-name"),
            html.Span(
                role_label(str(principal.role), lang),
                className="gc-user-role",
                id="gc-user-role",
                **{"data-role": str(principal.role)},
            ),
            html.Form(
                html.Button(t("logout", lang), type="submit", className="gc-logout", id="gc-logout"),
                action="/logout",
                method="POST",
                className="gc-logout-form",
            ),
        ],
        className="gc-user",
    )


def title_bar(title: str, lang: str, extra: list | None = None) -> html.Div:
    """The top of an administration page (trackers, audit trail): its title, who is signed in, and sign-out."""
    return html.Div(
        [html.Div([html.H2(title), *(extra or [])], className="gc-title-left"), user_box(lang)],
        className="gc-title-bar",
        style={"display": "flex", "justifyContent": "space-between", "alignItems": "center"},
    )


def _nav_link(name: str, path: str, page: str, lang: str, *, with_id: bool = True) -> dcc.Link:
    """A header link to page `name` (its label `nav_<name>`), marked when it is the page shown."""
    return dcc.Link(
        t(f"nav_{name}", lang),
        href=f"{path}?lang={lang}",
        className="gc-nav" + (" on" if page == name else ""),
        **({"id": f"gc-nav-{name}"} if with_id else {}),
    )


def header(page: str, lang: str, prefix: str, stats: list | None = None, *, live: bool = True) -> html.Header:
    """The top bar: product, navigation, live counters slot, connection state, clock, user, language toggle.

    `live=False` (a page without a live feed: audit trail, trackers) leaves out the connection state."""
    principal = current_principal()
    role = str(principal.role) if principal is not None else None
    nav = [
        _nav_link("command", "/", page, lang, with_id=False),
        _nav_link("wall", "/wall", page, lang, with_id=False),
        _nav_link("hotline", "/hotline", page, lang),
        _nav_link("triage", "/triage", page, lang),
    ]
    if role in ANALYSIS_NAV_ROLES:
        nav.append(_nav_link("analysis", "/analysis", page, lang))
    if role in WORK_NAV_ROLES:
        nav.insert(0, _nav_link("work", "/work", page, lang))
    return html.Header(
        [
            html.Div(
                [
                    html.Span("◈", className="gc-logo"),
                    html.Div(
                        [
                            html.Div(
                                [html.B("网格指挥"), html.Span(" GridCommand", className="gc-brand-en")],
                                className="gc-brand",
                            ),
                            html.Div(
                                t(SUBTITLES.get(page, "wall_title"), lang),
                                className="gc-sub",
                            ),
                        ]
                    ),
                ],
                className="gc-brand-box",
            ),
            html.Nav(nav, className="gc-navs") if page in NAV_PAGES else html.Div(),
            html.Div(stats or [], id=f"{prefix}-header-stats", className="gc-header-stats"),
            html.Div(
                [
                    html.Span(t("disconnected", lang), id=f"{prefix}-conn", className="gc-conn gc-conn-off")
                    if live
                    else None,
                    html.Span(id=f"{prefix}-clock", className="gc-clock"),
                    html.Button(
                        "EN" if lang == "zh" else "中", id=f"{prefix}-lang", className="gc-lang", title="中文 / English"
                    )
                    if page in TOGGLE_PAGES
                    else None,
                    user_box(lang),
                ],
                className="gc-header-right",
            ),
            dcc.Store(
                id=f"{prefix}-strings",
                data={
                    **client_strings(lang),
                    "connected": t("connected", lang),
                    "disconnected": t("disconnected", lang),
                },
            ),
        ],
        className=f"gc-header gc-header-{page}",
    )


def register_chrome(app: dash.Dash, prefix: str) -> None:
    """The header's live pieces of a page with its own prefix: connection state and 中/EN toggle (the clock ticks in
    the browser alone: assets/gridcommand.js)."""
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "connection"),
        Output(f"{prefix}-conn", "children"),
        Output(f"{prefix}-conn", "className"),
        Input(f"{prefix}-socket", "connected"),
        State(f"{prefix}-strings", "data"),
    )

    @app.callback(
        Output("gc-lang", "data", allow_duplicate=True),
        Output("gc-url", "search", allow_duplicate=True),
        Input(f"{prefix}-lang", "n_clicks"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def toggle(n, stored):
        """中 / EN: the choice is remembered and written to the URL."""
        if not n:
            return no_update, no_update
        lang = "en" if lang_of(stored) == "zh" else "zh"
        return lang, f"?lang={lang}"


def grid_layer(
    layer_id: str, level: str, *, url: str | None, hideout: dict, coords: dict | None, interactive: bool = True
) -> dl.GeoJSON:
    """A grid level as a GeoJSON layer the browser fetches once from the grids endpoint, styled via hideout."""
    kwargs = {"coordsToLatLng": coords} if coords else {}
    return dl.GeoJSON(
        id=layer_id,
        url=url,
        style=fn("gridStyle"),
        hideout={"kind": level, **hideout},
        interactive=interactive,
        zoomToBounds=False,
        **kwargs,
    )


def grids_url(level: str) -> str:
    return f"/api/v1/grids?level={level}"


def city_bounds(grids) -> list[list[float]] | None:
    """The city's extent in Leaflet order [[south, west], [north, east]] (None without grids)."""
    tops = grids.by_level("district") or grids.by_level("street")
    if not tops:
        return None
    boxes = [g.geometry.bounds for g in tops]
    west, south = min(b[0] for b in boxes), min(b[1] for b in boxes)
    east, north = max(b[2] for b in boxes), max(b[3] for b in boxes)
    return [[south, west], [north, east]]


def base_map(
    map_id: str,
    children: list,
    *,
    tile_url: str | None,
    bounds=None,
    zoom: float = 13.5,
    lang: str | None = None,
    base: bool = True,
    **kwargs,
) -> dl.Map:
    """A Leaflet map centred on the city over its base map: the configured tiles, else the offline vector layer
    (dashboard/pages/basemap.py; labels in `lang`, else the page's language). base=False: the caller places it."""
    layers = _base_layers(tile_url, lang) if base else []
    view = {"center": CENTER, "zoom": zoom}
    if bounds:  # centre on the city (a bounds-only map trips dash-leaflet when it compares its centre)
        view["center"] = {"lat": (bounds[0][0] + bounds[1][0]) / 2, "lng": (bounds[0][1] + bounds[1][1]) / 2}
    return dl.Map(
        id=map_id,
        minZoom=10,
        maxZoom=19,
        zoomSnap=0.25,
        children=layers + children,
        attributionControl=False,
        preferCanvas=True,
        **view,
        **kwargs,
    )


def _base_layers(tile_url: str | None, lang: str | None) -> list:
    """The base layers of a map for this deployment (tiles, else the vector layer, shifted like everything else)."""
    settings = current_runtime().settings
    coords = None if display_crs(tile_url) == "wgs84" else fn("displayCoords")
    return base_layers(settings, tile_url, lang=lang, coords=coords)


def status_badge(status: str, lang: str) -> html.Span:
    return html.Span(status_label(status, lang), className=f"gc-badge gc-bs-{status}")


def light_dot(light: str | None, lang: str) -> html.Span:
    """The stage clock's traffic light."""
    if not light:
        return html.Span("—", className="gc-light gc-light-none")
    return html.Span([html.I(), t(f"light_{light}", lang)], className=f"gc-light gc-light-{light}")


def ago(then: datetime | str | None, now: datetime, lang: str) -> str:
    """'12分钟前' / '12 min ago'."""
    if then is None:
        return "—"
    if isinstance(then, str):
        then = datetime.fromisoformat(then)
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return t("just_now", lang)
    if minutes < 60:
        return t("ago_min", lang, n=minutes)
    if minutes < 48 * 60:
        return t("ago_hour", lang, n=minutes // 60)
    return t("ago_day", lang, n=minutes // 1440)


def local_time(value: datetime | str | None, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    """A UTC timestamp as local wall-clock text."""
    if value is None:
        return "—"
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


class Explained(Exception):
    """A failure already put in the reader's words (its text is shown as it is)."""


def outcome(step: Callable[[], str], lang: str, count: int | None):
    """Run one step of the drawer (an action, a form, an upload): the toast saying how it went — in the page's
    language, naming the case (dashboard/pages/i18n_errors.py) — and, on success, the drawer's action counter moved
    on (it re-renders); a lost race moves it on too, so the drawer shows what the other person did."""
    try:
        done = step()
    except Explained as exc:
        return html.Div(t("failed", lang, message=str(exc)), className="gc-toast-err"), (count or 0) + 1
    except (EngineError, ValueError) as exc:  # ValueError: pydantic, a field the action needs is malformed
        return html.Div(t("failed", lang, message=error_text(exc, lang)), className="gc-toast-err"), no_update
    return html.Div(done, className="gc-toast-ok"), (count or 0) + 1
