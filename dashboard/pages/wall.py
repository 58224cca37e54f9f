"""The wall display (/wall): today's KPIs, the shaded live map, intake by hour, top categories, street ranking."""

from __future__ import annotations

import dash
import plotly.graph_objects as go
from dash import Input, Output, State, dcc, html
from dash_socketio import DashSocketIO

from dashboard.api.stats import named_summary
from dashboard.pages.components import (
    base_map,
    city_bounds,
    grid_layer,
    grids_url,
    header,
    viewer,
)
from dashboard.pages.feed import display_crs
from dashboard.pages.i18n import t
from dashboard.runtime import current_runtime
from dispatcher.cases import stats
from dispatcher.cases.scope import scope_clause

KPIS = ("received", "filed", "dispatched", "in_handling", "overdue", "closed")
THROTTLE_MS = 1000


def layout(lang: str) -> html.Div:
    """The leader's wall: no controls, large type, refreshed by pushes (at most once a second)."""
    rt = current_runtime()
    coords = None if display_crs(rt.settings.tile_url) == "wgs84" else {"variable": "gc.map.displayCoords"}
    tiles = [
        html.Div(
            [
                html.Div(t(f"k_{k}", lang), className="gc-k-label"),
                html.Div("0", id=f"wall-k-{k}", className="gc-k-value"),
            ],
            className=f"gc-kpi gc-kpi-{k}",
        )
        for k in KPIS
    ]
    tiles.append(
        html.Div(
            [
                html.Div(t("k_on_time", lang), className="gc-k-label"),
                html.Div("—", id="wall-k-on_time", className="gc-k-value"),
            ],
            className="gc-kpi gc-kpi-on_time",
        )
    )
    the_map = base_map(
        "wall-map",
        [
            grid_layer(
                "wall-communities",
                "community",
                url=grids_url("community"),
                hideout={},
                coords=coords,
                interactive=False,
            ),
            grid_layer(
                "wall-streets",
                "street",
                url=grids_url("street"),
                hideout={"shade": True},
                coords=coords,
                interactive=False,
            ),
        ],
        tile_url=rt.settings.tile_url,
        bounds=city_bounds(rt.city.grids),
        zoom=13.25,
        zoomControl=False,
        dragging=False,
        scrollWheelZoom=False,
        doubleClickZoom=False,
        className="gc-map gc-wall-map",
    )
    panel = lambda title, body: html.Section([html.H3(title), body], className="gc-wpanel")
    return html.Div(
        [
            header("wall", lang, "wall"),
            DashSocketIO(id="wall-socket", eventNames=["incident"]),
            dcc.Store(id="wall-dirty", data=0),
            dcc.Store(id="wall-refresh", data=None),
            dcc.Interval(id="wall-throttle", interval=THROTTLE_MS),
            dcc.Interval(id="wall-slow", interval=60_000),
            html.Div(tiles, className="gc-kpis"),
            html.Div(
                [
                    html.Div(the_map, className="gc-wall-mapbox"),
                    html.Div(
                        [
                            panel(
                                t("by_hour", lang),
                                dcc.Graph(
                                    id="wall-hours",
                                    config={"displayModeBar": False, "staticPlot": True},
                                    className="gc-wgraph",
                                ),
                            ),
                            panel(t("top_categories", lang), html.Div(id="wall-cats", className="gc-bars")),
                            panel(t("street_rank", lang), html.Div(id="wall-streets-rank", className="gc-rank")),
                        ],
                        className="gc-wall-side",
                    ),
                ],
                className="gc-wall-body",
            ),
        ],
        className="gc-page gc-wall",
    )


def hours_figure(by_hour: list[int], current_hour: int) -> go.Figure:
    """Intake per hour as bars, the current hour highlighted."""
    colors = ["#22d3ee" if h == current_hour else "#0e7490" for h in range(24)]
    figure = go.Figure(
        go.Bar(
            x=[f"{h:02d}" for h in range(24)],
            y=by_hour,
            marker_color=colors,
            text=[n or "" for n in by_hour],
            textposition="outside",
            textfont={"color": "#a5f3fc", "size": 14},
        )
    )
    figure.update_layout(
        margin={"l": 8, "r": 8, "t": 18, "b": 28},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"color": "#94a3b8", "size": 13},
        bargap=0.25,
        xaxis={"showgrid": False, "tickfont": {"size": 12}},
        yaxis={"showgrid": True, "gridcolor": "#1e293b", "zeroline": False, "rangemode": "tozero"},
    )
    return figure


def category_bars(items: list[dict], lang: str) -> list:
    top = max((i["count"] for i in items), default=1)
    return [
        html.Div(
            [
                html.Span(i["name_zh"] if lang == "zh" else i["name_en"], className="gc-bar-name"),
                html.Div(html.Div(style={"width": f"{100 * i['count'] / top:.0f}%"}), className="gc-bar-track"),
                html.B(i["count"], className="gc-bar-n"),
            ],
            className="gc-bar",
        )
        for i in items
    ] or [html.Div("—", className="gc-hint")]


def street_rank(items: list[dict], lang: str) -> html.Table:
    head = html.Tr(
        [html.Th("#"), html.Th(t("col_street", lang)), html.Th(t("col_open", lang)), html.Th(t("col_overdue", lang))]
    )
    rows = [
        html.Tr(
            [
                html.Td(n + 1),
                html.Td(i["name_zh"] if lang == "zh" else i["name_en"]),
                html.Td(i["open"]),
                html.Td(i["overdue"], className="gc-late" if i["overdue"] else ""),
            ]
        )
        for n, i in enumerate(items[:7])
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)])


def shading(load: dict[str, dict], kind: str, **extra) -> dict:
    return {"kind": kind, "load": load, "max": max((v["open"] for v in load.values()), default=0), **extra}


def register(app: dash.Dash) -> None:
    """The wall's callbacks: a push marks it dirty; a 1 s clientside throttle asks the server for fresh figures."""
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "markDirty"),
        Output("wall-dirty", "data"),
        Input("wall-socket", "data-incident"),
        Input("wall-socket", "connected"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "throttle"),
        Output("wall-refresh", "data"),
        Input("wall-throttle", "n_intervals"),
        State("wall-dirty", "data"),
        State("wall-refresh", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "connection"),
        Output("wall-conn", "children"),
        Output("wall-conn", "className"),
        Input("wall-socket", "connected"),
        State("wall-strings", "data"),
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_cc", "clock"),
        Output("wall-clock", "children"),
        Input("wall-clock-tick", "n_intervals"),
    )

    @app.callback(
        *[Output(f"wall-k-{k}", "children") for k in (*KPIS, "on_time")],
        Output("wall-hours", "figure"),
        Output("wall-cats", "children"),
        Output("wall-streets-rank", "children"),
        Output("wall-streets", "hideout"),
        Output("wall-communities", "hideout"),
        Input("wall-refresh", "data"),
        Input("wall-slow", "n_intervals"),
        State("gc-lang", "data"),
    )
    def refresh(_trigger, _slow, lang):
        """Today's figures inside the signed-in user's scope, recomputed with a few set-based queries."""
        scope = scope_clause(viewer())
        rt = current_runtime()
        now = rt.clock()
        with rt.sessions() as session:
            summary = named_summary(session, rt, scope)
            communities = stats.open_by_community(session, now, scope)
        streets = {s["code"]: {"open": s["open"], "overdue": s["overdue"]} for s in summary["streets"]}
        rate = summary["on_time_closure_rate"]
        from zoneinfo import ZoneInfo

        hour = now.astimezone(ZoneInfo(rt.settings.timezone)).hour
        return (
            *[f"{summary[k]:,}" for k in KPIS],
            "—" if rate is None else f"{rate * 100:.1f}%",
            hours_figure(summary["by_hour"], hour),
            category_bars(summary["top_categories"], lang),
            street_rank(summary["streets"], lang),
            shading(streets, "street", shade=True),
            shading(communities, "community"),
        )
