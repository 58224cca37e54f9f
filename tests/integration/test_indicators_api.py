"""/api/v1/analysis/*: the indicator engine over HTTP for the /analysis page — tables, cases behind a number, series,
catalogue — inside the caller's scope; other roles 403; a bad parameter is a 400 naming it. Both backends."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.integration.indicator_cases import november
from tests.integration.test_scope_matrix import bearer

REGION = "330199"  # the test shift leader's region (tests/conftest.py TEST_ACCOUNTS["leader"])


@pytest.fixture
def month(db):
    """The worked November; street S-A lies in the shift leader's region, S-B in another district."""
    _, engine, sessions = db
    with sessions.begin() as session:
        november(session)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident SET grid_district = :r WHERE grid_street = 'S-A'"), {"r": REGION})
    return sessions


def test_a_shift_leader_gets_the_table_of_their_region_only(client, month):
    r = client.get("/api/v1/analysis/table?kind=street&period=month&at=2026-11")
    assert r.status_code == 200, r.json
    table = r.json
    assert [row["code"] for row in table["rows"]] == ["S-A"]  # S-B is outside the caller's region
    assert table["period"]["key"] == "2026-11" and table["catalogue_version"] == "2026-07-01"
    cell = table["rows"][0]["cells"]["close_rate"]
    assert (cell["numerator"], cell["denominator"], cell["value"]) == (6, 7, round(6 / 7, 4))  # worked example
    assert table["total"]["cells"]["close_rate"]["denominator"] == 7
    assert table["rows"][0]["grade"] == "C" and table["rows"][0]["rank"] == 1
    assert len(cell["trend"]) == 6


def test_the_cases_behind_a_number_are_the_ones_it_counts(client, month):
    r = client.get("/api/v1/analysis/cases?kind=street&code=S-A&count=close_on_time&period=month&at=2026-11")
    assert r.status_code == 200, r.json
    assert sorted(c["id"] for c in r.json["items"]) == ["c01", "c03", "c06", "c08", "c13", "c24"]
    other = client.get("/api/v1/analysis/cases?kind=street&code=S-B&count=due_close&period=month&at=2026-11")
    assert other.json["items"] == []  # outside the caller's scope: nothing, not S-B's four cases


def test_series_and_catalogue(client, month):
    r = client.get("/api/v1/analysis/series?kind=street&code=S-A&indicator=close_rate&period=month&at=2026-11&n=3")
    assert r.status_code == 200, r.json
    assert r.json["periods"] == ["2026-09", "2026-10", "2026-11"]
    assert [(c["numerator"], c["denominator"]) for c in r.json["cells"]] == [(0, 0), (1, 1), (6, 7)]
    cat = client.get("/api/v1/analysis/catalogue").json
    assert [v["effective_from"] for v in cat["versions"]] == ["2025-01-01", "2026-07-01"]
    assert {p["code"] for p in cat["posts"]} == {"grid_worker", "call_taker", "dispatcher", "shift_leader", "handler"}
    assert "/api/v1/analysis/table" in client.get("/api/v1/openapi.json").json["paths"]


@pytest.mark.parametrize(
    "query,field",
    [
        ("table?kind=planet", "kind"),
        ("table?period=fortnight", "period"),
        ("table?period=month&at=2026-13", "at"),
        ("table?period=range&at=2026-11-01", "at"),
        ("table?set=nonsense", "set"),
        ("table?kind=person", "parent"),
        ("table?trend=99", "trend"),
        ("cases?count=everything", "count"),
        ("series?indicator=happiness", "indicator"),
        ("series?indicator=close_rate&n=0", "n"),
        ("table.xlsx?kind=planet", "kind"),
        ("table.csv?period=month&at=2026-13", "at"),
        ("table.xlsx?set=nonsense", "set"),
        ("table.csv?kind=person", "parent"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(client, month, query, field):
    r = client.get(f"/api/v1/analysis/{query}")
    assert r.status_code == 400, r.json
    assert r.json["error"]["field"] == field


def test_other_roles_are_refused_and_strangers_asked_to_sign_in(client, anonymous, tokens, month):
    r = client.get("/api/v1/analysis/table", headers=bearer(tokens["admin"]))
    assert r.status_code == 403 and "no analysis" in r.json["error"]["message"]
    assert client.get("/api/v1/analysis/table.xlsx", headers=bearer(tokens["admin"])).status_code == 403
    assert anonymous.get("/api/v1/analysis/catalogue").status_code == 401
    assert anonymous.get("/api/v1/analysis/table.csv").status_code == 401


def test_a_department_head_sees_their_department(client, tokens, city, month, db):
    _, engine, _ = db
    code = next(iter(city.catalogue.departments))
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE incident SET department_code = :c WHERE department_code = 'D2'"), {"c": code})
    r = client.get("/api/v1/analysis/table?kind=department&at=2026-11", headers=bearer(tokens[f"dept:{code}"]))
    assert r.status_code == 200, r.json
    rows = r.json["rows"]
    assert [row["code"] for row in rows] == [code] and rows[0]["name"] != code  # named from the city catalogue
    cell = rows[0]["cells"]["handle_on_time_rate"]
    assert (cell["numerator"], cell["denominator"]) == (4, 6)  # D2 of the worked example
