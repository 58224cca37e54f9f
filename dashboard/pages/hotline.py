"""The hotline console (/hotline, 12345 受理台): everything a call-taker needs while the caller is on the line.

Keyboard first: the phone field has the focus on load; Enter (or the 11th digit) shows the caller's earlier
calls; Alt+1..9 insert a phrase; Ctrl+Enter saves (dashboard/assets/hotline.js). Saving creates the incident
through the engine (dispatcher.intake.reports.create_incident in one unit of work, actor = the signed-in user,
channel hotline); the unit of work's outbox puts it on the command center at once.

Nothing the browser sends is trusted as an id: the grid path is recomputed from the clicked point, the
category is looked up in the catalogue, and a "merge into" choice must be one of the duplicate suggestions
the server computes again at save time, inside the user's scope. Caller history and duplicate suggestions are
the engine's (dispatcher.intake.callers, dispatcher.intake.duplicates), run as the API runs them.

The page is split by concern: hotline_form (the form and its command), hotline_callers (earlier calls),
hotline_duplicates, hotline_phrases, hotline_save (saving, one typed outcome) and hotline_callbacks.
"""

from __future__ import annotations

from dash import dcc, html

from dashboard.pages.components import header, viewer
from dashboard.pages.hotline_address import warm
from dashboard.pages.hotline_callbacks import register
from dashboard.pages.hotline_callers import history_hint
from dashboard.pages.hotline_form import NATURES, URGENCIES, allowed
from dashboard.pages.hotline_phrases import phrase_buttons, phrases_for
from dashboard.pages.i18n import lang_of, t
from dashboard.pages.intake_widgets import category_options, display_crs, forbidden, placing_map
from dashboard.pages.sockets import live_socket

__all__ = ["layout", "register"]


def _field(label: str, control, hint: str | None = None, cls: str = "") -> html.Label:
    return html.Label(
        [html.Span([label, html.Kbd(hint) if hint else None], className="gc-hl-lab"), control],
        className="gc-hl-field " + cls,
    )


def _input(control_id: str, kind: str = "text", **kwargs) -> dcc.Input:
    return dcc.Input(id=control_id, type=kind, autoComplete="off", className="gc-hl-input", **kwargs)


def layout(lang: str) -> html.Div:
    """The console: caller, problem and text columns (or the refusal for a role that takes no calls)."""
    lang = lang_of(lang)
    top = header("hotline", lang, "hl")
    socket = [live_socket("hl-socket")]
    if not allowed(viewer()):
        return html.Div([top, *socket, forbidden(lang, "hotline", "hl")], className="gc-page gc-hl")
    warm()
    return html.Div(
        [
            top,
            *socket,
            dcc.Store(id="hl-loc", data=None),
            dcc.Store(id="hl-parent", data=None),
            dcc.Store(id="hl-addr-picked", data=None),
            dcc.Store(id="hl-saved", data=0),
            html.Div([caller_column(lang), case_column(lang), text_column(lang)], className="gc-hl-body"),
        ],
        className="gc-page gc-hl",
        **{"data-crs": display_crs()},
    )


def caller_column(lang: str) -> html.Section:
    """Number (with the earlier calls), name, call nature and the person to call back."""
    natures = [{"label": t(f"hl_nature_{n}", lang), "value": n} for n in NATURES]
    phone = dcc.Input(
        id="hl-phone",
        type="tel",
        autoFocus=True,
        debounce=False,
        placeholder=t("hl_phone_ph", lang),
        autoComplete="off",
        className="gc-hl-input gc-hl-phone",
        n_submit=0,
    )
    callback_box = html.Div(
        [
            _field(t("hl_cb_name", lang), _input("hl-cb-name")),
            _field(t("hl_cb_phone", lang), _input("hl-cb-phone", "tel")),
        ],
        className="gc-hl-row2",
        id="hl-callback-box",
    )
    return html.Section(
        [
            html.Div(t("hl_caller", lang), className="gc-sec"),
            _field(t("hl_phone", lang), phone, "Enter"),
            html.Div(id="hl-history", className="gc-hl-history", children=history_hint(lang)),
            _field(t("hl_caller_name", lang), _input("hl-caller-name")),
            _field(
                t("hl_nature", lang),
                dcc.RadioItems(id="hl-nature", options=natures, value="callback", className="gc-hl-radio", inline=True),
            ),
            callback_box,
        ],
        className="gc-hl-col gc-hl-caller",
    )


def case_column(lang: str) -> html.Section:
    """Category (searchable), address, the map with the grid path, urgency."""
    urgencies = [{"label": t("hl_urgency_auto", lang), "value": "0"}] + [
        {"label": t(f"urgency_{u}", lang), "value": u} for u in URGENCIES
    ]
    category = dcc.Dropdown(
        id="hl-category",
        options=category_options("", None, lang),
        placeholder=t("hl_category_ph", lang),
        searchable=True,
        clearable=True,
        className="gc-dd gc-hl-dd",
    )
    address = _input("hl-address", placeholder=t("hl_address_ph", lang), debounce=False, n_submit=0)
    the_map = html.Div(
        [placing_map("hl"), html.Div(t("hl_map_hint", lang), className="gc-hl-maphint")], className="gc-hl-mapbox"
    )
    return html.Section(
        [
            html.Div(t("hl_case", lang), className="gc-sec"),
            _field(t("f_category", lang), category),
            _field(t("hl_address", lang), address, "↑↓ Enter"),
            html.Div(id="hl-addr-list", className="gc-hl-addr-list", role="listbox"),
            the_map,
            html.Div(id="hl-grid", className="gc-hl-gridpath"),
            _field(
                t("f_urgency", lang),
                dcc.RadioItems(id="hl-urgency", options=urgencies, value="0", className="gc-hl-radio", inline=True),
            ),
        ],
        className="gc-hl-col gc-hl-case",
    )


def text_column(lang: str) -> html.Section:
    """Description, phrases, possible duplicates, save and clear, the result line."""
    buttons = html.Div(
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
    )
    return html.Section(
        [
            html.Div(t("hl_description", lang), className="gc-sec"),
            dcc.Textarea(id="hl-desc", className="gc-note gc-hl-desc", placeholder=t("hl_desc_ph", lang)),
            html.Div(t("hl_phrases", lang), className="gc-sec"),
            html.Div(id="hl-phrases", className="gc-hl-phrases", children=phrase_buttons(phrases_for(None))),
            html.Div(id="hl-dups", className="gc-hl-dups"),
            html.Div(id="hl-merge-note", className="gc-hl-mergenote"),
            buttons,
            html.Div(id="hl-result", className="gc-hl-result", role="status", **{"aria-live": "polite"}),
        ],
        className="gc-hl-col gc-hl-text",
    )
