"""The analysis page (/analysis, 考核评价分析) of leaders, shift leaders and department heads, within their scope: pick
object kind, indicator set and period; the indicator table (rank, score, grade, sparklines, 环比/同比), a trend chart,
a choropleth of any indicator on the grid map at any level, drill-down (district → street → community → unit grid,
post → person) by clicking a row, the cases behind a number by clicking a cell, and xlsx/csv exports of the table.
Split by concern: analysis_views (what is shown) and analysis_callbacks (what answers a click)."""

from __future__ import annotations

from datetime import timedelta

from dash import dcc, html

from dashboard.api.analysis import may_analyse
from dashboard.pages.analysis_callbacks import register
from dashboard.pages.analysis_views import period_words  # noqa: F401  (re-exported for the wall)
from dashboard.pages.components import base_map, city_bounds, grid_layer, grids_url, header, viewer
from dashboard.pages.feed import display_crs
from dashboard.pages.i18n import STRINGS, dropdown_labels, lang_of, t
from dashboard.runtime import current_runtime
from dispatcher.evaluation.tables import ObjectKind, PeriodKind

__all__ = ["layout", "register"]
KINDS = [k for k in ObjectKind if k != ObjectKind.PERSON]  # persons: drill down from a post
LEVELS = (ObjectKind.DISTRICT, ObjectKind.STREET, ObjectKind.COMMUNITY, ObjectKind.UNIT)


def _dropdown(dd_id: str, options: list[dict], value, lang: str, **extra) -> dcc.Dropdown:
    return dcc.Dropdown(
        id=dd_id,
        options=options,
        value=value,
        clearable=False,
        searchable=False,
        labels=dropdown_labels(lang),
        className="gc-dd gc-an-dd",
        **extra,
    )


def _labelled(label: str, control) -> html.Label:
    return html.Label([html.Span(label, className="gc-an-label"), control], className="gc-an-field")


def set_options(lang: str) -> list[dict]:
    """The catalogue's indicator sets (the object's own set first: empty value), named in the page's language."""
    from dashboard.api.analysis import catalogue

    options = [{"label": t("an_all_indicators", lang), "value": ""}]
    for code in catalogue().sets:
        key = f"an_s_{code}"
        options.append({"label": t(key, lang) if key in STRINGS else code, "value": code})
    return options


def controls(lang: str) -> html.Div:
    """Object kind, indicator set, period kind and dates, and the export links."""
    today = current_runtime().clock().date()
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1).isoformat()
    kinds = [{"label": t(f"an_k_{k}", lang), "value": str(k)} for k in KINDS]
    periods = [{"label": t(f"an_p_{p}", lang), "value": str(p)} for p in PeriodKind]
    return html.Div(
        [
            _labelled(t("an_kind", lang), _dropdown("an-kind", kinds, "street", lang)),
            _labelled(t("an_set", lang), _dropdown("an-set", set_options(lang), "", lang)),
            _labelled(t("an_period", lang), _dropdown("an-period", periods, "month", lang)),
            _labelled(t("an_anchor", lang), dcc.Input(id="an-anchor", type="date", value=last_month)),
            _labelled(t("an_end", lang), dcc.Input(id="an-end", type="date", value=None)),
            html.A(t("an_xlsx", lang), id="an-xlsx", href="#", className="gc-an-export", download=""),
            html.A(t("an_csv", lang), id="an-csv", href="#", className="gc-an-export", download=""),
        ],
        className="gc-an-controls",
    )


def _map(lang: str) -> html.Div:
    rt = current_runtime()
    coords = None if display_crs(rt.settings.tile_url) == "wgs84" else {"variable": "gc.map.displayCoords"}
    layer = grid_layer("an-choro", "street", url=grids_url("street"), hideout={}, coords=coords)
    layer.style = {"variable": "gc_analysis.choroplethStyle"}
    layer.onEachFeature = {"variable": "gc_analysis.choroplethTip"}
    levels = [{"label": t(f"an_k_{k}", lang), "value": str(k)} for k in LEVELS]
    return html.Div(
        [
            html.Div(
                [html.H3(t("an_map", lang)), _dropdown("an-level", levels, "street", lang)], className="gc-an-bar"
            ),
            base_map("an-map", [layer], tile_url=rt.settings.tile_url, bounds=city_bounds(rt.city.grids), zoom=12.5),
        ],
        className="gc-an-panel gc-an-mapbox",
    )


def layout(lang: str) -> html.Div:
    """The page for an analyst; the usual refusal for everyone else."""
    lang = lang_of(lang)
    principal = viewer()
    top = header("analysis", lang, "an", live=False)
    if not may_analyse(principal):
        return html.Div([top, html.Div(t("an_forbidden", lang), className="gc-hint gc-forbidden")], className="gc-page")
    trend = html.Div(
        [
            html.Div(
                [
                    html.H3(t("an_trend", lang)),
                    _dropdown("an-indicator", [], None, lang, placeholder=t("an_indicator", lang)),
                ],
                className="gc-an-bar",
            ),
            dcc.Graph(id="an-trend", config={"displayModeBar": False, "responsive": True}, className="gc-an-graph"),
        ],
        className="gc-an-panel",
    )
    cases = html.Div(
        [html.H3(t("an_cases", lang)), html.Div(t("an_cases_hint", lang), id="an-cases", className="gc-hint")],
        className="gc-an-panel gc-an-casebox",
    )
    return html.Div(
        [
            top,
            dcc.Store(id="an-parent", data=None),
            dcc.Store(id="an-data", data=None),
            controls(lang),
            html.Div(id="an-crumbs", className="gc-an-crumbs"),
            html.Div(id="an-error", className="gc-an-error"),
            dcc.Loading(html.Div(id="an-table", className="gc-an-tablebox"), type="dot"),
            html.Div([trend, _map(lang), cases], className="gc-an-lower"),
        ],
        className="gc-page gc-an",
    )
