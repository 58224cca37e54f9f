"""Fuzz the REST API from its own OpenAPI description (schemathesis): no input may ever produce a 5xx.

Runs on both backends (the `app` fixture, plus a real Redis so the position endpoints do real work). Every
documented operation (GET and POST) gets schemathesis' examples, coverage probes and random valid and invalid
inputs; the lifecycle actions are also fuzzed against real incidents so the engine runs, not just the 404 path.

The bugs the fuzz found (form bodies, 64-bit overflows, NUL characters) have regression tests at the bottom.

GRIDCOMMAND_FUZZ_EXAMPLES=300 GRIDCOMMAND_FUZZ_RANDOM=1 turns this into a longer, non-deterministic hunt.
"""

from __future__ import annotations

import os

import pytest
import redis as redis_lib
import schemathesis  # the `test` extra; a missing fuzzer fails the run rather than skipping it silently
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error, response_schema_conformance

from dashboard.runtime import runtime_of
from dispatcher.cases.lifecycle import Action
from dispatcher.fleet.officers import Officer
from tests.integration.helpers import count, report

OPENAPI = "/api/v1/openapi.json"
ACTION_PATH = "/api/v1/incidents/{incident_id}/actions/{action}"
FORM_MEDIA_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
EXAMPLES = int(os.environ.get("GRIDCOMMAND_FUZZ_EXAMPLES", "25"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
    derandomize=not os.environ.get("GRIDCOMMAND_FUZZ_RANDOM"),
)
CHECKS = [not_a_server_error, response_schema_conformance]


def _on_postgres(db) -> bool:
    return db[0].startswith("postgresql")


@pytest.fixture
def api_schema(app, client, city, db, redis_url):
    """The API's own OpenAPI description served by the app under test, with Redis, officers and incidents."""
    _, _, sessions = db
    runtime_of(app).redis = redis_lib.Redis.from_url(redis_url)
    community = city.grids.by_level("community")[0].code
    with sessions.begin() as session:
        session.add_all(
            [
                Officer(
                    id="GW1", name="王芳", role="grid_worker", grid_community=community, device_id="0", on_duty=True
                ),
                Officer(
                    id="ZF1",
                    name="李强",
                    role="enforcement",
                    department_code="CGZF",
                    grid_community=community,
                    device_id="dev-2",
                    on_duty=True,
                ),
            ]
        )
    for unit_index in (3, 10):
        assert report(client, city, unit_index=unit_index).status_code == 201
    api = schemathesis.openapi.from_wsgi(OPENAPI, app)
    return api


schema = schemathesis.pytest.from_fixture("api_schema")


def _explain(case, response) -> str:
    return (
        f"{case.method} {case.formatted_path} -> {response.status_code}\n"
        f"reproduce: {case.as_curl_command()}\nresponse: {response.text[:2000]}"
    )


@schema.parametrize()
@FUZZ
def test_no_input_gives_a_server_error(case):
    response = case.call()
    assert response.status_code < 500, _explain(case, response)
    case.validate_response(response, checks=CHECKS)


def test_the_schema_documents_every_api_operation(api_schema):
    operations = {(result.ok().method.upper(), result.ok().path) for result in api_schema.get_all_operations()}
    assert operations >= {
        ("GET", "/api/v1/categories"),
        ("GET", "/api/v1/departments"),
        ("GET", "/api/v1/locate"),
        ("GET", "/api/v1/grids"),
        ("POST", "/api/v1/grids/import"),
        ("POST", "/api/v1/incidents"),
        ("GET", "/api/v1/incidents"),
        ("GET", "/api/v1/incidents/{incident_id}"),
        ("GET", "/api/v1/incidents/{incident_id}/timeline"),
        ("POST", ACTION_PATH),
    }


def _actions_never_fail_on(api_schema, incident_id: str) -> None:
    """Every action with random bodies and headers on one real incident: 2xx or 4xx, never 5xx."""
    cases = api_schema[ACTION_PATH]["POST"].as_strategy()

    @FUZZ
    @given(case=cases, action=st.sampled_from([a.value for a in Action]))
    def fuzz(case, action):
        case.path_parameters = {"incident_id": incident_id, "action": action}
        response = case.call()
        assert response.status_code < 500, _explain(case, response)
        case.validate_response(response, checks=CHECKS)

    fuzz()


def test_actions_on_a_reported_incident_never_give_a_server_error(api_schema, client, city):
    _actions_never_fail_on(api_schema, report(client, city).json["id"])


def test_actions_on_a_claimed_incident_never_give_a_server_error(api_schema, client, city):
    incident_id = report(client, city).json["id"]
    for action in ("file", "dispatch", "claim"):
        assert client.post(f"/api/v1/incidents/{incident_id}/actions/{action}", json={}).status_code == 200
    _actions_never_fail_on(api_schema, incident_id)


OSMAND_VALUES = st.one_of(
    st.text(max_size=30),
    st.integers().map(str),
    st.floats().map(str),
    st.just("0"),
    st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat()),
)
OSMAND_PARAMS = st.dictionaries(
    st.sampled_from(
        [
            "id",
            "deviceid",
            "lat",
            "lon",
            "location",
            "timestamp",
            "speed",
            "bearing",
            "heading",
            "accuracy",
            "altitude",
            "batt",
            "alarm",
        ]
    ),
    OSMAND_VALUES,
    max_size=8,
)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=20) | OSMAND_VALUES,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=10,
)
OSMAND_JSON = st.fixed_dictionaries(
    {
        "device_id": st.sampled_from(["0", "dev-2", "nobody"]) | JSON_VALUES,
        "location": st.fixed_dictionaries(
            {
                "coords": st.fixed_dictionaries(
                    {},
                    optional={
                        "latitude": st.floats(-100, 100) | JSON_VALUES,
                        "longitude": st.floats(-200, 200) | JSON_VALUES,
                        "accuracy": JSON_VALUES,
                        "speed": JSON_VALUES,
                        "heading": JSON_VALUES,
                        "altitude": JSON_VALUES,
                    },
                )
            },
            optional={
                "timestamp": OSMAND_VALUES | JSON_VALUES,
                "is_moving": JSON_VALUES,
                "event": JSON_VALUES,
                "battery": JSON_VALUES,
                "extras": JSON_VALUES,
            },
        )
        | JSON_VALUES,
    }
)


@FUZZ
@given(form=st.sampled_from(["query", "form", "json"]), params=OSMAND_PARAMS, body=OSMAND_JSON)
def _osmand_never_fails(client, form, params, body):
    if form == "query":
        response = client.get("/osmand", query_string=params)
    elif form == "form":
        response = client.post("/osmand", data=params)
    else:
        response = client.post("/osmand", json=body)
    assert response.status_code < 500, (
        form,
        params if form != "json" else body,
        response.status_code,
        response.get_data(as_text=True)[:500],
    )


def test_the_undocumented_osmand_endpoint_never_gives_a_server_error(api_schema, client):
    _osmand_never_fails(client)


@pytest.mark.parametrize("suffix", ["", "/timeline", "/recommendations", "/actions/file", "/actions/no-such-action"])
@pytest.mark.parametrize("incident_id", ["does-not-exist", "0" * 300, "%E4%B8%AD", "a%20b", "..%2F..%2Fetc"])
def test_unknown_incident_ids_are_404_not_500(client, incident_id, suffix):
    path = f"/api/v1/incidents/{incident_id}{suffix}"
    response = client.post(path, json={}) if "/actions/" in suffix else client.get(path)
    assert response.status_code == 404, (path, response.status_code, response.get_data(as_text=True)[:500])
    assert response.json["error"]["code"] == "not_found"


# --- Regressions for bugs the fuzz found --------------------------------------------------------------------------


@pytest.mark.parametrize("media_type", FORM_MEDIA_TYPES)
@pytest.mark.parametrize("target", ["create", "action", "positions"])
def test_form_encoded_body_is_a_client_error(request, app, client, city, media_type, target):
    path = "/api/v1/incidents"
    if target == "action":
        path = f"/api/v1/incidents/{report(client, city).json['id']}/actions/void"
    elif target == "positions":
        runtime_of(app).redis = redis_lib.Redis.from_url(request.getfixturevalue("redis_url"))
        path = "/api/v1/positions"
    response = client.post(
        path, data={"description": "井盖缺失", "address": "某路1号", "reason": "重复"}, content_type=media_type
    )
    assert response.status_code == 415 and "application/json" in response.json["error"]["message"]


@pytest.mark.parametrize(
    "query",
    [
        "incidents?page=9223372036854775807",
        "incidents?page=18446744073709553&page_size=500",
        "events?after_seq=9223372036854775808",
    ],
)
def test_huge_numbers_are_a_client_error(client, query):
    response = client.get(f"/api/v1/{query}")
    assert response.status_code == 422


NUL_INPUTS = {
    "path": ("GET", "/api/v1/incidents/%00", None, None),
    "query": ("GET", "/api/v1/incidents?category=%00", None, None),
    "body": ("POST", "/api/v1/incidents", {"description": "a\x00b", "address": "某路1号"}, None),
    "header": ("POST", "/api/v1/incidents", {"description": "ab", "address": "某路1号"}, {"X-Actor": "a\x00"}),
}


@pytest.mark.parametrize("where", NUL_INPUTS)
def test_nul_characters_are_a_client_error(client, db, where):
    method, path, body, headers = NUL_INPUTS[where]
    response = client.open(path, method=method, json=body, headers=headers)
    assert response.status_code == 422 and response.json["error"]["code"] == "nul_character"
    assert count(db[1], "incident") == 0
