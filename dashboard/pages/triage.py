"""The triage page (/triage, 待甄别): reports the engine could not place and reported cases that look like a
duplicate, each with its reason. Select one, correct its category (searchable) and/or location (a map click)
and file it in one step (Ctrl+Enter), void it with a reason, or merge a suspected duplicate into its candidate.

The list is dispatcher.intake.duplicates.triage_queue inside the user's scope (the same query as GET /api/v1/triage);
every action runs through dispatcher.cases.actions.perform_action as the signed-in user, who must be able to see
the incident (and a merge target must be one of the candidates the server computes again).

Split by concern: triage_views (what is shown), triage_actions (what a button does) and triage_callbacks.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.pages.components import header, viewer
from dashboard.pages.i18n import dropdown_labels, lang_of, t
from dashboard.pages.intake_widgets import category_options, display_crs, forbidden, may, placing_map
from dashboard.pages.sockets import live_socket
from dashboard.pages.triage_callbacks import register
from dashboard.pages.triage_views import allowed
from dispatcher.access.accounts import Principal
from dispatcher.cases.lifecycle import Action

__all__ = ["layout", "register"]


def layout(lang: str) -> html.Div:
    """The queue, the map and the editor (or the refusal for a role that does not triage)."""
    lang = lang_of(lang)
    principal = viewer()
    top = header("triage", lang, "tr")
    socket = live_socket("tr-socket")
    if not allowed(principal):
        return html.Div([top, socket, forbidden(lang, "triage", "tr")], className="gc-page gc-tr")
    the_queue = html.Aside(
        [
            html.Div([html.Span(t("tr_title", lang)), html.B("", id="tr-count")], className="gc-tr-head"),
            html.Div(id="tr-list", className="gc-queue-list"),
        ],
        className="gc-queue",
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
                [the_queue, html.Main([placing_map("tr")], className="gc-mapbox"), editor(principal, lang)],
                className="gc-cc-body gc-tr-body",
            ),
        ],
        className="gc-page gc-tr",
        **{"data-crs": display_crs()},
    )


def void_controls(principal: Principal, lang: str) -> list:
    """The reason field and the void button (hidden for a role that may not void)."""
    if not may(principal, Action.VOID):
        return [dcc.Input(id="tr-void-reason", type="hidden"), html.Button(id="tr-void", n_clicks=0, hidden=True)]
    reason = dcc.Input(id="tr-void-reason", type="text", placeholder=t("tr_void_reason", lang), className="gc-hl-input")
    button = html.Button(t("tr_void", lang), id="tr-void", n_clicks=0, className="gc-btn gc-btn-danger")
    return [html.Div([reason, button], className="gc-row gc-tr-void")]


def editor(principal: Principal, lang: str) -> html.Aside:
    """The selected report, its category and location to correct, file / void, the candidates, the toast."""
    file_button = html.Button(
        [t("tr_file", lang), html.Kbd("Ctrl+Enter")], id="tr-file", n_clicks=0, className="gc-btn gc-btn-primary"
    )
    return html.Aside(
        [
            html.Div(id="tr-info", children=html.Div(t("tr_pick", lang), className="gc-hint")),
            html.Div(t("f_category", lang), className="gc-sec"),
            dcc.Dropdown(
                id="tr-category",
                options=category_options("", None, lang),
                searchable=True,
                clearable=True,
                placeholder=t("hl_category_ph", lang),
                labels=dropdown_labels(lang),
                className="gc-dd gc-hl-dd",
            ),
            html.Div(t("f_location", lang), className="gc-sec"),
            html.Div(t("tr_map_hint", lang), className="gc-hint"),
            html.Div(id="tr-grid", className="gc-hl-gridpath"),
            html.Div([file_button], className="gc-hl-actions"),
            *void_controls(principal, lang),
            html.Div(id="tr-cands", className="gc-hl-dups"),
            html.Div(id="tr-toast", className="gc-toast gc-tr-toast", role="status"),
        ],
        className="gc-drawer gc-tr-editor",
    )
