"""GET /ledger: the ledger (台账) export by period and department, for the roles that may have it, audited.

Ledger entries are written with dispatcher.handling.ledger.write_entry (as archiving does) at chosen times.
Runs on both backends."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook

from dispatcher.cases.incident import Incident
from dispatcher.handling.ledger import write_entry
from tests.integration.helpers import count, report
from tests.integration.test_scope_matrix import bearer, make_account

LEDGER = "/api/v1/ledger"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# 2026-12-01 00:30 and 2026-11-30 23:30 in Shanghai: either side of a local midnight
IN_DEC = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
IN_NOV = datetime(2026, 11, 30, 15, 30, tzinfo=UTC)


@pytest.fixture
def ledger(client, city, db):
    """Three archived cases: two of department HW (01 Dec, 30 Nov local) and one of GA (01 Dec); removed afterwards."""
    made = {}
    for name, department, at in [("hw_dec", "HW", IN_DEC), ("hw_nov", "HW", IN_NOV), ("ga_dec", "GA", IN_DEC)]:
        incident_id = report(client, city).json["id"]
        with db[2].begin() as session:
            incident = session.get(Incident, incident_id)
            incident.department_code = department
            write_entry(session, incident, archiver="test-leader", now=at)
        made[name] = incident_id
    yield made
    with db[1].begin() as conn:
        conn.execute(sa.text("DELETE FROM ledger_entry"))


def as_of(tokens, name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[name]}"}


def ids_in_csv(response) -> list[str]:
    table = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert table[0][0] == "案件编号"
    return [row[0] for row in table[1:]]


def test_shift_leader_gets_the_period_as_csv_with_bom_name_and_audit(client, db, ledger):
    response = client.get(f"{LEDGER}?from=2026-12-01&to=2026-12-01&format=csv")
    assert response.status_code == 200, response.json
    assert response.mimetype == "text/csv" and response.data.startswith(b"\xef\xbb\xbf")
    assert "filename=ledger-2026-12-01-2026-12-01.csv" in response.headers["Content-Disposition"]
    assert sorted(ids_in_csv(response)) == sorted([ledger["hw_dec"], ledger["ga_dec"]])
    november = client.get(f"{LEDGER}?from=2026-11-30&to=2026-11-30&format=csv")
    assert ids_in_csv(november) == [ledger["hw_nov"]]
    target = "ledger:2026-12-01..2026-12-01:all"
    assert count(db[1], "audit_log", "action = 'ledger.export' AND target = :t AND result = 'ok'", t=target) == 1


def test_xlsx_by_department_with_its_name_in_the_file(client, db, ledger):
    response = client.get(f"{LEDGER}?from=2026-11-01&to=2026-12-31&department=HW")
    assert response.status_code == 200 and response.mimetype == XLSX
    assert "filename=ledger-2026-11-01-2026-12-31-HW.xlsx" in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data))["台账"]
    ids = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ids == [ledger["hw_nov"], ledger["hw_dec"]]  # oldest archived first


def test_a_leader_exports_their_region_and_nothing_outside_it(client, db, ledger):
    leader = bearer(make_account(db[2], "leader", "330199", None)[1])
    response = client.get(f"{LEDGER}?from=2026-11-01&to=2026-12-31&format=csv", headers=leader)
    assert response.status_code == 200 and len(ids_in_csv(response)) == 3
    elsewhere = bearer(make_account(db[2], "shift_leader", "999999", None)[1])
    response = client.get(f"{LEDGER}?from=2026-11-01&to=2026-12-31&format=csv", headers=elsewhere)
    assert response.status_code == 200 and ids_in_csv(response) == []


def test_a_department_head_gets_their_own_department_only(client, db, ledger, tokens):
    head = as_of(tokens, "dept:HW")
    response = client.get(f"{LEDGER}?from=2026-11-01&to=2026-12-31&format=csv", headers=head)
    assert response.status_code == 200 and sorted(ids_in_csv(response)) == sorted([ledger["hw_dec"], ledger["hw_nov"]])
    assert "-HW.csv" in response.headers["Content-Disposition"]
    other = client.get(f"{LEDGER}?from=2026-11-01&to=2026-12-31&department=GA", headers=head)
    assert other.status_code == 403 and "GA" in other.json["error"]["message"]
    assert "test-dept-HW" in other.json["error"]["message"]
    denied = "action = 'ledger.export' AND result = 'denied' AND actor = 'test-dept-HW'"
    assert count(db[1], "audit_log", denied) >= 1


def test_other_roles_are_refused(client, db, ledger, tokens):
    refused = [
        as_of(tokens, "admin"),
        as_of(tokens, "dept"),  # a department head without a department
        bearer(make_account(db[2], "hotline", "330199", None)[1]),
        bearer(make_account(db[2], "dept_handler", None, "HW")[1]),
        bearer(make_account(db[2], "auditor", None, None)[1]),
    ]
    for headers in refused:
        response = client.get(f"{LEDGER}?from=2026-11-01&to=2026-12-31", headers=headers)
        assert response.status_code == 403, response.json


@pytest.mark.parametrize(
    "query, field",
    [
        ("to=2026-12-01", "from"),
        ("from=2026-12-01", "to"),
        ("from=2026-13-01&to=2026-12-01", "from"),
        ("from=2026-12-02&to=2026-12-01", "to"),
        ("from=2025-01-01&to=2026-12-01", "to"),
        ("from=2026-12-01&to=2026-12-01&format=pdf", "format"),
        ("from=2026-12-01&to=2026-12-01&department=NOPE", "department"),
    ],
)
def test_bad_queries_are_422_naming_the_parameter(client, ledger, query, field):
    response = client.get(f"{LEDGER}?{query}")
    assert response.status_code == 422 and response.json["error"]["field"] == field
