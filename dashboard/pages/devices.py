"""The administrator's tracker page (/devices): officers and their devices, issue a tracker, revoke one.

Only the admin role sees anything: the layout and the callback check `current_principal()` and answer with
a "forbidden" notice (and no officers or devices) otherwise, so a replayed callback reveals and changes
nothing. A new device's identifier is shown once, with what to paste into Traccar Client or OsmAnd; the
list shows public device ids only. Issuing and revoking are audited with the admin's name, role and address.
"""

from __future__ import annotations

import dash
from dash import ALL, Input, Output, State, dcc, html, no_update
from flask import has_request_context, request
from sqlalchemy import select

from dashboard.auth import current_principal
from dashboard.pages.components import header, local_time, register_chrome
from dashboard.pages.i18n import dropdown_labels, lang_of, role_label, t
from dashboard.pages.i18n_errors import error_text
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.errors import EngineError
from dispatcher.fleet.devices import Device, devices_of, issue, revoke, tracker_setup
from dispatcher.fleet.officers import Officer

REVOKE = "devices-revoke"
COLUMNS = ("officer", "device", "label", "state", "created", "seen", "")


def _admin() -> Principal | None:
    """The signed-in administrator, or None (anyone else, or nobody)."""
    if not has_request_context():
        return None
    principal = current_principal()
    return principal if principal is not None and principal.role == "admin" else None


def forbidden(lang: str) -> html.Div:
    return html.Div(t("devices_forbidden", lang), className="gc-hint gc-devices-forbidden")


def _officers() -> list[Officer]:
    with current_runtime().sessions() as session:
        officers = list(session.scalars(select(Officer).order_by(Officer.id)))
        session.expunge_all()
    return officers


def layout(lang: str) -> html.Div:
    """The issue form and the officers with their devices (a notice instead for anyone but an administrator)."""
    lang = lang_of(lang)
    if _admin() is None:
        return html.Div([header("devices", lang, "dv", live=False), forbidden(lang)], className="gc-page gc-devices")
    officers = _officers()
    form = html.Div(
        [
            dcc.Dropdown(
                id="devices-officer",
                options=[{"label": f"{o.id} {o.name} · {role_label(o.role, lang)}", "value": o.id} for o in officers],
                placeholder=t("devices_pick", lang),
                labels=dropdown_labels(lang),
                className="gc-dd",
                style={"minWidth": 320},
            ),
            dcc.Input(id="devices-label", type="text", maxLength=64, placeholder=t("devices_label", lang)),
            html.Button(t("devices_issue", lang), id="devices-issue", n_clicks=0, className="gc-btn gc-btn-primary"),
        ],
        className="gc-devices-form",
        style={"display": "flex", "gap": 8, "alignItems": "center", "padding": 8},
    )
    return html.Div(
        [
            header("devices", lang, "dv", live=False),
            form,
            html.Div(id="devices-issued", className="gc-devices-issued", style={"padding": 8}),
            html.Div(table(officers, lang), id="devices-table", style={"overflow": "auto", "flex": "1"}),
        ],
        className="gc-page gc-devices",
    )


def _when(value) -> str:
    """A UTC instant as the city's local time."""
    return local_time(value, current_runtime().settings.timezone, "%Y-%m-%d %H:%M") if value else "—"


def table(officers: list[Officer], lang: str) -> html.Table:
    """Every officer with each of their devices (public id, label, state, times) and a revoke button per live one."""
    with current_runtime().sessions() as session:
        by_officer: dict[str, list[Device]] = {}
        for device in devices_of(session):
            by_officer.setdefault(device.officer_id, []).append(device)
    head = html.Thead(html.Tr([html.Th(t(f"devices_col_{c}", lang) if c else "") for c in COLUMNS]))
    rows = []
    for officer in officers:
        name = f"{officer.id} {officer.name}"
        devices = by_officer.get(officer.id, [])
        if not devices:
            rows.append(html.Tr([html.Td(name), html.Td(t("devices_none", lang), colSpan=len(COLUMNS) - 1)]))
        for device in devices:
            live = device.revoked_at is None
            state = (
                t("devices_live", lang) if live else f"{t('devices_state_revoked', lang)} {_when(device.revoked_at)}"
            )
            button = html.Button(
                t("devices_revoke", lang),
                id={"type": REVOKE, "device": device.id},
                className="gc-btn gc-btn-danger gc-btn-sm",
            )
            cells = [name, device.id, device.label or "", state, _when(device.created_at), _when(device.last_seen_at)]
            rows.append(html.Tr([html.Td(c) for c in cells] + [html.Td(button if live else "")]))
    return html.Table([head, html.Tbody(rows)], style={"width": "100%", "fontSize": 12, "borderCollapse": "collapse"})


def issued_panel(device: Device, identifier: str, lang: str) -> html.Div:
    """The one time a tracker's identifier is shown: with the Traccar Client and OsmAnd settings to paste."""
    rt = current_runtime()
    base = rt.settings.public_url or request.host_url
    setup = tracker_setup(base, identifier)
    line = lambda label, value: html.Div([html.Span(label + "：", className="gc-hint"), html.Code(value)])
    return html.Div(
        [
            html.Div(t("devices_issued", lang, device=device.id, officer=device.officer_id)),
            line(t("devices_identifier", lang), identifier),
            line(t("devices_traccar", lang), setup["server_url"]),
            line(t("devices_osmand", lang), setup["osmand_url"]),
        ],
        className="gc-devices-once",
    )


def register(app: dash.Dash) -> None:
    register_chrome(app, "dv")  # the header's clock and 中/EN toggle

    @app.callback(
        Output("devices-issued", "children"),
        Output("devices-table", "children"),
        Input("devices-issue", "n_clicks"),
        Input({"type": REVOKE, "device": ALL}, "n_clicks"),
        State("devices-officer", "value"),
        State("devices-label", "value"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def act(_issue, _revoke, officer_id, label, lang):
        """Issue a tracker for the chosen officer, or revoke the device whose button was pressed."""
        lang = lang_of(lang)
        principal = _admin()
        if principal is None:
            return forbidden(lang), []
        fired = dash.ctx.triggered_id
        clicked = next((p["value"] for p in dash.ctx.triggered or []), None)
        if not clicked:  # a button was only drawn, not pressed
            return no_update, no_update
        rt = current_runtime()
        who = {"actor": principal.username, "role": str(principal.role), "ip": request.remote_addr}
        try:
            with rt.sessions.begin() as session:
                if isinstance(fired, dict) and fired.get("type") == REVOKE:
                    revoke(session, str(fired["device"]), now=rt.clock(), **who)
                    notice = html.Div(t("devices_revoked", lang, device=fired["device"]))
                elif not officer_id:
                    return html.Div(t("devices_pick", lang)), no_update
                else:
                    issued = issue(session, officer_id, label=label, now=rt.clock(), **who)
                    notice = issued_panel(issued.device, issued.identifier, lang)
        except EngineError as exc:
            return html.Div(t("failed", lang, message=error_text(exc, lang)), className="gc-toast-err"), no_update
        rt.forget_devices()
        return notice, table(_officers(), lang)
