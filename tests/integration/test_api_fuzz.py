"""Fuzz the REST API from its own OpenAPI description (schemathesis): no input may ever produce a 5xx.

Runs on both backends (the `app` fixture). Every documented operation (GET and POST) gets schemathesis'
examples, coverage probes and random valid and invalid inputs; the lifecycle actions are also fuzzed against a
real incident so the engine runs, not just the 404 path. GRIDCOMMAND_FUZZ_EXAMPLES raises the budget for a
longer hunt (default 25 per operation keeps the file well under a minute for both backends).
"""
from __future__ import annotations

import os

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from schemathesis.checks import not_a_server_error, response_schema_conformance  # noqa: E402

from dispatcher.lifecycle import Action  # noqa: E402
from tests.integration.helpers import report  # noqa: E402

OPENAPI = "/api/v1/openapi.json"
ACTION_PATH = "/api/v1/incidents/{incident_id}/actions/{action}"
JSON_BODY_OPERATIONS = {("POST", "/api/v1/incidents"), ("POST", ACTION_PATH)}
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
EXAMPLES = int(os.environ.get("GRIDCOMMAND_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)


@pytest.fixture
def api_schema(app, client, city):
    """The API's own OpenAPI description, served by the app under test, with two incidents to list."""
    for unit_index in (3, 10):
        assert report(client, city, unit_index=unit_index).status_code == 201
    return schemathesis.openapi.from_wsgi(OPENAPI, app)


schema = schemathesis.pytest.from_fixture("api_schema")


def _explain(case, response) -> str:
    return (f"{case.method} {case.formatted_path} -> {response.status_code}\n"
            f"reproduce: {case.as_curl_command()}\nresponse: {response.text[:2000]}")


def _form_encoded(case) -> bool:
    content_type = {k.lower(): v for k, v in (case.headers or {}).items()}.get("content-type") or case.media_type or ""
    return content_type.split(";")[0].strip().lower() in FORM_MEDIA_TYPES


@schema.parametrize()
@FUZZ
def test_no_input_gives_a_server_error(case):
    if (case.method.upper(), case.path) in JSON_BODY_OPERATIONS and _form_encoded(case):
        return  # known product bug, pinned by test_form_encoded_body_is_a_client_error below
    response = case.call()
    assert response.status_code < 500, _explain(case, response)
    case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])


def test_the_schema_documents_every_api_operation(api_schema):
    operations = {(result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()}
    assert operations >= {
        ("GET", "/api/v1/categories"), ("GET", "/api/v1/departments"), ("GET", "/api/v1/locate"),
        ("GET", "/api/v1/grids"), ("POST", "/api/v1/grids/import"), ("POST", "/api/v1/incidents"),
        ("GET", "/api/v1/incidents"), ("GET", "/api/v1/incidents/{incident_id}"),
        ("GET", "/api/v1/incidents/{incident_id}/timeline"), ("POST", ACTION_PATH),
    }


def _actions_never_fail_on(api_schema, incident_id: str) -> None:
    """Every action with random bodies and headers on one real incident: 2xx or 4xx, never 5xx."""
    cases = api_schema[ACTION_PATH]["POST"].as_strategy()
    actions = st.sampled_from([a.value for a in Action])

    @FUZZ
    @given(case=cases, action=actions)
    def fuzz(case, action):
        case.path_parameters = {"incident_id": incident_id, "action": action}
        response = case.call()
        assert response.status_code < 500, _explain(case, response)
        case.validate_response(response, checks=[not_a_server_error, response_schema_conformance])

    fuzz()


def test_actions_on_a_reported_incident_never_give_a_server_error(api_schema, client, city):
    _actions_never_fail_on(api_schema, report(client, city).json["id"])


def test_actions_on_a_claimed_incident_never_give_a_server_error(api_schema, client, city):
    incident_id = report(client, city).json["id"]
    for action in ("file", "dispatch", "claim"):
        assert client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json={}).status_code == 200
    _actions_never_fail_on(api_schema, incident_id)


@pytest.mark.parametrize("suffix", ["", "/timeline", "/actions/file", "/actions/no-such-action"])
@pytest.mark.parametrize("incident_id", ["does-not-exist", "0" * 300, "%E4%B8%AD", "a%20b", "%00", "..%2F..%2Fetc"])
def test_unknown_incident_ids_are_404_not_500(client, incident_id, suffix):
    path = f"/api/v1/incidents/{incident_id}{suffix}"
    response = client.post(path, json={}) if "/actions/" in suffix else client.get(path)
    assert response.status_code == 404, (path, response.status_code, response.get_data(as_text=True)[:500])
    assert response.json["error"]["code"] == "not_found"


@pytest.mark.xfail(strict=True, raises=AttributeError, reason=(
    "product bug: spectree passes json=None to the view for form-encoded bodies, and incidents.create/act "
    "dereference it (500). Once fixed, delete this marker and the _form_encoded skip in the fuzz test."))
@pytest.mark.parametrize("media_type", FORM_MEDIA_TYPES)
@pytest.mark.parametrize("target", ["create", "action"])
def test_form_encoded_body_is_a_client_error(client, city, media_type, target):
    path = "/api/v1/incidents"
    if target == "action":
        path = f"/api/v1/incidents/{report(client, city).json['id']}/actions/void"
    response = client.post(path, data={"description": "井盖缺失", "address": "某路1号", "reason": "重复"},
                           content_type=media_type)
    assert 400 <= response.status_code < 500
