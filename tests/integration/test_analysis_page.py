"""The analysis page (/analysis) and its exports show the engine's numbers: the street table of a month, the cases
behind a clicked cell (exactly the scripted ones), the xlsx/csv of the table on screen, the wall's month ranking, and
the usual refusal for a grid worker. Both backends."""

from __future__ import annotations

import csv
import io
import json

from openpyxl import load_workbook

from dashboard.api import analysis_export  # noqa: F401  (its routes, until dashboard/api/__init__.py imports it)
from dashboard.pages import PAGES, analysis
from dashboard.runtime import runtime_of
from dispatcher.cases.scope import scope_clause
from dispatcher.evaluation import engine, periods
from dispatcher.evaluation.catalogue import load_catalogue
from dispatcher.evaluation.tables import ObjectKind, Table
from tests.integration.test_scope_matrix import bearer, dash_server, make_account, replay  # noqa: F401
from tests.integration.test_wall import scripted_day

PAGES.setdefault("/analysis", analysis)  # until dashboard/pages/__init__.py registers the page
MONTH = "2026-12-02"  # T0's month, December 2026
CONTROLS = [
    ("an-kind", "value", "street"),
    ("an-set", "value", ""),
    ("an-period", "value", "month"),
    ("an-anchor", "value", MONTH),
    ("an-end", "value", None),
    ("an-parent", "data", None),
]


def _refresh(client, controls=CONTROLS, headers=None) -> dict:
    response = replay(client, headers or {}, "an-data.data", controls, [("gc-lang", "data", "zh")])
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data())["response"]


def _engine_table(app, kind=ObjectKind.STREET, parent=None) -> Table:
    """The engine's own table for the leader's scope (the shift leader of the test district)."""
    from dispatcher.access.accounts import Principal

    rt = runtime_of(app)
    principal = Principal(
        account_id="t-leader", username="t", role="shift_leader", region_code="330199", department_code=None
    )
    with rt.sessions() as session:
        return engine.evaluate(
            session,
            load_catalogue(),
            kind=kind,
            period=periods.parse("month", MONTH, rt.settings.timezone),
            now=rt.clock(),
            tz=rt.settings.timezone,
            scope=scope_clause(principal),
            parent=parent,
            names={g.code: g.name for g in rt.city.grids.by_level(str(kind))},
        )


def test_the_street_table_cases_behind_a_cell_and_the_exports_are_the_engines(dash_server, client, city, clock, db):  # noqa: F811
    cases = scripted_day(client, city, clock, db[2])
    r = _refresh(client)
    shown = Table.model_validate(r["an-data"]["data"])
    expected = _engine_table(dash_server)
    assert [(row.code, row.score, row.grade, row.rank) for row in shown.rows] == [
        (row.code, row.score, row.grade, row.rank) for row in expected.rows
    ]
    assert shown.total.counts == expected.total.counts and shown.rows
    html = json.dumps(r["an-table"]["children"], ensure_ascii=False)
    assert all(row.name in html for row in expected.rows) and "2026-12-01 至 2026-12-31" in html
    # a cell: the cases closed in December in the busiest street: exactly the scripted ones closed there
    street = city.grids.find(cases["a"]["grid"]["street"]).code
    closed_there = {c["id"] for c in (cases["old"], cases["a"], cases["d"]) if c["grid"]["street"] == street}
    cell_id = {"type": "an-cell", "code": street, "ind": "close_rate"}
    state = [("an-data", "data", r["an-data"]["data"]), *CONTROLS, ("gc-lang", "data", "zh")]
    response = replay(client, {}, "an-cases.children", [([cell_id], "n_clicks", 1)], state)
    assert response.status_code == 200, response.get_data(as_text=True)
    listed = json.dumps(json.loads(response.get_data())["response"]["an-cases"]["children"], ensure_ascii=False)
    numerator_part = listed.split("分母")[0]
    linked = {cid for cid in (c["id"] for c in cases.values()) if f"/?incident={cid}" in numerator_part}
    assert linked == closed_there
    # the export links carry the same query: the xlsx and csv hold the same numbers
    xlsx = client.get(r["an-xlsx"]["href"])
    assert xlsx.status_code == 200, xlsx.get_data(as_text=True)
    sheet = [list(v) for v in load_workbook(io.BytesIO(xlsx.data)).active.iter_rows(values_only=True)]
    assert [line[1] for line in sheet[2:-1]] == [row.code for row in expected.rows]
    assert [line[3] for line in sheet[2:-1]] == [row.score for row in expected.rows]
    text = client.get(r["an-csv"]["href"]).data
    assert text.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(text.decode("utf-8-sig"))))
    assert [line[1] for line in lines[1:-1]] == [row.code for row in expected.rows]


def test_drilling_a_street_lists_its_communities(dash_server, client, city, clock, db):  # noqa: F811
    cases = scripted_day(client, city, clock, db[2])
    street = cases["a"]["grid"]["street"]
    drill_id = {"type": "an-drill", "code": street, "kind": "community"}
    r0 = _refresh(client)
    response = replay(
        client, {}, "an-kind.value", [([drill_id], "n_clicks", 1)], [("an-data", "data", r0["an-data"]["data"])]
    )
    out = json.loads(response.get_data())["response"]
    assert out["an-kind"]["value"] == "community" and out["an-parent"]["data"]["code"] == street
    controls = [("an-kind", "value", "community"), *CONTROLS[1:5], ("an-parent", "data", out["an-parent"]["data"])]
    shown = Table.model_validate(_refresh(client, controls)["an-data"]["data"])
    expected = _engine_table(dash_server, ObjectKind.COMMUNITY, street)
    assert shown.parent == street and [r.code for r in shown.rows] == [r.code for r in expected.rows]
    assert all(city.grids.find(r.code).parent_code == street for r in shown.rows)


def test_a_grid_worker_gets_the_refusal_and_no_export(dash_server, client, city, db):  # noqa: F811
    _, token = make_account(db[2], "grid_worker", city.grids.by_level("community")[0].code, None)
    page = replay(
        client,
        bearer(token),
        "gc-page.children",
        [("gc-url", "pathname", "/analysis"), ("gc-lang", "data", "zh")],
        [("gc-url", "search", "")],
    )
    assert "仅向领导、值班长和部门负责人开放" in page.get_data(as_text=True)
    assert client.get("/api/v1/analysis/table.xlsx", headers=bearer(token)).status_code == 403


def test_the_wall_shows_the_engines_month_ranking(dash_server, client, city, clock, db):  # noqa: F811
    scripted_day(client, city, clock, db[2])
    response = replay(
        client,
        {},
        "wall-k-received.children",
        [("wall-refresh", "data", 1), ("wall-slow", "n_intervals", 1)],
        [("gc-lang", "data", "zh")],
    )
    out = json.loads(response.get_data())["response"]
    month = out["wall-streets-rank"]["children"][-1]
    assert month["props"]["id"] == "wall-month-street" and "2026-12-01 至 2026-12-31" in month["props"]["title"]
    rows = [c["props"]["title"] for c in month["props"]["children"][1:]]
    expected = [r for r in _engine_table(dash_server).rows if r.rank][: len(rows)]
    assert rows and all(
        title.startswith(f"{r.name}：综合指标值 {r.score:.1f}，等级 {r.grade}，第 {r.rank} 名")
        for title, r in zip(rows, expected, strict=True)
    )
