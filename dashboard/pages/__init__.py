"""Dash pages mounted on the Flask server."""
from __future__ import annotations

import dash
from dash import html
from flask import Flask

from dashboard.realtime import init_realtime
from dispatcher.settings import Settings


def mount_dash(server: Flask, settings: Settings) -> dash.Dash:
    """Create the Dash app on `server` (no CDN: every asset is served locally)."""
    app = dash.Dash(__name__, server=server, title="GridCommand 网格指挥", serve_locally=True,
                    suppress_callback_exceptions=True, update_title=None)
    runtime = server.extensions["gridcommand"]
    app.layout = lambda: _home(runtime)
    init_realtime(server, settings)
    return app


def _home(runtime) -> html.Div:
    grids = runtime.city.grids
    return html.Div(
        [
            html.H1("GridCommand 网格化指挥调度"),
            html.P(f"网格版本 {grids.version} · {len(grids)} 个网格"),
            html.A("API (OpenAPI)", href="/api/v1/openapi.json"),
        ],
        id="home",
    )
