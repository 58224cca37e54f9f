"""No NaN, no Infinity, no absurd nesting on any JSON input path (issue 9, item 12 and a Low item).

Python's json module reads the literals NaN, Infinity and -Infinity (and 1e999 as Infinity); once stored they
come back out as invalid JSON (`/api/v1/officers`, the position pushes). A table over every state-changing
operation of the OpenAPI description sends each in a numeric field: a 4xx naming the problem, never a 2xx or a
5xx, and nothing written. 100,000 nested arrays used to exhaust the recursion limit (a 500): now a 400.
"""

from __future__ import annotations

import json

import pytest

from tests.integration.helpers import count, report
from tests.integration.test_hotline_page import DASH_ORIGIN, account_token, dash_server  # noqa: F401 (a fixture)

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999"]
DEEP = "[" * 100_000 + "]" * 100_000
STATE_CHANGING = ("post", "put", "patch")
PLACEHOLDER = "__NUMBER__"
MULTIPART = {"/api/v1/reports"}  # the JSON travels in the `report` part (dashboard/api/reports.py)
FILES_ONLY = {"/api/v1/incidents/{incident_id}/media"}  # files and two form fields, no JSON anywhere (evidence.py)


def operations(client) -> list[tuple[str, str, dict]]:
    spec = client.get("/api/v1/openapi.json").json
    return [
        (method, path, op)
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        if method in STATE_CHANGING and path not in FILES_ONLY
    ]


def numeric_field(spec: dict, op: dict) -> str:
    """A number-typed property of the operation's JSON body, if it documents one; else a made-up name."""
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    for name, prop in schema.get("properties", {}).items():
        kinds = [prop.get("type")] + [p.get("type") for p in prop.get("anyOf", [])]
        if "number" in kinds or "integer" in kinds:
            return name
    return "lon"


def concrete(path: str, incident_id: str) -> str:
    return (
        path.replace("{incident_id}", incident_id)
        .replace("{action}", "file")
        .replace("{id}", incident_id)
        .replace("{media_id}", incident_id)
    )


def send(client, method: str, path: str, op: dict, text: str):
    content = op.get("requestBody", {}).get("content", {})
    if "multipart/form-data" in content or path in MULTIPART:
        return client.open(path, method=method.upper(), data={"report": text}, content_type="multipart/form-data")
    return client.open(path, method=method.upper(), data=text, content_type="application/json")


@pytest.mark.parametrize("number", NON_FINITE)
def test_every_state_changing_operation_refuses_a_non_finite_number(client, city, db, number):
    incident = report(client, city).json
    spec = client.get("/api/v1/openapi.json").json
    ops = operations(client)
    assert len(ops) >= 5  # incidents, actions, reports, machine events, grid import at least
    before = {t: count(db[1], t) for t in ("incident", "timeline", "outbox", "audit_log")}
    answers = {}
    for method, path, op in ops:
        field = numeric_field(spec, op)
        body = {"description": "井盖缺失", "category_code": "020101", "lon": 120.17, "lat": 30.26, field: PLACEHOLDER}
        text = json.dumps(body).replace(f'"{PLACEHOLDER}"', number)
        response = send(client, method, concrete(path, incident["id"]), op, text)
        answers[f"{method.upper()} {path} ({field})"] = (response.status_code, response.get_data(as_text=True)[:300])
    wrong = {k: v for k, v in answers.items() if not 400 <= v[0] < 500}
    assert not wrong, wrong
    unnamed = {k: v for k, v in answers.items() if number.lstrip("-") not in v[1]}
    assert not unnamed, unnamed
    assert {t: count(db[1], t) for t in before} == before


def test_deeply_nested_json_is_a_400_everywhere(client, city, db):
    incident = report(client, city).json
    answers = {}
    for method, path, op in operations(client):
        response = send(client, method, concrete(path, incident["id"]), op, DEEP)
        answers[f"{method.upper()} {path}"] = (response.status_code, response.get_data(as_text=True)[:200])
    wrong = {k: v for k, v in answers.items() if not 400 <= v[0] < 500 or "nested deeper" not in v[1]}
    assert not wrong, wrong
    multipart = {k for k in answers if k.endswith("/api/v1/reports")}  # its JSON comes in a `report` part
    assert multipart and all(answers[k][0] == 422 for k in multipart)  # a 422 naming the part
    assert all(v[0] == 400 for k, v in answers.items() if k not in multipart)


def test_json_nested_a_little_is_still_read(client, city):
    lon, lat = 120.17, 30.26
    nested = {"description": "井盖缺失", "address": "某路1号", "lon": lon, "lat": lat, "external_id": "x"}
    assert client.post("/api/v1/incidents", json=nested).status_code == 201


@pytest.mark.usefixtures("dash_server")
@pytest.mark.parametrize("text", ['{"changedPropIds": [NaN]}', DEEP], ids=["nan", "deep"])
def test_dash_callbacks_refuse_nan_and_deep_nesting_with_a_400(client, db, text):
    token = account_token(db, "dispatcher")
    headers = {"Authorization": f"Bearer {token}", **DASH_ORIGIN}
    response = client.post("/_dash-update-component", data=text, content_type="application/json", headers=headers)
    assert response.status_code == 400, response.get_data(as_text=True)[:300]


def test_the_officers_list_stays_valid_json_after_the_attempts(client, city, db):
    for number in NON_FINITE:
        client.post("/api/v1/positions", data=f'{{"device_id": "dev-1", "lat": {number}, "lon": 120.1}}')
    response = client.get("/api/v1/officers")
    assert response.status_code == 200
    json.loads(response.get_data(as_text=True), parse_constant=lambda name: pytest.fail(f"{name} in the answer"))
