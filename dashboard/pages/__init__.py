"""Dash pages mounted on the Flask server: the command center (/), the wall display (/wall), the hotline console
(/hotline), the triage page (/triage), the workbench (/work), the devices page (/devices) and the audit page (/audit);
every one of them behind the sign-in page (dashboard/pages/login.py)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import dash
from dash import Input, Output, State, dcc, html, no_update
from flask import Flask

from dashboard.pages import analysis, audit, bell, command, devices, hotline, triage, wall, work
from dashboard.pages.i18n import DEFAULT_LANG, lang_of
from dashboard.pages.login import init_login
from dashboard.realtime import init_realtime
from dispatcher.settings import Settings

PAGES = {"/": command, "/wall": wall}
PAGES["/audit"] = audit  # the auditor's trail
PAGES["/hotline"] = hotline  # the call-taker's console
PAGES["/triage"] = triage  # 待甄别: unplaced reports, suspected duplicates
PAGES["/devices"] = devices  # the administrator enrols and revokes officers' trackers
PAGES["/analysis"] = analysis  # 考核评价分析: indicator tables, rankings, trends, choropleth, exports
PAGES["/work"] = work  # 工作台: the boxes of the people after dispatch, with the drawer's action forms

CASE_PAGES = (command, work)  # the pages with the incident drawer


def mount_dash(server: Flask, settings: Settings) -> dash.Dash:
    """Create the Dash app on `server` (no CDN: every asset is served locally)."""
    app = dash.Dash(
        __name__,
        server=server,
        title="网格指挥 GridCommand",
        serve_locally=True,
        suppress_callback_exceptions=True,
        update_title=None,
        assets_folder=str(_assets_dir()),
        url_base_pathname="/",
    )
    app.layout = html.Div(
        [
            dcc.Location(id="gc-url", refresh=False),
            dcc.Store(id="gc-lang", storage_type="local", data=DEFAULT_LANG),
            html.Div(id="gc-page"),
        ]
    )
    _register(app)
    bell.register(app)
    for module in dict.fromkeys(PAGES.values()):
        if hasattr(module, "register"):
            module.register(app)
    init_login(server)
    init_realtime(server, settings)
    return app


def _assets_dir() -> Path:
    """The browser assets shipped with the web layer (dashboard/assets)."""
    return Path(__file__).resolve().parents[1] / "assets"


def query_incident(search: str | None) -> str | None:
    """The `?incident=` of a URL, if any (the drawer still checks the reader's scope)."""
    values = parse_qs((search or "").lstrip("?")).get("incident")
    return values[0][:36] if values else None


def query_lang(search: str | None) -> str | None:
    """The `?lang=` of a URL, if any."""
    values = parse_qs((search or "").lstrip("?")).get("lang")
    return lang_of(values[0]) if values else None


def _register(app: dash.Dash) -> None:
    @app.callback(
        Output("gc-page", "children"), Input("gc-url", "pathname"), Input("gc-lang", "data"), State("gc-url", "search")
    )
    def page(pathname, stored, search):
        """Render the page of the path in the chosen language (`?lang=` wins over the stored choice)."""
        lang = query_lang(search) or lang_of(stored)
        module = PAGES.get((pathname or "/").rstrip("/") or "/", command)
        if module in CASE_PAGES:  # `?incident=<id>` (a notification's link) opens that case in the drawer
            return module.layout(lang, selected=query_incident(search))
        return module.layout(lang)

    @app.callback(Output("gc-lang", "data"), Input("gc-url", "search"), State("gc-lang", "data"))
    def lang_from_url(search, stored):
        """`?lang=en` is remembered like the toggle."""
        wanted = query_lang(search)
        return wanted if wanted and wanted != stored else no_update

    @app.callback(
        Output("gc-lang", "data", allow_duplicate=True),
        Output("gc-url", "search"),
        Input("cc-lang", "n_clicks"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def toggle(n, stored):
        """中 / EN."""
        if not n:
            return no_update, no_update
        lang = "en" if lang_of(stored) == "zh" else "zh"
        return lang, f"?lang={lang}"
