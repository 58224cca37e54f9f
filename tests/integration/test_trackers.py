"""Trackers authenticate; nobody else moves an officer (issue 9: items 1 and 9, and item 12 on the two position
inputs). Each test replays an attack that worked before enrolled devices and must now fail. Both backends.

Before: /osmand took positions and `alarm=sos` for any device id, ids were `dev-<officer>` and listed by GET
/api/v1/officers, a 404 vs 200 confirmed a guess, POST /api/v1/positions took any signed-in account for any
device, and NaN or Infinity in a fix broke /api/v1/officers and the pushes as invalid JSON.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import timedelta

import pytest
import redis as redis_lib
from flask.testing import FlaskClient
from sqlalchemy import select, text

from dashboard.app import create_server
from dashboard.runtime import runtime_of
from dispatcher.access.accounts import Account, issue_token
from dispatcher.access.audit import AuditRecord
from dispatcher.access.passwords import hash_password
from dispatcher.access.roles import Role
from dispatcher.fleet.devices import Device, grant_device_token, issue, revoke
from dispatcher.fleet.officers import Officer
from tests.conftest import T0, TEST_PASSWORD
from tests.integration.helpers import inside
from workers.positions import LATEST, PositionStore

_HASH = hash_password(TEST_PASSWORD)
OWN = {"Origin": "http://localhost"}


def strict_json(data: str):
    """JSON as a browser reads it: NaN and Infinity are not JSON."""
    return json.loads(data, parse_constant=lambda name: pytest.fail(f"{name} in a JSON answer"))


@pytest.fixture
def live(app, db, redis_url, city, tokens):
    """The app with a real Redis position store and two officers whose roster labels are the old `dev-<id>`
    (and the test accounts, whose tokens the tests bind to devices)."""
    _, _, sessions = db
    runtime_of(app).redis = redis_lib.Redis.from_url(redis_url)
    community = city.grids.by_level("community")[0].code
    with sessions.begin() as session:
        for officer_id in ("GW1", "GW2"):
            session.add(
                Officer(
                    id=officer_id,
                    name=officer_id,
                    role="grid_worker",
                    grid_community=community,
                    device_id=f"dev-{officer_id.lower()}",
                    on_duty=True,
                )
            )
    return app


def enrol(sessions, officer_id: str) -> tuple[str, str]:
    """A new tracker for the officer: (public device id, identifier)."""
    with sessions.begin() as session:
        issued = issue(session, officer_id, label="phone", actor="tests", now=T0)
        return issued.device.id, issued.identifier


def revoke_elsewhere(sessions, device_id: str) -> None:
    """Revoke as another process does (`gridcommand devices revoke`): straight in the database."""
    with sessions.begin() as session:
        revoke(session, device_id, actor="tests", now=T0)


def fix_query(city, identifier: str, seconds: int = 0, **extra) -> str:
    lon, lat = inside(city.grids.by_level("unit")[10])
    at = int((T0 + timedelta(seconds=seconds)).timestamp())
    query = f"/osmand?id={identifier}&lat={lat}&lon={lon + seconds * 1e-6}&timestamp={at}"
    return query + "".join(f"&{k}={v}" for k, v in extra.items())


def positions(app) -> dict:
    return PositionStore(runtime_of(app).redis).latest()


def account_token(sessions, role: str) -> tuple[str, str]:
    """A fresh account of `role` and an API token of it (bound to nothing): (username, token)."""
    tag = uuid.uuid4().hex[:10]
    with sessions.begin() as session:
        account = Account(
            id=f"k{tag}",
            username=f"{role}-{tag}",
            display_name=role,
            role=role,
            region_code="330199" if role not in ("admin", "auditor") else None,
            department_code=None,
            password_hash=_HASH,
            created_at=T0,
        )
        session.add(account)
        session.flush()
        return account.username, issue_token(session, account, name="tests", kind="service", now=T0)


def batch(city, device_id: str | None = None, **fields) -> dict:
    lon, lat = inside(city.grids.by_level("unit")[10])
    item = {"at": T0.isoformat(), "lon": lon, "lat": lat, **fields}
    return {"positions": [item | ({"device_id": device_id} if device_id else {})]}


# --- the identifier is the credential ---------------------------------------------------------------------------


def test_a_device_identifier_is_random_shown_once_and_stored_only_as_its_hash(live, db, city):
    _, engine, sessions = db
    (device, identifier), (_, other) = enrol(sessions, "GW1"), enrol(sessions, "GW1")
    assert len(identifier) >= 22 and identifier != other  # ≥ 128 random bits (secrets.token_urlsafe)
    with engine.connect() as conn:
        stored = json.dumps([list(map(str, r)) for r in conn.execute(text("SELECT * FROM device"))])
    assert identifier not in stored and hashlib.sha256(identifier.encode()).hexdigest() in stored
    with sessions() as session:
        issued = session.scalars(select(AuditRecord).where(AuditRecord.target == f"device:{device}")).one()
    assert (issued.action, issued.actor, issued.detail["officer_id"]) == ("device.issue", "tests", "GW1")
    assert identifier not in json.dumps(issued.detail)
    response = live.test_client().get(fix_query(city, identifier))
    assert response.status_code == 200 and response.json["accepted"] is True
    assert set(positions(live)) == {"GW1"}


def test_a_guessed_dev_id_moves_nobody_and_no_answer_lists_a_tracker(live, db, city, client):
    _, _, sessions = db
    _, identifier = enrol(sessions, "GW1")
    tracker = live.test_client()
    for guess in ("dev-gw1", "dev-GW1", "GW1", "0"):
        response = tracker.get(fix_query(city, guess, alarm="sos"))
        assert response.status_code == 401 and response.json["error"]["code"] == "unknown_device", guess
    assert tracker.post("/osmand", data={"id": "dev-gw1", "lat": 30.27, "lon": 120.16}).status_code == 401
    assert positions(live) == {}  # nobody moved, no SOS raised
    listed = client.get("/api/v1/officers")
    assert listed.status_code == 200 and all("device_id" not in item for item in listed.json["items"])
    assert "dev-gw1" not in listed.get_data(as_text=True) and identifier not in listed.get_data(as_text=True)


def test_unknown_and_revoked_identifiers_get_exactly_the_same_answer(live, db, city):
    _, _, sessions = db
    device, revoked = enrol(sessions, "GW1")
    revoke_elsewhere(sessions, device)
    unknown = enrol(sessions, "GW2")[1][::-1]  # as long and as random as a real one, but nobody's
    tracker = live.test_client()
    answers = []
    for identifier in (unknown, revoked):
        lon, lat = inside(city.grids.by_level("unit")[10])
        answers.append(
            [
                tracker.get(fix_query(city, identifier)),
                tracker.post("/osmand", data={"deviceid": identifier, "location": f"{lat},{lon}"}),
                tracker.post(
                    "/osmand",
                    json={"device_id": identifier, "location": {"coords": {"latitude": lat, "longitude": lon}}},
                ),
            ]
        )
    for a, b in zip(*answers):
        assert (a.status_code, a.get_data()) == (b.status_code, b.get_data())
        assert a.status_code == 401 and a.json["error"]["field"] == "id"
    assert positions(live) == {}


def test_a_revocation_takes_effect_within_five_seconds(live, db, city):
    import time

    _, _, sessions = db
    device, identifier = enrol(sessions, "GW1")
    with sessions.begin() as session:
        token = grant_device_token(session, device, "test-leader", actor="tests", now=T0)
    tracker = live.test_client()
    assert tracker.get(fix_query(city, identifier)).status_code == 200  # known, and now cached
    revoke_elsewhere(sessions, device)
    started, seconds = time.monotonic(), 1
    while (status := tracker.get(fix_query(city, identifier, seconds)).status_code) == 200:
        assert time.monotonic() - started < 5, "a revoked tracker still moves its officer after 5 s"
        time.sleep(0.2)
        seconds += 1
    assert status == 401
    refused = tracker.post("/api/v1/positions", json=batch(city), headers={"Authorization": f"Bearer {token}"})
    assert refused.status_code in (401, 403)  # its bound token was revoked with it


# --- only a token bound to the device posts positions ---------------------------------------------------------


@pytest.mark.parametrize("role", [r.value for r in Role])
def test_no_account_of_any_role_may_post_positions(live, db, city, role):
    _, _, sessions = db
    device, _ = enrol(sessions, "GW1")
    username, token = account_token(sessions, role)
    tracker = live.test_client()
    for body in (batch(city, device), batch(city)):
        response = tracker.post("/api/v1/positions", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 403 and response.json["error"]["code"] == "forbidden", role
        assert username in response.json["error"]["message"]
    assert positions(live) == {}


def test_a_signed_in_person_may_not_post_positions(live, db, city):
    _, _, sessions = db
    device, _ = enrol(sessions, "GW1")
    username, _ = account_token(sessions, "dispatcher")
    browser = live.test_client()
    signed_in = browser.post("/api/v1/auth/login", json={"username": username, "password": TEST_PASSWORD}, headers=OWN)
    assert signed_in.status_code == 200, signed_in.json
    response = browser.post("/api/v1/positions", json=batch(city, device), headers=OWN)
    assert response.status_code == 403 and positions(live) == {}


def test_a_device_token_posts_for_its_device_only(live, db, city):
    _, _, sessions = db
    mine, _ = enrol(sessions, "GW1")
    theirs, _ = enrol(sessions, "GW2")
    with sessions.begin() as session:
        token = grant_device_token(session, mine, "test-leader", actor="tests", now=T0)
        account = session.get(Account, "t-leader")
        app_token = issue_token(session, account, name="app", kind="app", now=T0, device_id=mine)  # wrong kind
    tracker = live.test_client()
    auth = {"Authorization": f"Bearer {token}"}
    for body in (batch(city, theirs), {"positions": batch(city, mine)["positions"] + batch(city, theirs)["positions"]}):
        refused = tracker.post("/api/v1/positions", json=body, headers=auth)
        assert refused.status_code == 403 and mine in refused.json["error"]["message"]
        assert theirs in refused.json["error"]["message"]
    assert positions(live) == {}  # not even the own fix of the mixed batch: no partial write
    wrong_kind = tracker.post(
        "/api/v1/positions", json=batch(city, mine), headers={"Authorization": f"Bearer {app_token}"}
    )
    assert wrong_kind.status_code == 403
    accepted = tracker.post("/api/v1/positions", json=batch(city, mine), headers=auth)
    assert accepted.status_code == 200 and accepted.json["accepted"] == 1 and set(positions(live)) == {"GW1"}


# --- no NaN, no Infinity ----------------------------------------------------------------------------------------

QUERY_CASES = [
    ("lat", "nan"),
    ("lon", "inf"),
    ("speed", "Infinity"),
    ("bearing", "-Infinity"),
    ("accuracy", "NaN"),
    ("altitude", "nan"),
    ("batt", "nan"),
    ("timestamp", "NaN"),
    ("timestamp", "inf"),
]
JSON_CASES = [
    ("latitude", ("coords", "latitude"), float("nan")),
    ("speed", ("coords", "speed"), float("nan")),
    ("heading", ("coords", "heading"), float("inf")),
    ("altitude", ("coords", "altitude"), float("-inf")),
    ("accuracy", ("coords", "accuracy"), float("nan")),
    ("level", ("battery", "level"), float("nan")),
    ("timestamp", ("timestamp",), float("nan")),
]
BATCH_CASES = [
    ("lon", float("nan")),
    ("speed_mps", float("inf")),
    ("heading", float("nan")),
    ("accuracy_m", float("-inf")),
]


@pytest.mark.parametrize(("field", "value"), QUERY_CASES)
def test_non_finite_numbers_in_osmand_queries_and_forms_are_refused_naming_the_field(live, db, city, field, value):
    _, _, sessions = db
    _, identifier = enrol(sessions, "GW1")
    lon, lat = inside(city.grids.by_level("unit")[10])
    params = {"id": identifier, "lat": lat, "lon": lon, "timestamp": int(T0.timestamp()), field: value}
    tracker = live.test_client()
    for response in (tracker.get("/osmand", query_string=params), tracker.post("/osmand", data=params)):
        assert response.status_code == 400 and field in response.json["error"]["message"]
    assert positions(live) == {}


@pytest.mark.parametrize(("field", "path", "value"), JSON_CASES)
def test_non_finite_numbers_in_osmand_json_are_refused_naming_the_field(live, db, city, client, field, path, value):
    _, _, sessions = db
    _, identifier = enrol(sessions, "GW1")
    lon, lat = inside(city.grids.by_level("unit")[10])
    location = {"timestamp": T0.isoformat(), "coords": {"latitude": lat, "longitude": lon}, "battery": {"level": 0.5}}
    parent = location
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value
    response = live.test_client().post("/osmand", json={"device_id": identifier, "location": location})
    assert response.status_code == 400 and field in response.json["error"]["message"]
    assert positions(live) == {}
    strict_json(client.get("/api/v1/officers").get_data(as_text=True))


def test_a_non_finite_extra_is_dropped_and_every_answer_stays_json(live, db, city, client):
    _, _, sessions = db
    _, identifier = enrol(sessions, "GW1")
    lon, lat = inside(city.grids.by_level("unit")[10])
    body = {
        "device_id": identifier,
        "location": {"coords": {"latitude": lat, "longitude": lon}, "extras": {"alarm": float("nan"), "x": 1e400}},
    }
    assert live.test_client().post("/osmand", json=body).status_code == 200
    stored = strict_json(runtime_of(live).redis.hget(LATEST, "GW1").decode())
    assert stored["alarm"] is None  # a number is no alarm
    strict_json(client.get("/api/v1/officers").get_data(as_text=True))


@pytest.mark.parametrize(("field", "value"), BATCH_CASES)
def test_non_finite_numbers_in_position_batches_are_refused_naming_the_field(live, db, city, field, value):
    _, _, sessions = db
    device, _ = enrol(sessions, "GW1")
    with sessions.begin() as session:
        token = grant_device_token(session, device, "test-leader", actor="tests", now=T0)
    response = live.test_client().post(
        "/api/v1/positions", json=batch(city, device, **{field: value}), headers={"Authorization": f"Bearer {token}"}
    )
    named = json.dumps(response.json["error"])  # the field, or the literal the app's strict JSON reader refused
    assert 400 <= response.status_code < 500 and (field in named or "NaN" in named or "Infinity" in named)
    assert positions(live) == {}


# --- per-device rate limit ------------------------------------------------------------------------------------


def _server(live, **changes) -> FlaskClient:
    runtime = runtime_of(live)
    runtime.settings = runtime.settings.model_copy(update=changes)  # one process, one settings object
    server = create_server(runtime.settings, runtime)
    server.testing = True
    server.test_client_class = FlaskClient
    return server.test_client()


def test_each_device_has_its_own_rate_limit(live, db, city):
    _, _, sessions = db
    device, identifier = enrol(sessions, "GW1")
    _, other = enrol(sessions, "GW2")
    tracker = _server(live, rate_limit_device="3/minute")
    for seconds in range(3):
        assert tracker.get(fix_query(city, identifier, seconds * 10)).status_code == 200
    limited = tracker.get(fix_query(city, identifier, 40))
    assert limited.status_code == 429 and device in limited.json["error"]["message"]
    assert identifier not in limited.get_data(as_text=True)
    assert int(limited.headers["Retry-After"]) > 0
    assert tracker.get(fix_query(city, other)).status_code == 200  # another device from the same address
    with sessions.begin() as session:
        token = grant_device_token(session, device, "test-leader", actor="tests", now=T0)
    batched = tracker.post("/api/v1/positions", json=batch(city, device), headers={"Authorization": f"Bearer {token}"})
    assert batched.status_code == 429  # one budget per device, whichever way its fixes come


def test_the_per_address_limit_still_holds_beside_the_device_limit(live, db, city):
    _, _, sessions = db
    _, identifier = enrol(sessions, "GW1")
    tracker = _server(live, rate_limit_osmand="4/minute", rate_limit_device="100/minute")
    statuses = [tracker.get(fix_query(city, identifier, s * 10)).status_code for s in range(2)]
    statuses += [tracker.get(fix_query(city, "guess-" + str(n))).status_code for n in range(4)]
    assert statuses[:2] == [200, 200] and statuses[2:4] == [401, 401] and 429 in statuses[4:]


def test_revoking_twice_names_the_device(db):
    _, _, sessions = db
    with sessions.begin() as session:
        session.add(Officer(id="GW9", name="x", role="grid_worker", device_id="dev-gw9", on_duty=True))
    device, _ = enrol(sessions, "GW9")
    revoke_elsewhere(sessions, device)
    with pytest.raises(Exception, match=device), sessions.begin() as session:
        revoke(session, device, actor="tests", now=T0)
    with sessions() as session:
        assert session.get(Device, device).revoked_at is not None


def test_trackers_keep_reporting_while_the_database_is_down(live, db, city):
    from sqlalchemy.exc import OperationalError

    _, _, sessions = db
    _, identifier = enrol(sessions, "GW1")
    tracker, runtime = live.test_client(), runtime_of(live)
    assert tracker.get(fix_query(city, identifier)).status_code == 200

    def down():
        raise OperationalError("SELECT", {}, Exception("connection refused"))

    runtime.sessions, working = down, runtime.sessions
    try:
        runtime.forget_devices()  # due for a reload, which fails: the last list of live devices stays in force
        assert tracker.get(fix_query(city, identifier, 10)).status_code == 200
        assert tracker.get(fix_query(city, "guess")).status_code == 401
    finally:
        runtime.sessions = working
