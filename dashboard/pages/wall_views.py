"""The wall's pieces: KPI tiles whose labels name their period, rates with numerator/denominator (small under the
figure and in the hover title), ranking bars, staff tiles, and the plotly figures (sized for a 1920 px wide screen;
dashboard/assets/wall.js scales their fonts to the real viewport)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from dash import html

from dashboard.pages import i18n_wall  # merges the wall's strings into i18n
from dashboard.pages.i18n import OFFICER_STATUS, t

RANK_ROWS = 8
STAFF_ORDER = ("on_duty", "busy", "stale", "offline", "off_duty")
COLORS = {
    "today": "#22d3ee",
    "today_dim": "#0e7490",
    "yesterday": "#cbd5e1",
    "closed": "#4ade80",
    "grid": "#1e293b",
    "text": "#cbd5e1",
}
CHANNEL_COLORS = ["#22d3ee", "#4ade80", "#facc15", "#f472b6", "#a78bfa", "#fb923c", "#60a5fa", "#94a3b8"]
# The figure keys wall.js scales: base sizes in px at a 1920 px wide viewport
BASE_FONT = 15
GRAPH_CONFIG = {"displayModeBar": False, "staticPlot": True, "responsive": True, "showTips": False}

# ---- numbers and rates -------------------------------------------------------------------------------------------


def number(n: int) -> str:
    return f"{n:,}"


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def period_text(period: dict, lang: str) -> str:
    """A period as words: 今日 2026-12-02 / 近7日 2026-11-26 至 2026-12-02."""
    start = period["start"][:10]
    if period["key"] == "today":
        return t("wl_period_today", lang, day=start)
    end = (date.fromisoformat(period["end"][:10]) - timedelta(days=1)).isoformat()
    return t("wl_period_7d", lang, start=start, end=end)


def rate_parts(rate: dict, lang: str, empty_key: str) -> tuple[str, str, str]:
    """(the figure, "n/d" under it, the hover title) of a rate."""
    n, d = rate["numerator"], rate["denominator"]
    title = t("wl_rate_title", lang, period=period_text(rate["period"], lang), n=n, d=d)
    if not d:
        return "—", t(empty_key, lang), title
    return percent(rate["value"]), f"{n}/{d}", title


def overdue_parts(share: dict, lang: str) -> tuple[str, str, str]:
    n, d = share["numerator"], share["denominator"]
    sub = t("wl_overdue_sub", lang, share=percent(share["value"]) if d else "—", n=n, d=d)
    return number(n), sub, t("wl_overdue_title", lang, n=n, d=d)


# ---- tiles and bars ----------------------------------------------------------------------------------------------


def tile(key: str, lang: str, *, sub: bool = False) -> html.Div:
    """One KPI tile: label (with its period), the figure, and optionally a small line under it."""
    parts: list[Any] = [
        html.Div(t(f"wl_{key}", lang), className="gc-k-label"),
        html.Div("—", id=f"wall-k-{key}", className="gc-k-value"),
    ]
    if sub:
        parts.append(html.Div("", id=f"wall-s-{key}", className="gc-k-sub"))
    return html.Div(parts, id=f"wall-tile-{key}", className=f"gc-kpi gc-kpi-{key}")


def rank_bars(rows: list[dict], lang: str) -> list:
    """Departments or streets worst first: a bar of open cases with the overdue part in red, the counts, and the
    on-time rate with its denominator (all of it in the row's hover title)."""
    rows = rows[:RANK_ROWS]
    if not rows:
        return [html.Div(t("wl_empty", lang), className="gc-hint")]
    top = max((r["open"] for r in rows), default=0) or 1
    head = html.Div(
        [
            html.Span(""),
            html.Span(""),
            html.Span(t("wl_col_open", lang)),
            html.Span(t("wl_col_overdue", lang)),
            html.Span(t("wl_col_rate", lang)),
        ],
        className="gc-wrank-row gc-wrank-head",
    )
    out = [head]
    for row in rows:
        name = row["name_zh"] if lang == "zh" else row["name_en"]
        rate = row["on_time"]
        late_w = 100 * row["overdue"] / top
        open_w = 100 * (row["open"] - row["overdue"]) / top
        title = t(
            "wl_rank_title",
            lang,
            name=name,
            open=row["open"],
            overdue=row["overdue"],
            n=rate["numerator"],
            d=rate["denominator"],
        )
        out.append(
            html.Div(
                [
                    html.Span(name, className="gc-wrank-name"),
                    html.Div(
                        [
                            html.Div(className="gc-wrank-late", style={"width": f"{late_w:.1f}%"}),
                            html.Div(className="gc-wrank-open", style={"width": f"{open_w:.1f}%"}),
                        ],
                        className="gc-wrank-track",
                    ),
                    html.B(number(row["open"]), className="gc-wrank-n"),
                    html.B(number(row["overdue"]), className="gc-wrank-n" + (" gc-late" if row["overdue"] else "")),
                    html.Span(
                        [
                            percent(rate["value"]) if rate["denominator"] else "—",
                            html.Small(f" {rate['numerator']}/{rate['denominator']}"),
                        ],
                        className="gc-wrank-rate",
                    ),
                ],
                className="gc-wrank-row",
                title=title,
            )
        )
    return out


MONTH_ROWS = 3  # the month's best few, above the live bars (dashboard/assets/wall_month.css)


def month_rank(month: dict | None, kind: str, lang: str) -> list:
    """The month's composite ranking of one kind (the engine's, as on /analysis): rank, name, score and grade of
    the best few, headed by the month; [] when there is none yet."""
    if not month or not month.get(kind):
        return []
    start, end = month["period"]["start"][:10], month["period"]["last"][:10]
    period = t("wl_month_period", lang, start=start, end=end)
    label = start[:7]  # 2026-12
    rows = []
    for row in month[kind][:MONTH_ROWS]:
        score = "—" if row["score"] is None else f"{row['score']:.1f}"
        title = t(
            "wl_month_title",
            lang,
            name=row["name"],
            score=score,
            grade=row["grade"] or "—",
            rank=row["rank"],
            period=period,
        )
        rows.append(
            html.Div(
                [
                    html.B(str(row["rank"]), className="gc-wmonth-rank"),
                    html.Span(row["name"], className="gc-wrank-name"),
                    html.Span(score, className="gc-wmonth-score"),
                    html.B(row["grade"] or "—", className=f"gc-wmonth-grade gc-wmonth-{row['grade'] or 'none'}"),
                ],
                className="gc-wmonth-row",
                title=title,
            )
        )
    head = html.Div(t("wl_month_head", lang, month=label), className="gc-wmonth-head")
    return [html.Div([head, *rows], className="gc-wmonth", id=f"wall-month-{kind}", title=period)]


def staff_tiles(staff: dict | None, lang: str) -> list:
    """Officers by status, and how many sent a position lately."""
    if staff is None:
        return [html.Div(t("wl_empty", lang), className="gc-hint")]
    pick = lambda pair: pair[1] if lang == "en" else pair[0]
    tiles = [
        html.Div(
            [html.B(number(staff["by_status"].get(key, 0))), html.Span(pick(OFFICER_STATUS[key]))],
            className=f"gc-wstaff gc-wstaff-{key}",
        )
        for key in STAFF_ORDER
    ]
    footer = html.Div(
        [
            html.Span(f"{t('wl_reporting', lang, m=staff['recent_minutes'])} "),
            html.B(number(staff["reporting"])),
            html.Span(f" · {t('wl_staff_total', lang)} "),
            html.B(number(staff["total"])),
        ],
        className="gc-wstaff-foot",
    )
    return [html.Div(tiles, className="gc-wstaff-grid", title=t("wl_staff_title", lang)), footer]


# ---- figures: plain plotly JSON (no go.Figure validation on every refresh) -----------------------------------------


def _layout(**extra: Any) -> dict:
    axis_font = {"size": BASE_FONT - 2}
    layout = {
        "margin": {"l": 36, "r": 10, "t": 30, "b": 28},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": COLORS["text"], "size": BASE_FONT},
        "legend": {"orientation": "h", "x": 1, "xanchor": "right", "y": 1.18, "font": {"size": BASE_FONT}},
        "xaxis": {"showgrid": False, "tickfont": axis_font, "type": "category", "fixedrange": True},
        "yaxis": {
            "showgrid": True,
            "gridcolor": COLORS["grid"],
            "zeroline": False,
            "rangemode": "tozero",
            "tickfont": axis_font,
            "fixedrange": True,
        },
    }
    layout.update(extra)
    return layout


def hours_figure(hourly: dict, lang: str) -> dict:
    """Received per hour: today as bars (the current hour bright), yesterday as a line to compare with."""
    hours = [f"{h:02d}" for h in range(24)]
    now = hourly["current_hour"]
    today = [n if h <= now else None for h, n in enumerate(hourly["today"])]
    colors = [COLORS["today"] if h == now else COLORS["today_dim"] for h in range(24)]
    data = [
        {"type": "bar", "x": hours, "y": today, "name": t("wl_today", lang), "marker": {"color": colors}},
        {
            "type": "scatter",
            "x": hours,
            "y": hourly["yesterday"],
            "name": t("wl_yesterday", lang),
            "mode": "lines",
            "line": {"color": COLORS["yesterday"], "width": 2, "dash": "dot"},
        },
    ]
    return {"data": data, "layout": _layout(bargap=0.2)}


def days_figure(daily: dict, lang: str) -> dict:
    """Received (bars) and closed (line) per day over the last 14 days."""
    days = [d[5:] for d in daily["days"]]
    data = [
        {
            "type": "bar",
            "x": days,
            "y": daily["received"],
            "name": t("wl_received_series", lang),
            "marker": {"color": COLORS["today_dim"]},
        },
        {
            "type": "scatter",
            "x": days,
            "y": daily["closed"],
            "name": t("wl_closed_series", lang),
            "mode": "lines+markers",
            "line": {"color": COLORS["closed"], "width": 3},
            "marker": {"size": 7},
        },
    ]
    return {"data": data, "layout": _layout(bargap=0.25)}


def channels_figure(mix: dict, lang: str) -> dict:
    """Received per channel: today in the inner ring, the last 7 days in the outer one."""
    keys = [k for k, n in sorted(mix["week"].items(), key=lambda kv: -kv[1]) if n]
    labels = [t(f"ch_{k}", lang) if f"ch_{k}" in i18n_wall.STRINGS else k for k in keys]
    colors = [CHANNEL_COLORS[i % len(CHANNEL_COLORS)] for i in range(len(keys))]
    ring = {
        "type": "pie",
        "labels": labels,
        "sort": False,
        "marker": {"colors": colors, "line": {"color": "#0d1726", "width": 2}},
        "textfont": {"size": BASE_FONT - 2},
    }
    data = [
        {**ring, "values": [mix["week"][k] for k in keys], "hole": 0.62, "textinfo": "percent", "name": "7d"},
        {
            **ring,
            "values": [mix["today"].get(k, 0) for k in keys],
            "hole": 0.5,
            "textinfo": "value",
            "name": "today",
            "domain": {"x": [0.2, 0.8], "y": [0.2, 0.8]},
            "showlegend": False,
        },
    ]
    layout = _layout(
        margin={"l": 6, "r": 6, "t": 6, "b": 6},
        legend={
            "orientation": "v",
            "x": 1.0,
            "xanchor": "left",
            "y": 0.5,
            "yanchor": "middle",
            "font": {"size": BASE_FONT},
        },
    )
    if not keys:
        layout["annotations"] = [{"text": t("wl_empty", lang), "showarrow": False, "font": {"size": BASE_FONT}}]
    return {"data": data, "layout": layout}
