"""The hotline console (/hotline, 12345 受理台): everything a call-taker needs while the caller is on the line.

Keyboard first: the phone field has the focus on load; Enter (or the 11th digit) shows the caller's earlier
calls; Alt+1..9 insert a phrase; Ctrl+Enter saves (dashboard/assets/hotline.js). Saving creates the incident
through the engine (dispatcher.cases.actions.create_incident in one unit of work, actor = the signed-in user,
channel hotline); the unit of work's outbox puts it on the command center at once.

Nothing the browser sends is trusted as an id: the grid path is recomputed from the clicked point, the
category is looked up in the catalogue, and a "merge into" choice must be one of the duplicate suggestions
the server computes again at save time, inside the user's scope.
"""

from __future__ import annotations

import importlib
import logging
import math
import re
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

import dash
import dash_leaflet as dl
import yaml
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash_socketio import DashSocketIO
from flask import request
from sqlalchemy import select

from dashboard.pages import feed
from dashboard.pages.components import (
    ago,
    base_map,
    city_bounds,
    fn,
    grid_layer,
    grids_url,
    header,
    local_time,
    status_badge,
    viewer,
)
from dashboard.pages.i18n import lang_of, t
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.access.privacy import mask_phone
from dispatcher.cases.actions import get_incident, perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES, Action
from dispatcher.cases.scope import ACTIONS, scope_clause
from dispatcher.errors import EngineError
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from geo.crs import bd09_to_wgs84, gcj02_to_wgs84

log = logging.getLogger(__name__)

ROLES = frozenset({"hotline", "dispatcher", "shift_leader"})
NATURES = ("consultation", "callback", "no_callback", "harassment")
NO_CASE_NATURES = {"consultation", "harassment"}  # without a category these are answered, not made a case
PHONE_DIGITS = 11  # a mainland mobile number: the lookup runs by itself at the 11th digit
HISTORY_LIMIT = 10
PHRASE_KEYS = 9
DUP_LIMIT = 5
PHRASES_FILE = Path(__file__).resolve().parents[2] / "data" / "hotline_phrases.yaml"


def _optional(module: str):
    """An engine module another change adds (dispatcher.intake.callers, dispatcher.intake.duplicates); None until it exists."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def allowed(principal: Principal | None) -> bool:
    return principal is not None and str(principal.role) in ROLES


def forbidden(lang: str, page: str = "hotline") -> html.Div:
    return html.Div(t(f"{page}_forbidden", lang), className="gc-hint gc-hl-forbidden")


# ---------------------------------------------------------------- phrases


@lru_cache(maxsize=1)
def _phrases() -> dict[str, list[str]]:
    try:
        data = yaml.safe_load(PHRASES_FILE.read_text(encoding="utf-8")) or {}
    except OSError:
        return {}
    return {str(k): [str(p) for p in v or []] for k, v in data.items()}


def phrases_for(category_code: str | None) -> list[str]:
    """Up to nine phrases: the category's own, then its big class's, then the defaults (no repeats)."""
    table = _phrases()
    keys = ([category_code, category_code[:4]] if category_code else []) + ["default"]
    out: list[str] = []
    for key in keys:
        for phrase in table.get(key, []):
            if phrase not in out:
                out.append(phrase)
    return out[:PHRASE_KEYS]


# ---------------------------------------------------------------- categories


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


# ---------------------------------------------------------------- location


def normalise_phone(text: str | None) -> str:
    """The number as callers are looked up by (dispatcher.intake.callers.normalise_phone: digits, no +86); "" if none."""
    callers = _optional("dispatcher.intake.callers")
    if callers is not None and hasattr(callers, "normalise_phone"):
        return callers.normalise_phone(text) or ""
    return re.sub(r"\D", "", text or "")


def clicked_point(click: dict | None, crs: str) -> tuple[float, float] | None:
    """WGS-84 (lon, lat) of a map click (the base map may be drawn in GCJ-02 or BD-09)."""
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
    if crs == "gcj02":
        return gcj02_to_wgs84(lng, lat)
    if crs == "bd09":
        return bd09_to_wgs84(lng, lat)
    return lng, lat


def stored_point(loc) -> tuple[float, float] | None:
    """(lon, lat) from the location store, validated again (the browser may have changed it)."""
    if not isinstance(loc, dict):
        return None
    try:
        lon, lat = float(loc["lon"]), float(loc["lat"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return lon, lat


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
    rows = [
        html.Div([html.Span(t("level_street", lang)), html.B(name(path.street))], className="gc-kv"),
        html.Div([html.Span(t("level_community", lang)), html.B(name(path.community))], className="gc-kv"),
        html.Div(
            [html.Span(t("level_unit", lang)), html.B(name(path.unit)), html.Code(path.unit or "—")], className="gc-kv"
        ),
        html.Div(
            [
                html.Span(t("grid_leader", lang)),
                html.B(info.get("leader_name") or "—"),
                html.Span(info.get("leader_phone") or "", className="gc-hl-muted"),
            ],
            className="gc-kv",
        ),
        coords,
    ]
    return html.Div(rows, className="gc-hl-path", **{"data-unit": path.unit or ""})


# ---------------------------------------------------------------- caller history


def caller_history(session, phone: str, principal: Principal) -> list[Incident]:
    """The caller's earlier incidents, newest first (dispatcher.intake.callers.history; a bounded scan until it exists)."""
    callers = _optional("dispatcher.intake.callers")
    if callers is not None and hasattr(callers, "history"):
        return list(callers.history(session, phone, principal=principal, limit=HISTORY_LIMIT))
    query = (
        select(Incident)
        .where(scope_clause(principal), Incident.reporter_phone.is_not(None))
        .order_by(Incident.created_at.desc())
        .limit(2000)
    )
    return [i for i in session.scalars(query) if normalise_phone(i.reporter_phone) == phone][:HISTORY_LIMIT]


def history_view(items: list[Incident], phone: str, lang: str) -> list:
    """The caller's earlier calls: when, category, status, description."""
    rt = current_runtime()
    now, tz = rt.clock(), rt.settings.timezone
    catalogue = rt.city.catalogue
    if not items:
        return [
            html.Div(
                [
                    html.Span(t("hl_new_caller", lang), className="gc-hl-new"),
                    html.Span(mask_phone(phone) or phone, className="gc-hl-muted"),
                ],
                id="hl-new-caller",
                className="gc-hl-histhead",
            )
        ]
    rows = []
    for i in items:
        cat = catalogue.find_category(i.category_code)
        cname = (cat.name_zh if lang == "zh" else cat.name_en) if cat else (i.category_code or "—")
        nature = getattr(i, "call_nature", None)
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.B(cname),
                            status_badge(i.status, lang),
                            html.Span(t(f"hl_nature_{nature}", lang), className="gc-hl-nat")
                            if nature in NATURES
                            else None,
                            html.Span(
                                f"{local_time(i.created_at, tz)} · {ago(i.created_at, now, lang)}",
                                className="gc-hl-muted",
                            ),
                        ],
                        className="gc-hl-h1",
                    ),
                    html.Div(i.description, className="gc-q-desc"),
                    html.Code(i.id[:8], className="gc-hl-muted"),
                ],
                className="gc-hl-hrow",
                **{"data-id": i.id},
            )
        )
    head = html.Div(
        [html.Span(t("hl_known_caller", lang, n=len(items)), className="gc-hl-known")], className="gc-hl-histhead"
    )
    return [head, *rows]


# ---------------------------------------------------------------- duplicates


def _distance_m(lon1, lat1, lon2, lat2) -> float:
    r = 6_371_008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl_ = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl_ / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def duplicate_candidates(
    session,
    principal: Principal,
    category_code: str | None,
    lon: float | None,
    lat: float | None,
    phone: str | None = None,
    exclude_id: str | None = None,
) -> list[tuple[Incident, float | None, str]]:
    """Open cases that may be the same problem: dispatcher.intake.duplicates.suggest, or (until it exists) the same
    category within the category's radius and time window, nearest first; always inside the user's scope."""
    rt = current_runtime()
    now = rt.clock()
    duplicates = _optional("dispatcher.intake.duplicates")
    if duplicates is not None and hasattr(duplicates, "suggest"):
        callers = _optional("dispatcher.intake.callers")
        phone_hash = callers.phone_hash(phone) if phone and callers is not None else None
        found = duplicates.suggest(
            session,
            catalogue=rt.city.catalogue,
            category_code=category_code,
            lon=lon,
            lat=lat,
            at=now,
            phone_hash=phone_hash,
            scope=scope_clause(principal),
            exclude_id=exclude_id,
            limit=DUP_LIMIT,
        )
        return [(s[0], s[1], str(s[2] or "")) for s in found]
    cat = rt.city.catalogue.find_category(category_code)
    if cat is None or lon is None:
        return []
    since = now - timedelta(hours=cat.dup_window_h or 24)
    query = (
        select(Incident)
        .where(
            scope_clause(principal),
            Incident.category_code == category_code,
            Incident.status.in_([str(s) for s in OPEN_STATUSES]),
            Incident.created_at >= since,
            Incident.lon.is_not(None),
        )
        .order_by(Incident.created_at.desc())
        .limit(500)
    )
    out = []
    for i in session.scalars(query):
        if i.id == exclude_id:
            continue
        d = _distance_m(lon, lat, i.lon, i.lat)
        if d <= (cat.dup_radius_m or 50):
            out.append((i, d, "nearby"))
    out.sort(key=lambda x: x[1])
    return out[:DUP_LIMIT]


def may_merge(principal: Principal) -> bool:
    merge = getattr(Action, "MERGE", None)
    return merge is not None and merge in ACTIONS.get(principal.role, frozenset())


def reason_text(reason: str, lang: str) -> str:
    key = f"dup_reason_{reason}"
    from dashboard.pages.i18n import STRINGS

    return t(key, lang) if key in STRINGS else reason


def duplicates_view(found, principal: Principal, lang: str, chosen: str | None, prefix: str = "hl") -> list:
    """Suggested duplicates with distance and reason, and "merge into this" where the role may merge."""
    if not found:
        return [html.Div(t("dup_none", lang), className="gc-hint", id=f"{prefix}-dup-none")]
    rt = current_runtime()
    now = rt.clock()
    catalogue = rt.city.catalogue
    merge_ok = may_merge(principal)
    rows = [html.Div(t("dup_title", lang, n=len(found)), className="gc-sec")]
    for incident, distance, reason in found:
        cat = catalogue.find_category(incident.category_code)
        cname = (cat.name_zh if lang == "zh" else cat.name_en) if cat else (incident.category_code or "—")
        on = chosen == incident.id
        button = (
            html.Button(
                t("dup_unpick" if on else "dup_merge", lang),
                id={"type": f"{prefix}-merge", "index": incident.id},
                n_clicks=0,
                className="gc-btn gc-btn-sm" + (" gc-btn-primary" if on else ""),
            )
            if merge_ok
            else None
        )
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.B(cname),
                            status_badge(incident.status, lang),
                            html.Span(f"{distance:.0f} m" if distance is not None else "—", className="gc-hl-dist"),
                            html.Span(reason_text(reason, lang), className="gc-hl-muted"),
                        ],
                        className="gc-hl-h1",
                    ),
                    html.Div(incident.description, className="gc-q-desc"),
                    html.Div(
                        [
                            html.Code(incident.id[:8]),
                            html.Span(ago(incident.created_at, now, lang), className="gc-hl-muted"),
                            button,
                        ],
                        className="gc-hl-h3",
                    ),
                ],
                className="gc-hl-dup" + (" gc-hl-dup-on" if on else ""),
                **{"data-id": incident.id},
            )
        )
    if not merge_ok:
        rows.append(html.Div(t("dup_no_merge_role", lang), className="gc-hint"))
    return rows


# ---------------------------------------------------------------- saving


def build_command(
    *, phone, caller_name, nature, cb_name, cb_phone, category, address, point, urgency, description
) -> CreateIncident:
    """The CreateIncident of the form (pydantic validates; call fields only when the engine has them)."""
    fields = {
        "channel": "hotline",
        "category_code": category or None,
        "description": (description or "").strip(),
        "address": (address or "").strip() or None,
        "reporter_name": (caller_name or "").strip() or None,
        "reporter_phone": normalise_phone(phone) or None,
        "urgency": int(urgency) if str(urgency or "") in ("1", "2", "3") else None,
    }
    if point is not None:
        fields["lon"], fields["lat"] = point
    extra = {
        "call_nature": nature if nature in NATURES else None,
        "callback_name": (cb_name or "").strip() or None,
        "callback_phone": normalise_phone(cb_phone) or None,
    }
    known = CreateIncident.model_fields
    fields.update({k: v for k, v in extra.items() if k in known and v is not None})
    return CreateIncident(**{k: v for k, v in fields.items() if v is not None})


def save_call(principal: Principal, cmd: CreateIncident, merge_into: str | None) -> tuple[str, str | None]:
    """Create the incident as the signed-in user (one unit of work, then the relay); merge it into a
    suggested case in the same transaction when asked. Returns (new id, parent id or None)."""
    from dispatcher.access.accounts import check_report

    rt = current_runtime()
    check_report(principal)
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        parent = None
        if merge_into:
            parent = get_incident(uow, merge_into, principal=principal)  # NotFound outside the scope
            suggested = {
                i.id
                for i, _, _ in duplicate_candidates(
                    uow.session, principal, cmd.category_code, cmd.lon, cmd.lat, cmd.reporter_phone
                )
            }
            if parent.id not in suggested:
                raise EngineError(f"incident {merge_into} is not a suggested duplicate of this call")
        incident = create_incident(uow, rt.city, cmd, actor=principal.username, now=now)
        uow.session.flush()
        if parent is not None:
            perform_action(
                uow,
                rt.city,
                incident.id,
                Action("merge"),
                ActionRequest(parent_id=parent.id),
                actor=principal.username,
                now=now,
                principal=principal,
            )
    return incident.id, (parent.id if parent is not None else None)


# ---------------------------------------------------------------- layout


def _field(label: str, control, hint: str | None = None, cls: str = "") -> html.Label:
    return html.Label(
        [html.Span([label, html.Kbd(hint) if hint else None], className="gc-hl-lab"), control],
        className="gc-hl-field " + cls,
    )


def layout(lang: str) -> html.Div:
    lang = lang_of(lang)
    principal = viewer()
    top = header("hotline", lang, "hl")
    socket = [DashSocketIO(id="hl-socket", eventNames=["incident"])]
    if not allowed(principal):
        return html.Div([top, *socket, forbidden(lang)], className="gc-page gc-hl")
    rt = current_runtime()
    crs = feed.display_crs(rt.settings.tile_url)
    coords = None if crs == "wgs84" else fn("displayCoords")
    natures = [{"label": t(f"hl_nature_{n}", lang), "value": n} for n in NATURES]
    urgencies = [{"label": t("hl_urgency_auto", lang), "value": "0"}] + [
        {"label": t(f"urgency_{u}", lang), "value": str(u)} for u in (1, 2, 3)
    ]
    the_map = base_map(
        "hl-map",
        [
            grid_layer("hl-streets", "street", url=grids_url("street"), hideout={}, coords=coords, interactive=False),
            dl.LayerGroup(id="hl-pin"),
        ],
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        zoom=12.5,
        className="gc-hl-map",
    )
    caller = html.Section(
        [
            html.Div(t("hl_caller", lang), className="gc-sec"),
            _field(
                t("hl_phone", lang),
                dcc.Input(
                    id="hl-phone",
                    type="tel",
                    autoFocus=True,
                    debounce=False,
                    placeholder=t("hl_phone_ph", lang),
                    autoComplete="off",
                    className="gc-hl-input gc-hl-phone",
                    n_submit=0,
                ),
                "Enter",
            ),
            html.Div(
                id="hl-history",
                className="gc-hl-history",
                children=html.Div(t("hl_history_hint", lang), className="gc-hint"),
            ),
            _field(
                t("hl_caller_name", lang),
                dcc.Input(id="hl-caller-name", type="text", autoComplete="off", className="gc-hl-input"),
            ),
            _field(
                t("hl_nature", lang),
                dcc.RadioItems(id="hl-nature", options=natures, value="callback", className="gc-hl-radio", inline=True),
            ),
            html.Div(
                [
                    _field(
                        t("hl_cb_name", lang),
                        dcc.Input(id="hl-cb-name", type="text", autoComplete="off", className="gc-hl-input"),
                    ),
                    _field(
                        t("hl_cb_phone", lang),
                        dcc.Input(id="hl-cb-phone", type="tel", autoComplete="off", className="gc-hl-input"),
                    ),
                ],
                className="gc-hl-row2",
                id="hl-callback-box",
            ),
        ],
        className="gc-hl-col gc-hl-caller",
    )
    case = html.Section(
        [
            html.Div(t("hl_case", lang), className="gc-sec"),
            _field(
                t("f_category", lang),
                dcc.Dropdown(
                    id="hl-category",
                    options=category_options("", None, lang),
                    placeholder=t("hl_category_ph", lang),
                    searchable=True,
                    clearable=True,
                    className="gc-dd gc-hl-dd",
                ),
            ),
            _field(
                t("hl_address", lang),
                dcc.Input(
                    id="hl-address",
                    type="text",
                    autoComplete="off",
                    placeholder=t("hl_address_ph", lang),
                    className="gc-hl-input",
                ),
            ),
            html.Div([the_map, html.Div(t("hl_map_hint", lang), className="gc-hl-maphint")], className="gc-hl-mapbox"),
            html.Div(id="hl-grid", className="gc-hl-gridpath"),
            _field(
                t("f_urgency", lang),
                dcc.RadioItems(id="hl-urgency", options=urgencies, value="0", className="gc-hl-radio", inline=True),
            ),
        ],
        className="gc-hl-col gc-hl-case",
    )
    text = html.Section(
        [
            html.Div(t("hl_description", lang), className="gc-sec"),
            dcc.Textarea(id="hl-desc", className="gc-note gc-hl-desc", placeholder=t("hl_desc_ph", lang)),
            html.Div(t("hl_phrases", lang), className="gc-sec"),
            html.Div(id="hl-phrases", className="gc-hl-phrases", children=phrase_buttons(phrases_for(None))),
            html.Div(id="hl-dups", className="gc-hl-dups"),
            html.Div(id="hl-merge-note", className="gc-hl-mergenote"),
            html.Div(
                [
                    html.Button(
                        [t("hl_save", lang), html.Kbd("Ctrl+Enter")],
                        id="hl-save",
                        n_clicks=0,
                        className="gc-btn gc-btn-primary gc-hl-save",
                    ),
                    html.Button(t("hl_clear", lang), id="hl-clear", n_clicks=0, className="gc-btn"),
                ],
                className="gc-hl-actions",
            ),
            html.Div(id="hl-result", className="gc-hl-result", role="status", **{"aria-live": "polite"}),
        ],
        className="gc-hl-col gc-hl-text",
    )
    return html.Div(
        [
            top,
            *socket,
            dcc.Store(id="hl-loc", data=None),
            dcc.Store(id="hl-parent", data=None),
            dcc.Store(id="hl-saved", data=0),
            html.Div([caller, case, text], className="gc-hl-body"),
        ],
        className="gc-page gc-hl",
        **{"data-crs": crs},
    )


def phrase_buttons(phrases: list[str]) -> list:
    return [
        html.Button(
            [html.Kbd(f"Alt+{n}"), html.Span(p)],
            id={"type": "hl-phrase", "index": n},
            n_clicks=0,
            className="gc-hl-phrase",
            title=p,
            **{"data-key": str(n)},
        )
        for n, p in enumerate(phrases, start=1)
    ]


# ---------------------------------------------------------------- callbacks


def register_chrome(app: dash.Dash, prefix: str) -> None:
    """The header's live pieces of a page with its own prefix: connection state, clock, 中/EN toggle."""
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "connection"),
        Output(f"{prefix}-conn", "children"),
        Output(f"{prefix}-conn", "className"),
        Input(f"{prefix}-socket", "connected"),
        State(f"{prefix}-strings", "data"),
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "clock"),
        Output(f"{prefix}-clock", "children"),
        Input(f"{prefix}-clock-tick", "n_intervals"),
    )

    @app.callback(
        Output("gc-lang", "data", allow_duplicate=True),
        Output("gc-url", "search", allow_duplicate=True),
        Input(f"{prefix}-lang", "n_clicks"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def toggle(n, stored):
        if not n:
            return no_update, no_update
        lang = "en" if lang_of(stored) == "zh" else "zh"
        return lang, f"?lang={lang}"


def register(app: dash.Dash) -> None:
    register_chrome(app, "hl")

    @app.callback(
        Output("hl-history", "children"),
        Output("hl-caller-name", "value"),
        Output("hl-cb-name", "value"),
        Output("hl-cb-phone", "value"),
        Input("hl-phone", "n_submit"),
        Input("hl-phone", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def lookup(_submit, phone, lang):
        """Enter, or the 11th digit, shows the caller's earlier calls and prefills the callback fields."""
        lang = lang_of(lang)
        principal = viewer()
        if not allowed(principal):
            return forbidden(lang), no_update, no_update, no_update
        number = normalise_phone(phone)
        typed = (
            ctx.triggered_id == "hl-phone"
            and "hl-phone.value" in ctx.triggered_prop_ids
            and "hl-phone.n_submit" not in ctx.triggered_prop_ids
        )
        if not number:
            return html.Div(t("hl_history_hint", lang), className="gc-hint"), no_update, no_update, no_update
        if typed and len(number) != PHONE_DIGITS:
            return no_update, no_update, no_update, no_update
        if len(number) < 5:
            return html.Div(t("hl_phone_short", lang), className="gc-hint"), no_update, no_update, no_update
        with current_runtime().sessions() as session:
            items = caller_history(session, number, principal)
            view = history_view(items, number, lang)
            name = next((i.reporter_name for i in items if i.reporter_name), None)
        return view, name or no_update, name or no_update, number

    @app.callback(
        Output("hl-category", "options"),
        Input("hl-category", "search_value"),
        State("hl-category", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def search(text, selected, lang):
        """Search by code, name or keyword (catalogue.search_categories ranks)."""
        if not allowed(viewer()):
            return []
        return category_options(text, selected, lang_of(lang))

    @app.callback(
        Output("hl-loc", "data"),
        Output("hl-pin", "children"),
        Output("hl-grid", "children"),
        Input("hl-map", "clickData"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def clicked(click, lang):
        """A click on the map sets the location; the grid path and leader show at once."""
        lang = lang_of(lang)
        if not allowed(viewer()):
            return no_update, no_update, no_update
        point = clicked_point(click, feed.display_crs(current_runtime().settings.tile_url))
        if point is None:
            return no_update, no_update, no_update
        latlng = click["latlng"]
        lat, lng = (latlng["lat"], latlng["lng"]) if isinstance(latlng, dict) else (latlng[0], latlng[1])
        pin = [
            dl.CircleMarker(
                center=[lat, lng],
                radius=9,
                color="#f59e0b",
                fillColor="#f59e0b",
                fillOpacity=0.8,
                weight=2,
                id="hl-pin-marker",
            )
        ]
        return {"lon": point[0], "lat": point[1]}, pin, grid_path_view(point[0], point[1], lang)

    @app.callback(Output("hl-phrases", "children"), Input("hl-category", "value"), prevent_initial_call=True)
    def phrases(category):
        return phrase_buttons(phrases_for(category if isinstance(category, str) else None))

    @app.callback(
        Output("hl-desc", "value", allow_duplicate=True),
        Input({"type": "hl-phrase", "index": ALL}, "n_clicks"),
        State("hl-category", "value"),
        State("hl-desc", "value"),
        prevent_initial_call=True,
    )
    def insert(_clicks, category, text):
        """A phrase button (or Alt+n) appends the phrase to the description."""
        if not isinstance(ctx.triggered_id, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update
        options = phrases_for(category if isinstance(category, str) else None)
        n = ctx.triggered_id.get("index")
        if not isinstance(n, int) or not 1 <= n <= len(options):
            return no_update
        text = text or ""
        return text + ("" if not text or text.endswith(("，", "。", "：", " ", "\n")) else " ") + options[n - 1]

    @app.callback(
        Output("hl-dups", "children"),
        Input("hl-category", "value"),
        Input("hl-loc", "data"),
        Input("hl-parent", "data"),
        State("hl-phone", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def duplicates(category, loc, parent, phone, lang):
        """Possible duplicates of the chosen category at the chosen place, before saving."""
        lang = lang_of(lang)
        principal = viewer()
        point = stored_point(loc)
        if not allowed(principal) or not isinstance(category, str) or point is None:
            return []
        with current_runtime().sessions() as session:
            found = duplicate_candidates(session, principal, category, point[0], point[1], normalise_phone(phone))
            return duplicates_view(found, principal, lang, parent if isinstance(parent, str) else None)

    @app.callback(
        Output("hl-parent", "data"),
        Output("hl-merge-note", "children"),
        Input({"type": "hl-merge", "index": ALL}, "n_clicks"),
        State("hl-parent", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def pick(_clicks, current, lang):
        """'Merge into this' marks the case this call will be saved under (pressed again: a new case)."""
        if not isinstance(ctx.triggered_id, dict) or not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update
        chosen = ctx.triggered_id.get("index")
        if not isinstance(chosen, str) or chosen == current:
            return None, ""
        return chosen, html.Div(t("hl_will_merge", lang_of(lang), id=chosen[:8]), className="gc-hl-merging")

    @app.callback(
        Output("hl-result", "children"),
        Output("hl-saved", "data"),
        Output("hl-phone", "value"),
        Output("hl-caller-name", "value", allow_duplicate=True),
        Output("hl-cb-name", "value", allow_duplicate=True),
        Output("hl-cb-phone", "value", allow_duplicate=True),
        Output("hl-nature", "value"),
        Output("hl-category", "value"),
        Output("hl-address", "value"),
        Output("hl-desc", "value"),
        Output("hl-urgency", "value"),
        Output("hl-loc", "data", allow_duplicate=True),
        Output("hl-pin", "children", allow_duplicate=True),
        Output("hl-grid", "children", allow_duplicate=True),
        Output("hl-parent", "data", allow_duplicate=True),
        Output("hl-merge-note", "children", allow_duplicate=True),
        Output("hl-history", "children", allow_duplicate=True),
        Input("hl-save", "n_clicks"),
        Input("hl-clear", "n_clicks"),
        State("hl-phone", "value"),
        State("hl-caller-name", "value"),
        State("hl-nature", "value"),
        State("hl-cb-name", "value"),
        State("hl-cb-phone", "value"),
        State("hl-category", "value"),
        State("hl-address", "value"),
        State("hl-loc", "data"),
        State("hl-urgency", "value"),
        State("hl-desc", "value"),
        State("hl-parent", "data"),
        State("hl-saved", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def save(
        n_save,
        n_clear,
        phone,
        caller_name,
        nature,
        cb_name,
        cb_phone,
        category,
        address,
        loc,
        urgency,
        description,
        parent,
        saved,
        lang,
    ):
        """Ctrl+Enter / the button: create the incident, clear the form for the next call, show the case id."""
        lang = lang_of(lang)
        principal = viewer()
        keep = [no_update] * 15
        cleared = [
            "",
            "",
            "",
            "",
            "callback",
            None,
            "",
            "",
            "0",
            None,
            [],
            [],
            None,
            "",
            html.Div(t("hl_history_hint", lang), className="gc-hint"),
        ]
        if not allowed(principal):
            return forbidden(lang), no_update, *keep
        if ctx.triggered_id == "hl-clear":
            return "", no_update, *cleared
        if not n_save:
            return no_update, no_update, *keep
        category = category if isinstance(category, str) and category else None
        point = stored_point(loc)
        if category is None and nature in NO_CASE_NATURES:
            return (
                html.Div(
                    t("hl_answered", lang, nature=t(f"hl_nature_{nature}", lang)),
                    className="gc-toast-ok",
                    id="hl-answered",
                ),
                (saved or 0) + 1,
                *cleared,
            )
        if not (description or "").strip():
            return html.Div(t("hl_need_desc", lang), className="gc-toast-err"), no_update, *keep
        if point is None and not (address or "").strip():
            return html.Div(t("hl_need_place", lang), className="gc-toast-err"), no_update, *keep
        try:
            cmd = build_command(
                phone=phone,
                caller_name=caller_name,
                nature=nature,
                cb_name=cb_name,
                cb_phone=cb_phone,
                category=category,
                address=address,
                point=point,
                urgency=urgency,
                description=description,
            )
            new_id, merged = save_call(principal, cmd, parent if isinstance(parent, str) and parent else None)
        except EngineError as exc:
            return html.Div(t("failed", lang, message=exc.message), className="gc-toast-err"), no_update, *keep
        except ValueError as exc:  # pydantic: a malformed field
            message = str(exc).splitlines()
            detail = message[2].strip() if len(message) > 2 else message[0]
            return html.Div(t("failed", lang, message=detail), className="gc-toast-err"), no_update, *keep
        text = t("hl_saved_merged", lang, parent=merged[:8]) if merged else t("hl_saved", lang)
        result = html.Div(
            [html.Span(text), html.Code(new_id, id="hl-new-id", **{"data-id": new_id})],
            className="gc-toast-ok gc-hl-saved",
        )
        return result, (saved or 0) + 1, *cleared
