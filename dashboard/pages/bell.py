"""The notification bell in every page's header: the unread count, live (a socket joined to the user's own room
only, and a 2 min poll as the safety net), a dropdown of the latest notifications, and "mark all read"."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, ctx, dcc, html, no_update

from dashboard.auth import current_principal
from dashboard.pages import i18n_notify
from dashboard.pages.i18n import lang_of, t
from dashboard.pages.sockets import live_socket
from dashboard.runtime import current_runtime
from dispatcher.notify import service
from dispatcher.notify.model import Notification

LATEST = 10
POLL_MS = 120_000  # the fallback under the user's Socket.IO room (a 15 s poll cost the idle page a round trip)
MENU_STYLE = {
    "position": "absolute",
    "right": 0,
    "top": "110%",
    "width": "340px",
    "maxHeight": "420px",
    "overflowY": "auto",
    "zIndex": 2000,
    "background": "#0f172a",
    "border": "1px solid #334155",
    "borderRadius": "4px",
    "padding": "6px",
    "boxShadow": "0 6px 18px rgba(0,0,0,.4)",
}


def bell(lang: str) -> html.Div:
    """The bell, its count, its (closed) dropdown, and what keeps the count live."""
    return html.Div(
        [
            html.Button(
                [t("bell_label", lang), html.Span("", id="gc-bell-n", className="gc-bell-n")],
                id="gc-bell-btn",
                className="gc-bell-btn",
                title=t("bell_title", lang),
                style={"background": "transparent", "border": "none", "cursor": "pointer", "color": "inherit"},
            ),
            html.Div(
                [
                    html.Div(
                        [
                            html.B(t("bell_title", lang)),
                            html.Button(t("bell_read_all", lang), id="gc-bell-read-all", className="gc-logout"),
                        ],
                        style={"display": "flex", "justifyContent": "space-between", "marginBottom": "6px"},
                    ),
                    html.Div(id="gc-bell-list"),
                ],
                id="gc-bell-menu",
                style={**MENU_STYLE, "display": "none"},
            ),
            dcc.Interval(id="gc-bell-tick", interval=POLL_MS),
            live_socket("gc-bell-socket", user_only=True),
        ],
        className="gc-bell",
        style={"position": "relative", "display": "inline-block"},
    )


def item(row: Notification, lang: str, tz: str) -> html.Div:
    """One notification: its kind, text, local time, and a link opening the case on the workbench."""
    kind = f"kind_{row.kind}"
    label = t(kind, lang) if kind in i18n_notify.NOTIFY_STRINGS else row.kind
    link = (
        [html.A(t("bell_open_case", lang), href=f"/work?incident={row.incident_id}", className="gc-bell-link")]
        if row.incident_id
        else []
    )
    return html.Div(
        [
            html.Div(
                [html.B(label), html.Span(" · " + row.created_at.astimezone(ZoneInfo(tz)).strftime("%m-%d %H:%M"))]
            ),
            html.Div(row.text),
            *link,
        ],
        className="gc-bell-item" + ("" if row.read_at else " unread"),
        style={
            "padding": "4px 6px",
            "borderBottom": "1px solid #1e293b",
            "fontWeight": "normal" if row.read_at else "bold",
        },
    )


def register(app: dash.Dash) -> None:
    """The bell's callbacks (once per app: every page's header holds the same bell)."""

    @app.callback(
        Output("gc-bell-n", "children"),
        Output("gc-bell-list", "children"),
        Input("gc-bell-tick", "n_intervals"),
        Input("gc-bell-socket", "data-incident"),
        Input("gc-bell-read-all", "n_clicks"),
        Input("gc-bell-btn", "n_clicks"),
        State("gc-lang", "data"),
    )
    def refresh(_tick, _pushed, read_all, _opened, lang):
        """The unread count and the latest notifications (after marking all read, when that was clicked)."""
        principal = current_principal()
        if principal is None:
            return no_update, no_update
        lang, rt = lang_of(lang), current_runtime()
        with rt.sessions.begin() as session:
            if ctx.triggered_id == "gc-bell-read-all" and read_all:
                service.mark_all_read(session, principal.username, rt.clock())
            unread = service.unread_count(session, principal.username)
            rows = service.inbox(session, principal.username, limit=LATEST)
            listing = [item(row, lang, rt.settings.timezone) for row in rows] or [
                html.Div(t("bell_empty", lang), className="gc-bell-empty")
            ]
        return (str(unread) if unread else ""), listing

    @app.callback(
        Output("gc-bell-menu", "style"),
        Input("gc-bell-btn", "n_clicks"),
        prevent_initial_call=True,
    )
    def toggle(n):
        """Open and close the dropdown."""
        return {**MENU_STYLE, "display": "block" if (n or 0) % 2 else "none"}
