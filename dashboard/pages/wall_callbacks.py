"""The wall's callbacks: a push marks it dirty, a 1 s clientside throttle (and a slow tick) asks the server for the
situation inside the viewer's scope; the figures go through a Store to wall.js, which scales their fonts to the
viewport."""

from __future__ import annotations

import time
from datetime import timedelta
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State

from dashboard.api.analysis import _names, catalogue
from dashboard.api.stats import situation_for
from dashboard.pages.components import viewer
from dashboard.pages.wall_views import (
    channels_figure,
    days_figure,
    hours_figure,
    month_rank,
    number,
    overdue_parts,
    rank_bars,
    rate_parts,
    staff_tiles,
)
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases import stats
from dispatcher.cases.scope import scope_clause
from dispatcher.evaluation import engine, periods
from dispatcher.evaluation.tables import ObjectKind

COUNTS = ("received", "filed", "dispatched", "in_handling", "closed")
RATES = ("on_time", "open_overdue", "on_time_week")
MONTH_TTL_S = 60.0  # the month's ranking moves slowly: recomputed at most once a minute per scope
_month_cache: dict[tuple, tuple[float, dict | None]] = {}


def _ranked(table) -> list[dict]:
    return [{"rank": r.rank, "name": r.name, "score": r.score, "grade": r.grade} for r in table.rows if r.rank]


def month_ranking(principal: Principal) -> dict | None:
    """This month's composite ranking of streets and departments inside the viewer's scope, from the indicator
    engine (the same tables as /analysis), cached a minute per scope."""
    rt = current_runtime()
    now, tz = rt.clock(), rt.settings.timezone
    key = (id(rt), str(principal.role), principal.region_code, principal.department_code)
    hit = _month_cache.get(key)
    if hit is not None and time.monotonic() - hit[0] < MONTH_TTL_S:
        return hit[1]
    period = periods.period_of("month", now.astimezone(ZoneInfo(tz)).date(), tz)
    scope = scope_clause(principal)
    out: dict = {"period": {"start": period.start.isoformat(), "last": (period.end - timedelta(days=1)).isoformat()}}
    with rt.sessions.begin() as session:  # keeps finished periods (evaluation/frozen.py)
        for kind in (ObjectKind.STREET, ObjectKind.DEPARTMENT):
            table = engine.evaluate(
                session, catalogue(), kind=kind, period=period, now=now, tz=tz, scope=scope, trend=1, names=_names(kind)
            )
            out[str(kind)] = _ranked(table)
    _month_cache[key] = (time.monotonic(), out)
    return out


def shading(load: dict[str, dict], kind: str, **extra) -> dict:
    """The map layers' hideout: open and overdue per grid, and the largest open count (the colour scale)."""
    return {"kind": kind, "load": load, "max": max((v["open"] for v in load.values()), default=0), **extra}


def figures(lang: str) -> tuple:
    """Every output of the wall's refresh, for the signed-in viewer."""
    principal = viewer()
    s = situation_for(principal)
    month = month_ranking(principal)
    rt = current_runtime()
    with rt.sessions() as session:
        communities = stats.open_by_community(session, rt.clock(), scope_clause(principal))
    rates = {
        "on_time": rate_parts(s["on_time_today"], lang, "wl_no_closures"),
        "open_overdue": overdue_parts(s["overdue_share"], lang),
        "on_time_week": rate_parts(s["on_time_week"], lang, "wl_no_closures_week"),
    }
    streets = {r["code"]: {"open": r["open"], "overdue": r["overdue"]} for r in s["streets"]}
    figs = {
        "hours": hours_figure(s["hourly"], lang),
        "days": days_figure(s["daily"], lang),
        "channels": channels_figure(s["channels"], lang),
    }
    return (
        *[number(s["today"][k]) for k in COUNTS],
        *[rates[k][0] for k in RATES],
        *[rates[k][1] for k in RATES],
        *[rates[k][2] for k in RATES],
        figs,
        rank_bars(s["departments"], lang) + month_rank(month, "department", lang),
        rank_bars(s["streets"], lang) + month_rank(month, "street", lang),
        staff_tiles(s["staff"], lang),
        shading(streets, "street", shade=True),
        shading(communities, "community"),
    )


def register(app: dash.Dash) -> None:
    """A push marks the wall dirty; a 1 s clientside throttle asks the server for fresh figures."""
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
        dash.ClientsideFunction("gc_wall", "scaleFigures"),
        Output("wall-hours", "figure"),
        Output("wall-days", "figure"),
        Output("wall-channels", "figure"),
        Input("wall-figs", "data"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        dash.ClientsideFunction("gc_wall", "viewport"),
        Output("wall-map", "viewport"),
        Input("wall-view", "data"),
    )

    @app.callback(
        *[Output(f"wall-k-{k}", "children") for k in (*COUNTS, *RATES)],
        *[Output(f"wall-s-{k}", "children") for k in RATES],
        *[Output(f"wall-tile-{k}", "title") for k in RATES],
        Output("wall-figs", "data"),
        Output("wall-depts", "children"),
        Output("wall-streets-rank", "children"),
        Output("wall-staff", "children"),
        Output("wall-streets", "hideout"),
        Output("wall-communities", "hideout"),
        Input("wall-refresh", "data"),
        Input("wall-slow", "n_intervals"),
        State("gc-lang", "data"),
    )
    def refresh(_trigger, _slow, lang):
        """The situation inside the signed-in user's scope, recomputed with a dozen set-based queries."""
        return figures(lang)
