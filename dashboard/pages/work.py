"""The workbench (/work, 工作台) of the people after dispatch — department handlers and heads, enforcement officers,
grid workers, the command center, the hotline (callbacks): their boxes 待办 / 已办 / 超时 / 待审批 (+ 部门箱 for
department accounts) with counts, filters and a search, and the command center's incident drawer with the action
forms (dashboard/pages/drawer.py, drawer_forms.py).

The drawer is the command center's own: this page carries the same component ids (cc-selected, cc-seq,
cc-socket, cc-sync-tick, cc-act-result, cc-drawer*), so the drawer's callbacks and the command center's outbox
catch-up (which moves cc-seq when an event of the user's rooms arrives) work here unchanged; only one page is
in the layout at a time. Split by concern: work_views (what is shown) and work_callbacks (what keeps it live).
"""

from __future__ import annotations

import dash_leaflet as dl
from dash import dcc, html

from dashboard.pages import drawer, feed
from dashboard.pages.components import header, viewer
from dashboard.pages.i18n import dropdown_labels, lang_of, t
from dashboard.pages.sockets import live_socket
from dashboard.pages.work_callbacks import register
from dashboard.pages.work_views import boxes_of, filter_options, may_work, tab_label
from dashboard.runtime import current_runtime
from dispatcher.access.roles import may_see_phones
from dispatcher.handling.boxes import Box

__all__ = ["layout", "register"]
SLOW_REFRESH_MS = 30_000  # the safety net under the live pushes


def layout(lang: str, selected: str | None = None) -> html.Div:
    lang = lang_of(lang)
    principal = viewer()
    top = header("work", lang, "cc")  # the command center's prefix: its clock, connection, 中/EN serve here
    if not may_work(principal):
        return html.Div(
            [top, html.Div(t("work_forbidden", lang), className="gc-hint gc-forbidden")], className="gc-page gc-wk"
        )
    with current_runtime().sessions() as session:
        seq = feed.last_seq(session)
    boxes = boxes_of(principal)
    tabs = dcc.Tabs(
        id="wk-tab",
        value="todo",
        className="gc-tabs",
        children=[
            dcc.Tab(
                label=tab_label(b, 0, lang),
                value=str(b),
                id=f"wk-tab-{b}",
                className="gc-tab",
                selected_className="gc-tab-on",
                disabled=b not in boxes,  # every tab exists (the list callback labels them all); foreign ones hidden
                style=None if b in boxes else {"display": "none"},
            )
            for b in Box
        ],
    )
    options = filter_options(lang)
    phone = (
        dcc.Input(id="wk-phone", type="tel", placeholder=t("wk_phone", lang), debounce=True, className="gc-fm-input")
        if may_see_phones(principal.role)
        else dcc.Input(id="wk-phone", type="hidden", value=None)
    )
    filters = html.Div(
        [
            dcc.Dropdown(
                id="wk-stage",
                options=options["stage"],
                placeholder=t("wk_all_stages", lang),
                labels=dropdown_labels(lang),
                className="gc-dd",
            ),
            dcc.Dropdown(
                id="wk-category",
                options=options["category"],
                placeholder=t("wk_all_categories", lang),
                labels=dropdown_labels(lang),
                className="gc-dd",
            ),
            dcc.Dropdown(
                id="wk-grid",
                options=options["grid"],
                placeholder=t("wk_all_grids", lang),
                labels=dropdown_labels(lang),
                className="gc-dd",
            ),
            html.Label(
                [html.Span(t("wk_due_before", lang)), dcc.Input(id="wk-due", type="date", className="gc-fm-input")],
                className="gc-wk-due",
            ),
            dcc.Input(
                id="wk-q", type="search", placeholder=t("wk_search", lang), debounce=True, className="gc-fm-input"
            ),
            phone,
        ],
        className="gc-filters gc-wk-filters",
    )
    the_list = html.Main(
        [tabs, filters, html.Div(id="wk-list", className="gc-queue-list gc-wk-list")],
        className="gc-queue gc-wk-main",
    )
    return html.Div(
        [
            top,
            live_socket("cc-socket"),  # the drawer's catch-up listens here (rooms)
            dcc.Store(id="cc-seq", data=seq),
            # the rest of the catch-up's outputs (command_callbacks.sync writes them all): a store and a hidden layer
            dcc.Store(id="cc-incidents", data={}),
            html.Div(dl.Map(dl.GeoJSON(id="cc-communities", data=None), id="wk-nomap"), style={"display": "none"}),
            dcc.Store(id="cc-selected", data=selected),
            dcc.Store(id="cc-act-result", data=0),
            dcc.Store(id="cc-drawer-ver", data=None),
            dcc.Store(id="wk-order", data=None),
            dcc.Interval(id="cc-sync-tick", interval=20_000),
            dcc.Interval(id="wk-tick", interval=SLOW_REFRESH_MS),
            html.Div(
                [
                    the_list,
                    drawer.panel(lang),
                ],
                className="gc-cc-body gc-wk-body",
            ),
        ],
        className="gc-page gc-wk",
    )
