"""The triage page (/triage, 待甄别): reports the engine could not place and reported cases that look like a
duplicate, each with its reason. Select one, correct its category (searchable) and/or location (a map click)
and file it in one step (Ctrl+Enter), void it with a reason, or merge a suspected duplicate into its candidate.

The list is dispatcher.intake.duplicates.triage_queue inside the user's scope (the same query as GET /api/v1/triage);
every action runs through dispatcher.cases.actions.perform_action as the signed-in user, who must be able to see
the incident (and a merge target must be one of the candidates the server computes again).
"""

from __future__ import annotations

import dash
import dash_leaflet as dl
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from dash_socketio import DashSocketIO
from flask import request

from dashboard.pages import feed
from dashboard.pages.components import (
    ago,
    base_map,
    city_bounds,
    fn,
    grid_layer,
    grids_url,
    header,
    status_badge,
    viewer,
)
from dashboard.pages.hotline import (
    category_options,
    clicked_point,
    grid_path_view,
    reason_text,
    register_chrome,
    stored_point,
)
from dashboard.pages.i18n import action_label, lang_of, t
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.actions import get_incident, perform_action
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import ACTIONS, scope_clause
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import EngineError
from dispatcher.intake import duplicates

ROLES = frozenset({"dispatcher", "shift_leader"})
LIST_LIMIT = 200


def allowed(principal: Principal | None) -> bool:
    return principal is not None and str(principal.role) in ROLES


def forbidden(lang: str) -> html.Div:
    return html.Div(t("triage_forbidden", lang), className="gc-hint gc-tr-forbidden")


def may(principal: Principal, action: Action) -> bool:
    return action in ACTIONS.get(principal.role, frozenset())


def queue(session, principal: Principal):
    return duplicates.triage_queue(
        session, catalogue=current_runtime().city.catalogue, scope=scope_clause(principal), limit=LIST_LIMIT
    )


def _cname(code: str | None, lang: str) -> str:
    cat = current_runtime().city.catalogue.find_category(code)
    return (cat.name_zh if lang == "zh" else cat.name_en) if cat else (code or t("tr_no_category", lang))


def list_rows(items, selected: str | None, lang: str) -> list:
    now = current_runtime().clock()
    if not items:
        return [html.Div(t("tr_empty", lang), className="gc-empty", id="tr-empty")]
    rows = []
    for item in items:
        i = item.incident
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.B(_cname(i.category_code, lang), className="gc-q-cat"),
                            html.Span(reason_text(item.reason, lang), className=f"gc-tr-reason gc-tr-r-{item.reason}"),
                        ],
                        className="gc-q-l1",
                    ),
                    html.Div(i.description, className="gc-q-desc"),
                    html.Div(
                        [
                            html.Span(i.address or (f"{i.lon:.4f}, {i.lat:.4f}" if i.lon is not None else "—")),
                            html.Span(ago(i.created_at, now, lang)),
                        ],
                        className="gc-q-l3",
                    ),
                ],
                id={"type": "tr-row", "index": i.id},
                n_clicks=0,
                className="gc-qrow gc-tr-row" + (" gc-tr-row-on" if i.id == selected else ""),
                **{"data-id": i.id, "data-reason": item.reason},
            )
        )
    return rows


def layout(lang: str) -> html.Div:
    lang = lang_of(lang)
    principal = viewer()
    top = header("triage", lang, "tr")
    socket = DashSocketIO(id="tr-socket", eventNames=["incident"])
    if not allowed(principal):
        return html.Div([top, socket, forbidden(lang)], className="gc-page gc-tr")
    rt = current_runtime()
    crs = feed.display_crs(rt.settings.tile_url)
    coords = None if crs == "wgs84" else fn("displayCoords")
    the_map = base_map(
        "tr-map",
        [
            grid_layer("tr-streets", "street", url=grids_url("street"), hideout={}, coords=coords, interactive=False),
            dl.LayerGroup(id="tr-pin"),
        ],
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        zoom=12.5,
        className="gc-tr-map",
    )
    void = (
        [
            html.Div(
                [
                    dcc.Input(
                        id="tr-void-reason", type="text", placeholder=t("tr_void_reason", lang), className="gc-hl-input"
                    ),
                    html.Button(t("tr_void", lang), id="tr-void", n_clicks=0, className="gc-btn gc-btn-danger"),
                ],
                className="gc-row gc-tr-void",
            )
        ]
        if may(principal, Action.VOID)
        else [dcc.Input(id="tr-void-reason", type="hidden"), html.Button(id="tr-void", n_clicks=0, hidden=True)]
    )
    editor = html.Aside(
        [
            html.Div(id="tr-info", children=html.Div(t("tr_pick", lang), className="gc-hint")),
            html.Div(t("f_category", lang), className="gc-sec"),
            dcc.Dropdown(
                id="tr-category",
                options=category_options("", None, lang),
                searchable=True,
                clearable=True,
                placeholder=t("hl_category_ph", lang),
                className="gc-dd gc-hl-dd",
            ),
            html.Div(t("f_location", lang), className="gc-sec"),
            html.Div(t("tr_map_hint", lang), className="gc-hint"),
            html.Div(id="tr-grid", className="gc-hl-gridpath"),
            html.Div(
                [
                    html.Button(
                        [t("tr_file", lang), html.Kbd("Ctrl+Enter")],
                        id="tr-file",
                        n_clicks=0,
                        className="gc-btn gc-btn-primary",
                    )
                ],
                className="gc-hl-actions",
            ),
            *void,
            html.Div(id="tr-cands", className="gc-hl-dups"),
            html.Div(id="tr-toast", className="gc-toast gc-tr-toast", role="status"),
        ],
        className="gc-drawer gc-tr-editor",
    )
    return html.Div(
        [
            top,
            socket,
            dcc.Store(id="tr-selected", data=None),
            dcc.Store(id="tr-loc", data=None),
            dcc.Store(id="tr-done", data=0),
            dcc.Interval(id="tr-tick", interval=30_000),
            html.Div(
                [
                    html.Aside(
                        [
                            html.Div(
                                [html.Span(t("tr_title", lang)), html.B("", id="tr-count")], className="gc-tr-head"
                            ),
                            html.Div(id="tr-list", className="gc-queue-list"),
                        ],
                        className="gc-queue",
                    ),
                    html.Main([the_map], className="gc-mapbox"),
                    editor,
                ],
                className="gc-cc-body gc-tr-body",
            ),
        ],
        className="gc-page gc-tr",
        **{"data-crs": crs},
    )


def info(item, lang: str) -> list:
    i = item.incident
    tz = current_runtime().settings.timezone
    from dashboard.pages.components import local_time

    return [
        html.Div(
            [html.Span(_cname(i.category_code, lang), className="gc-d-title"), status_badge(i.status, lang)],
            className="gc-d-head",
        ),
        html.Div(
            [html.Code(i.id[:8]), html.Span(i.channel), html.Span(local_time(i.created_at, tz))], className="gc-d-id"
        ),
        html.P(i.description, className="gc-d-desc"),
        html.Div(
            [html.Span(t("tr_reason", lang)), html.B(reason_text(item.reason, lang), id="tr-reason")], className="gc-kv"
        ),
        html.Div(html.Small(item.detail or ""), className="gc-tr-detail"),
        html.Div([html.Span(t("hl_address", lang)), html.Span(i.address or "—")], className="gc-kv"),
    ]


def candidates_view(item, principal: Principal, lang: str) -> list:
    if not item.candidates:
        return []
    now = current_runtime().clock()
    merge_ok = may(principal, Action.MERGE)
    rows = [html.Div(t("dup_title", lang, n=len(item.candidates)), className="gc-sec")]
    for s in item.candidates:
        c = s.incident
        rows.append(
            html.Div(
                [
                    html.Div(
                        [
                            html.B(_cname(c.category_code, lang)),
                            status_badge(c.status, lang),
                            html.Span(
                                f"{s.distance_m:.0f} m" if s.distance_m is not None else "—", className="gc-hl-dist"
                            ),
                            html.Span(reason_text(s.reason, lang), className="gc-hl-muted"),
                        ],
                        className="gc-hl-h1",
                    ),
                    html.Div(c.description, className="gc-q-desc"),
                    html.Div(
                        [
                            html.Code(c.id[:8]),
                            html.Span(ago(c.created_at, now, lang), className="gc-hl-muted"),
                            html.Button(
                                t("tr_merge", lang),
                                id={"type": "tr-merge", "index": c.id},
                                n_clicks=0,
                                className="gc-btn gc-btn-sm gc-btn-primary",
                            )
                            if merge_ok
                            else None,
                        ],
                        className="gc-hl-h3",
                    ),
                ],
                className="gc-hl-dup",
                **{"data-id": c.id},
            )
        )
    return rows


def find_item(session, principal: Principal, incident_id: str | None):
    if not isinstance(incident_id, str):
        return None
    return next((item for item in queue(session, principal) if item.incident.id == incident_id), None)


def pin(lat: float, lng: float, color: str = "#f59e0b") -> list:
    return [dl.CircleMarker(center=[lat, lng], radius=9, color=color, fillColor=color, fillOpacity=0.8, weight=2)]


def run(principal: Principal, incident_id: str, action: Action, req: ActionRequest) -> str:
    rt = current_runtime()
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        incident = perform_action(
            uow, rt.city, incident_id, action, req, actor=principal.username, now=now, principal=principal
        )
    return incident.status


def register(app: dash.Dash) -> None:
    register_chrome(app, "tr")

    @app.callback(
        Output("tr-list", "children"),
        Output("tr-count", "children"),
        Input("tr-socket", "data-incident"),
        Input("tr-done", "data"),
        Input("tr-tick", "n_intervals"),
        Input("tr-selected", "data"),
        State("gc-lang", "data"),
    )
    def listing(_msg, _done, _tick, selected, lang):
        """The triage queue, refreshed on every pushed change."""
        lang = lang_of(lang)
        principal = viewer()
        if not allowed(principal):
            return forbidden(lang), ""
        with current_runtime().sessions() as session:
            items = queue(session, principal)
            return list_rows(items, selected if isinstance(selected, str) else None, lang), str(len(items))

    @app.callback(
        Output("tr-selected", "data"), Input({"type": "tr-row", "index": ALL}, "n_clicks"), prevent_initial_call=True
    )
    def select(_clicks):
        if isinstance(ctx.triggered_id, dict) and ctx.triggered and ctx.triggered[0]["value"]:
            return ctx.triggered_id["index"]
        return no_update

    @app.callback(
        Output("tr-info", "children"),
        Output("tr-category", "value"),
        Output("tr-loc", "data"),
        Output("tr-pin", "children"),
        Output("tr-grid", "children"),
        Output("tr-cands", "children"),
        Output("tr-void-reason", "value"),
        Input("tr-selected", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def show(incident_id, lang):
        """The selected report: facts, reason, current category and point, duplicate candidates."""
        lang = lang_of(lang)
        principal = viewer()
        empty = (html.Div(t("tr_pick", lang), className="gc-hint"), None, None, [], [], [], "")
        if not allowed(principal) or not isinstance(incident_id, str):
            return empty
        with current_runtime().sessions() as session:
            item = find_item(session, principal, incident_id)
            if item is None:
                return empty
            i = item.incident
            marker, grid = [], []
            if i.lon is not None:
                lon, lat = feed.to_display(i.lon, i.lat, feed.display_crs(current_runtime().settings.tile_url))
                marker = pin(lat, lon, "#a78bfa")
                grid = grid_path_view(i.lon, i.lat, lang)
            return info(item, lang), i.category_code, None, marker, grid, candidates_view(item, principal, lang), ""

    @app.callback(
        Output("tr-category", "options"),
        Input("tr-category", "search_value"),
        State("tr-category", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def search(text, selected, lang):
        if not allowed(viewer()):
            return []
        return category_options(text, selected, lang_of(lang))

    @app.callback(
        Output("tr-loc", "data", allow_duplicate=True),
        Output("tr-pin", "children", allow_duplicate=True),
        Output("tr-grid", "children", allow_duplicate=True),
        Input("tr-map", "clickData"),
        State("tr-selected", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def clicked(click, selected, lang):
        """A map click is the corrected location; its grid path shows at once."""
        lang = lang_of(lang)
        if not allowed(viewer()) or not isinstance(selected, str):
            return no_update, no_update, no_update
        point = clicked_point(click, feed.display_crs(current_runtime().settings.tile_url))
        if point is None:
            return no_update, no_update, no_update
        latlng = click["latlng"]
        lat, lng = (latlng["lat"], latlng["lng"]) if isinstance(latlng, dict) else (latlng[0], latlng[1])
        return {"lon": point[0], "lat": point[1]}, pin(lat, lng), grid_path_view(point[0], point[1], lang)

    @app.callback(
        Output("tr-toast", "children"),
        Output("tr-done", "data"),
        Output("tr-selected", "data", allow_duplicate=True),
        Input("tr-file", "n_clicks"),
        Input("tr-void", "n_clicks"),
        Input({"type": "tr-merge", "index": ALL}, "n_clicks"),
        State("tr-selected", "data"),
        State("tr-category", "value"),
        State("tr-loc", "data"),
        State("tr-void-reason", "value"),
        State("tr-done", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def act(_file, _void, _merge, incident_id, category, loc, reason, done, lang):
        """File (with the corrections), void (with a reason) or merge into a candidate, in one step."""
        lang = lang_of(lang)
        principal = viewer()
        if not allowed(principal):
            return forbidden(lang), no_update, no_update
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            return no_update, no_update, no_update
        if not isinstance(incident_id, str):
            return html.Div(t("tr_pick", lang), className="gc-toast-err"), no_update, no_update
        trigger = ctx.triggered_id
        try:
            if isinstance(trigger, dict):
                parent = trigger.get("index")
                with current_runtime().sessions() as session:
                    item = find_item(session, principal, incident_id)
                    ids = {s.incident.id for s in item.candidates} if item is not None else set()
                if parent not in ids:
                    raise EngineError(f"incident {parent} is not a duplicate candidate of {incident_id}")
                action, req = Action.MERGE, ActionRequest(parent_id=parent)
            elif trigger == "tr-void":
                action, req = Action.VOID, ActionRequest(reason=(reason or "").strip() or None)
                if req.reason is None:
                    return html.Div(t("tr_need_reason", lang), className="gc-toast-err"), no_update, no_update
            else:
                point = stored_point(loc)
                fields = {}
                with UnitOfWork(current_runtime().sessions) as uow:
                    current = get_incident(uow, incident_id, principal=principal)  # NotFound outside the scope
                    changed = isinstance(category, str) and category and category != current.category_code
                if changed:
                    fields["category_code"] = category
                if point is not None:
                    fields["lon"], fields["lat"] = point
                action, req = Action.FILE, ActionRequest(**fields)
            run(principal, incident_id, action, req)
        except EngineError as exc:
            return html.Div(t("failed", lang, message=exc.message), className="gc-toast-err"), no_update, no_update
        except ValueError as exc:
            return (
                html.Div(t("failed", lang, message=str(exc).splitlines()[0]), className="gc-toast-err"),
                no_update,
                no_update,
            )
        message = html.Div(
            [html.Span(t("done", lang, action=action_label(str(action), lang))), html.Code(incident_id[:8])],
            className="gc-toast-ok",
            id="tr-ok",
            **{"data-id": incident_id},
        )
        return message, (done or 0) + 1, None
