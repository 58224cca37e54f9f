"""Open311 GeoReport v2 at /open311/v2, on both backends: the spec's own examples adapted to our services."""

from __future__ import annotations

from datetime import timedelta

import pytest
import xmltodict

from dispatcher.access.accounts import Account, issue_token
from dispatcher.cases.incident import Incident
from tests.conftest import T0
from tests.integration.helpers import act, inside

BASE = "/open311/v2"
SERVICE = "020101"  # 暴露垃圾


def _account(sessions, role: str) -> Account:
    with sessions.begin() as session:
        account = session.get(Account, f"o311-{role}") or Account(
            id=f"o311-{role}",
            username=f"partner-{role}",
            display_name=f"partner {role}",
            role=role,
            region_code=None,
            department_code=None,
            password_hash="x",
            created_at=T0,
        )
        session.add(account)
    return account


def _token(sessions, role: str = "hotline", kind: str = "open311") -> str:
    _account(sessions, role)
    with sessions.begin() as session:
        return issue_token(session, session.get(Account, f"o311-{role}"), name="partner app", kind=kind, now=T0)


@pytest.fixture
def api_key(db):
    return _token(db[2])


@pytest.fixture
def public(app):
    return app.test_client()


def example(city, api_key, **changes) -> dict:
    """The spec's POST example (api_key=xyz&jurisdiction_id=city.gov&service_code=001&…) with our service,
    a point inside the demo city and our urgency attribute next to the example's own attributes."""
    lon, lat = inside(city.grids.by_level("unit")[10])
    body = {
        "api_key": api_key,
        "jurisdiction_id": "city.gov",
        "service_code": SERVICE,
        "lat": str(lat),
        "long": str(lon),
        "address_string": "1234 5th street",
        "email": "smit333@sfgov.edu",
        "device_id": "tt222111",
        "account_id": "123456",
        "first_name": "john",
        "last_name": "smith",
        "phone": "111111111",
        "description": "A large sinkhole is destroying the street",
        "media_url": "http://someurl.com/image.jpg",
        "attribute[WHISPAWN]": "123456",
        "attribute[WHISDORN]": "COISL001",
        "attribute[urgency]": "2",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post(client, body, fmt="json"):
    return client.post(f"{BASE}/requests.{fmt}", data=body)


def xml(response) -> dict:
    assert response.content_type == "text/xml; charset=utf-8"
    text = response.get_data(as_text=True)
    assert text.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    return xmltodict.parse(text)


def as_xml_values(value):
    """A JSON answer as xmltodict reads the XML one: strings, true/false, one-item lists unwrapped."""
    if isinstance(value, dict):
        return {k: as_xml_values(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [as_xml_values(v) for v in value]
        return items[0] if len(items) == 1 else items
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


# --- discovery and services --------------------------------------------------------------------------


def test_discovery_in_both_formats(public):
    body = public.get(f"{BASE}/discovery.json").get_json()
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith("/open311/v2/") and endpoint["type"] == "production"
    assert set(endpoint["formats"]) == {"text/xml", "application/json"}
    parsed = xml(public.get(f"{BASE}/discovery.xml"))["discovery"]
    assert parsed["endpoints"]["endpoint"]["formats"]["format"] == endpoint["formats"]
    assert parsed["changeset"] == body["changeset"]


def test_services_xml_has_the_spec_structure_and_matches_json(public, city):
    listed = public.get(f"{BASE}/services.json").get_json()
    assert len(listed) == len(city.catalogue.categories)
    services = xml(public.get(f"{BASE}/services.xml"))["services"]["service"]
    assert services == [as_xml_values(s) for s in listed]
    garbage = next(s for s in services if s["service_code"] == SERVICE)
    category = city.catalogue.category(SERVICE)
    assert garbage["service_name"] == category.name_zh
    assert garbage["group"] == city.catalogue.big_classes[category.big_class].name_zh
    assert garbage["metadata"] == "true" and garbage["type"] == "realtime"
    english = public.get(f"{BASE}/services.json?locale=en").get_json()
    assert next(s for s in english if s["service_code"] == SERVICE)["service_name"] == category.name_en


def test_service_definition_in_both_formats(public):
    body = public.get(f"{BASE}/services/{SERVICE}.json").get_json()
    assert body["service_code"] == SERVICE and body["attributes"][0]["code"] == "urgency"
    definition = xml(public.get(f"{BASE}/services/{SERVICE}.xml"))["service_definition"]
    attribute = definition["attributes"]["attribute"]
    assert attribute["datatype"] == "singlevaluelist" and attribute["required"] == "false"
    assert [v["key"] for v in attribute["values"]["value"]] == ["1", "2", "3"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_service_and_path_are_404_in_the_spec_shape(public, fmt):
    for path in (
        f"{BASE}/services/999999.{fmt}",
        f"{BASE}/requests/no-such-id.{fmt}",
        f"{BASE}/tokens/no-such-token.{fmt}",
        f"{BASE}/nothing.{fmt}",
    ):
        response = public.get(path)
        assert response.status_code == 404, path
        error = response.get_json()[0] if fmt == "json" else xml(response)["errors"]["error"]
        assert str(error["code"]) == "404" and error["description"]


def test_wrong_method_and_format(public):
    assert public.put(f"{BASE}/requests.json").status_code == 405
    response = public.get(f"{BASE}/services.csv")
    assert response.status_code == 404 and response.get_json()[0]["code"] == 404


# --- POST requests -----------------------------------------------------------------------------------


def test_spec_example_post_creates_an_open311_incident(public, city, db, api_key):
    response = post(public, example(city, api_key))
    assert response.status_code == 201
    [created] = response.get_json()
    assert set(created) == {"service_request_id", "service_notice", "account_id"}
    assert created["service_notice"] and created["account_id"] is None
    with db[2]() as session:
        incident = session.get(Incident, created["service_request_id"])
        assert incident.channel == "open311" and incident.category_code == SERVICE
        assert incident.urgency == 2 and incident.description == "A large sinkhole is destroying the street"
        assert incident.reporter_name == "john smith" and incident.reporter_phone == "111111111"
        assert incident.timeline[0].actor == "partner-hotline"
        assert incident.department_code is not None  # routed: inside the city


def test_spec_example_post_answers_in_xml(public, city, api_key):
    response = post(public, example(city, api_key), "xml")
    assert response.status_code == 201
    request = xml(response)["service_requests"]["request"]
    assert request["service_request_id"] and request["service_notice"] and request["account_id"] is None


def test_created_request_is_open_with_agency_then_closed_with_notes(public, client, city, db, api_key):
    rid = post(public, example(city, api_key)).get_json()[0]["service_request_id"]
    [open_request] = public.get(f"{BASE}/requests/{rid}.json").get_json()
    with db[2]() as session:
        incident = session.get(Incident, rid)
        agency = city.catalogue.departments[incident.department_code].name_zh
    assert open_request["status"] == "open" and open_request["agency_responsible"] == agency
    assert open_request["service_code"] == SERVICE and open_request["expected_datetime"]
    assert open_request["media_url"] == "http://someurl.com/image.jpg"
    assert open_request["address"] == "1234 5th street"
    text = public.get(f"{BASE}/requests/{rid}.json").get_data(as_text=True)
    for private in ("john", "smith", "111111111", "smit333", "tt222111"):
        assert private not in text
    for action, body in [
        ("file", {}),
        ("dispatch", {"assignee": "test-dept"}),  # the department head who claims and handles it
        ("claim", {}),
        ("handle", {"result": "已清运"}),
        ("verify", {}),
        ("close", {"note": "内部：结案", "public_note": "垃圾已清运，结案"}),
    ]:
        assert act(client, rid, action, **body).status_code == 200, action
    [closed] = public.get(f"{BASE}/requests/{rid}.json").get_json()
    assert closed["status"] == "closed" and closed["status_notes"] == "垃圾已清运，结案"
    for private in ("内部", '已清运"', "test-dept", "test-leader", "partner-hotline"):
        assert private not in public.get(f"{BASE}/requests/{rid}.json").get_data(as_text=True)
    assert closed["expected_datetime"] is None
    assert xml(public.get(f"{BASE}/requests/{rid}.xml"))["service_requests"]["request"] == as_xml_values(closed)
    [token] = public.get(f"{BASE}/tokens/{rid}.json").get_json()
    assert token == {"service_request_id": rid, "token": rid}


def test_voided_request_is_closed_with_the_neutral_note_not_the_reason(public, client, city, api_key):
    rid = post(public, example(city, api_key)).get_json()[0]["service_request_id"]
    assert act(client, rid, "void", reason="重复上报", note="举报人王五多次来电").status_code == 200
    [request] = public.get(f"{BASE}/requests/{rid}.json").get_json()
    assert request["status"] == "closed" and request["status_notes"] == "经核实不予立案，已关闭。"
    english = public.get(f"{BASE}/requests/{rid}.json?locale=en").get_json()[0]
    assert english["status_notes"] == "Closed after checking; not filed as a case."


def test_point_outside_the_city_still_creates_a_request_in_triage(public, city, db, api_key):
    body = example(city, api_key, lat="37.76524078", long="-122.4212043")  # the spec example's own point
    rid = post(public, body).get_json()[0]["service_request_id"]
    with db[2]() as session:
        assert session.get(Incident, rid).status == "triage"
    [request] = public.get(f"{BASE}/requests/{rid}.json").get_json()
    assert request["status"] == "open" and request["agency_responsible"] is None


def test_address_only_and_address_id_are_accepted(public, city, api_key):
    assert post(public, example(city, api_key, lat=None, long=None)).status_code == 201
    body = example(city, api_key, lat=None, long=None, address_string=None, address_id="545483")
    assert post(public, body).status_code == 201


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_api_key_is_403(public, city, db, fmt):
    service_key = _token(db[2], kind="service")  # a real token, but not an Open311 one
    admin_key = _token(db[2], role="admin")  # an Open311 token whose account does not take reports
    for key in (None, "xyz", service_key, admin_key):
        response = post(public, example(city, key), fmt)
        assert response.status_code == 403, key
        error = response.get_json()[0] if fmt == "json" else xml(response)["errors"]["error"]
        assert str(error["code"]) == "403" and "api_key" in error["description"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "changes, field",
    [
        ({"service_code": None}, "service_code"),
        ({"service_code": "001"}, "service_code"),
        ({"lat": "91"}, "lat"),
        ({"long": "-181"}, "long"),
        ({"lat": "north"}, "lat"),
        ({"long": None}, "lat and long"),
        ({"lat": None, "long": None, "address_string": None}, "location"),
        ({"description": "坑" * 4001}, "description"),
        ({"phone": "call me"}, "phone"),
        ({"attribute[urgency]": "9"}, "attribute[urgency]"),
        ({"media_url": "ftp://x"}, "media_url"),
        ({"description": "a\x00b"}, "description"),
    ],
)
def test_invalid_fields_are_400_naming_the_field(public, city, db, api_key, fmt, changes, field):
    response = post(public, example(city, api_key, **changes), fmt)
    assert response.status_code == 400
    error = response.get_json()[0] if fmt == "json" else xml(response)["errors"]["error"]
    assert str(error["code"]) == "400" and field in error["description"]


def test_open311_posts_are_csrf_exempt_and_rate_limited_as_intake(app, public, city, api_key):
    from dashboard.hardening import limit_category

    response = public.post(
        f"{BASE}/requests.json", data=example(city, api_key), headers={"Origin": "https://partner.example"}
    )
    assert response.status_code == 201
    with app.test_request_context(f"{BASE}/requests.json", method="POST"):
        assert limit_category() == "intake"
    with app.test_request_context(f"{BASE}/requests.json", method="GET"):
        assert limit_category() is None


# --- GET requests ------------------------------------------------------------------------------------


def test_get_requests_filters(public, client, city, clock, api_key):
    other = next(c for c in sorted(city.catalogue.categories) if c != SERVICE)
    clock.now = T0 - timedelta(days=100)
    old = post(public, example(city, api_key)).get_json()[0]["service_request_id"]
    clock.now = T0 - timedelta(days=1)
    first = post(public, example(city, api_key)).get_json()[0]["service_request_id"]
    clock.now = T0
    second = post(public, example(city, api_key, service_code=other)).get_json()[0]["service_request_id"]
    assert act(client, first, "void", reason="重复").status_code == 200

    def ids(query=""):
        response = public.get(f"{BASE}/requests.json{query}")
        assert response.status_code == 200, response.get_data(as_text=True)
        return [r["service_request_id"] for r in response.get_json()]

    assert ids() == [second, first]  # default: the last 90 days, newest first
    assert ids(f"?service_code={SERVICE}") == [first]
    assert ids("?status=open") == [second] and ids("?status=closed") == [first]
    assert ids(f"?service_request_id={old},{second}") == [second, old]  # ids: other filters ignored
    start = (T0 - timedelta(days=120)).strftime("%Y-%m-%dT%H:%M:%SZ")
    end = (T0 - timedelta(days=50)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ids(f"?start_date={start}&end_date={end}") == [old]
    assert ids("?start_date=2010-05-24T00:00:00Z&end_date=2010-06-24T00:00:00Z&status=open") == []  # spec example
    listed = public.get(f"{BASE}/requests.json").get_json()
    parsed = xml(public.get(f"{BASE}/requests.xml"))["service_requests"]["request"]
    assert parsed == as_xml_values(listed)
    assert xml(public.get(f"{BASE}/requests.xml?status=closed&service_code={other}")) == {"service_requests": None}


@pytest.mark.parametrize("fmt", ["json", "xml"])
@pytest.mark.parametrize(
    "query, words",
    [
        ("?start_date=2010-01-01T00:00:00Z&end_date=2010-06-24T00:00:00Z", "90"),
        ("?start_date=2010-06-24T00:00:00Z&end_date=2010-05-24T00:00:00Z", "before"),
        ("?start_date=2010-05-24", "timezone"),
        ("?end_date=last-week", "end_date"),
        ("?status=pending", "status"),
        ("?service_code=001", "service_code"),
    ],
)
def test_bad_filters_are_400(public, fmt, query, words):
    response = public.get(f"{BASE}/requests.{fmt}{query}")
    assert response.status_code == 400
    error = response.get_json()[0] if fmt == "json" else xml(response)["errors"]["error"]
    assert words in error["description"]
