"""What the analysis page shows: the indicator table (rank, score, grade, each cell a value with a Unicode sparkline
and 环比/同比 arrows, clickable), the trend figure, the choropleth's hideout and the list of cases behind a number."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from dash import html

from dashboard.pages import i18n_analysis  # noqa: F401  (merges the page's strings into i18n)
from dashboard.pages.i18n import status_label, t
from dispatcher.evaluation.tables import CaseRef, Cell, Direction, IndicatorDef, Row, Table

BARS = "▁▂▃▄▅▆▇█"
TREND_ROWS = 5  # the trend chart: the total and the best few rows
COLORS = ["#22d3ee", "#4ade80", "#facc15", "#f472b6", "#a78bfa", "#fb923c"]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def sparkline(trend: list[float | None]) -> str:
    """The last periods as Unicode bars scaled to their own range (a gap where nothing counted)."""
    known = [v for v in trend if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = (high - low) or 1.0
    return "".join(" " if v is None else BARS[round((v - low) / span * (len(BARS) - 1))] for v in trend)


def arrow(cell: Cell, before: float | None, direction: Direction) -> tuple[str, str]:
    """(▲ +2.1 / ▼ −0.4 / → 0.0, css class good|bad|flat) of this value against an earlier one."""
    if cell.value is None or before is None:
        return "", "flat"
    delta = (cell.value - before) * 100
    if abs(delta) < 0.05:
        return "→0.0", "flat"
    better = (delta > 0) == (direction == Direction.HIGHER)
    return ("▲" if delta > 0 else "▼") + f"{abs(delta):.1f}", "good" if better else "bad"


def period_words(table: Table, lang: str) -> str:
    start = table.period.start.date().isoformat()
    end = (table.period.end - timedelta(days=1)).date().isoformat()
    return start if start == end else t("an_period_label", lang, start=start, end=end)


def _name(indicator: IndicatorDef, lang: str) -> str:
    return indicator.name_zh if lang == "zh" else indicator.name_en


def _cell(row: Row, indicator: IndicatorDef, lang: str, *, clickable: bool) -> html.Td:
    cell = row.cells.get(indicator.code)
    if cell is None:
        return html.Td("—")
    mom, mom_class = arrow(cell, cell.previous, indicator.direction)
    yoy, yoy_class = arrow(cell, cell.last_year, indicator.direction)
    title = t("an_cell_title", lang, n=cell.numerator, d=cell.denominator, mom=mom or "—", yoy=yoy or "—")
    body = [
        html.Span(percent(cell.value), className="gc-an-v"),
        html.Span(sparkline(cell.trend), className="gc-an-spark"),
        html.Span(mom, className=f"gc-an-{mom_class}", title=t("an_mom", lang)),
        html.Span(yoy, className=f"gc-an-{yoy_class} gc-an-yoy", title=t("an_yoy", lang)),
    ]
    if clickable:
        ident = {"type": "an-cell", "code": row.code, "ind": indicator.code}
        return html.Td(html.Button(body, id=ident, className="gc-an-cell", title=title))
    return html.Td(html.Span(body, className="gc-an-cell"), title=title)


def _row(row: Row, table: Table, lang: str, *, total: bool = False) -> html.Tr:
    name: Any = row.name
    if row.drill is not None and not total:
        name = html.Button(row.name, id={"type": "an-drill", "code": row.code, "kind": str(row.drill)})
        name.className = "gc-an-drill"
        name.title = t("an_drill", lang)
    head = [
        html.Td(t("an_total", lang) if total else (row.rank or "—"), className="gc-an-rank"),
        html.Td(name, className="gc-an-name"),
        html.Td("—" if row.score is None else f"{row.score:.1f}", className="gc-an-score"),
        html.Td(row.grade or "—", className=f"gc-an-grade gc-an-grade-{row.grade or 'none'}"),
    ]
    cells = [_cell(row, ind, lang, clickable=not total) for ind in table.indicators]
    return html.Tr(head + cells, className="gc-an-total" if total else None, **{"data-code": row.code})


def table_view(table: Table, lang: str) -> html.Div:
    """The table on screen: best first, then the total; the header names the period and catalogue version."""
    if not table.rows:
        return html.Div(t("an_empty", lang), className="gc-hint")
    head = [t("an_rank", lang), t(f"an_k_{table.kind}", lang), t("an_score", lang), t("an_grade", lang)]
    head += [_name(ind, lang) for ind in table.indicators]
    body = [_row(row, table, lang) for row in table.rows] + [_row(table.total, table, lang, total=True)]
    caption = f"{period_words(table, lang)} · {t('an_version', lang, v=table.catalogue_version)}"
    return html.Div(
        html.Table(
            [
                html.Caption(caption, id="an-caption"),
                html.Thead(html.Tr([html.Th(h) for h in head])),
                html.Tbody(body),
            ],
            className="gc-an-table",
        ),
        className="gc-an-scroll",
    )


def trend_figure(table: Table, indicator: str | None, labels: list[str], lang: str) -> dict:
    """One indicator over the last periods: the total and the best rows, as plain plotly JSON."""
    chosen = next(
        (i for i in table.indicators if i.code == indicator), table.indicators[0] if table.indicators else None
    )
    data = []
    if chosen is not None:
        for index, row in enumerate([table.total, *table.rows[:TREND_ROWS]]):
            cell = row.cells.get(chosen.code)
            if cell is None or not cell.trend:
                continue
            name = t("an_total", lang) if index == 0 else row.name
            values = [None if v is None else round(v * 100, 2) for v in cell.trend]
            x = labels[-len(values) :] if len(labels) >= len(values) else list(range(len(values)))
            line = {"color": COLORS[index % len(COLORS)], "width": 3 if index == 0 else 1.5}
            data.append({"type": "scatter", "mode": "lines+markers", "x": x, "y": values, "name": name, "line": line})
    title = _name(chosen, lang) + " (%)" if chosen else ""
    layout = {
        "margin": {"l": 40, "r": 10, "t": 30, "b": 30},
        "title": {"text": title, "font": {"size": 13}},
        "legend": {"orientation": "h", "y": -0.2},
        "xaxis": {"type": "category", "gridcolor": "#1e293b"},
        "yaxis": {"rangemode": "tozero", "gridcolor": "#1e293b"},
        "height": 260,
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": "#dbe7f5"},
    }
    return {"data": data, "layout": layout}


def choropleth(table: Table, indicator: str | None) -> dict:
    """The map layer's hideout: each grid's value of one indicator, the range, and which way is better."""
    chosen = next(
        (i for i in table.indicators if i.code == indicator), table.indicators[0] if table.indicators else None
    )
    if chosen is None:
        return {"values": {}, "min": 0, "max": 1, "dir": "higher"}
    values = {r.code: r.cells[chosen.code].value for r in table.rows if chosen.code in r.cells}
    known = [v for v in values.values() if v is not None]
    return {
        "values": values,
        "min": min(known, default=0.0),
        "max": max(known, default=1.0),
        "dir": str(chosen.direction),
        "label": chosen.name_zh,
    }


def case_list(cases: list[CaseRef], heading: str, lang: str, limit: int) -> html.Div:
    """One list of cases (numerator or denominator): each opens in the command center's drawer."""
    items = [
        html.Li(
            [
                html.A(c.case_number or c.id[:8], href=f"/?incident={c.id}&lang={lang}", className="gc-an-case"),
                html.Span(f" {status_label(c.status, lang)} · {c.created_at.date().isoformat()}"),
            ],
            **{"data-id": c.id},
        )
        for c in cases
    ]
    more = [html.Div(t("an_more", lang, n=limit), className="gc-hint")] if len(cases) >= limit else []
    return html.Div([html.H4(heading), html.Ul(items, className="gc-an-cases"), *more])
