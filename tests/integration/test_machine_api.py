"""POST /api/v1/machine-events: camera and sensor detections become triaged incidents, deduplicated per source
and place, on both backends; identical events racing on PostgreSQL create one incident."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from dispatcher.access.accounts import Account, issue_token
from dispatcher.access.roles import Role
from dispatcher.access.roster import create_account
from tests.conftest import T0
from tests.integration.helpers import act, count, inside

URL = "/api/v1/machine-events"
M_PER_DEG_LAT = 111_320.0
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"\xff\xd9"


@pytest.fixture
def gateway_token(db) -> str:
    """A device token of a dedicated sensor-gateway account (role dispatcher, district scope)."""
    _, _, sessions = db
    with sessions.begin() as session:
        account = session.scalar(select(Account).where(Account.username == "gw-video-01"))
        if account is None:
            account = create_account(
                session,
                username="gw-video-01",
                display_name="视频网关 01",
                role=Role.DISPATCHER,
                region_code="330199",
                department_code=None,
                password="not used by a device 123",
                actor="tests",
                now=T0,
            )
            session.flush()
        return issue_token(session, account, name="video gateway", kind="service", now=T0)


class Gateway:
    """A camera/sensor gateway posting with its device token."""

    def __init__(self, app, token: str):
        self.http = FlaskClient(app)
        self.headers = {"Authorization": f"Bearer {token}"}

    def post(self, body):
        return self.http.post(URL, json=body, headers=self.headers)


@pytest.fixture
def gateway(app, gateway_token) -> Gateway:
    return Gateway(app, gateway_token)


@pytest.fixture
def spot(city) -> tuple[float, float]:
    return inside(city.grids.by_level("unit")[10])


def north(point: tuple[float, float], metres: float) -> tuple[float, float]:
    return point[0], point[1] + metres / M_PER_DEG_LAT


def event(point, *, source="cam-0001", kind="camera", type_="garbage_overflow", confidence=0.92, at=T0, **extra):
    return {
        "source_id": source,
        "source_kind": kind,
        "event_type": type_,
        "confidence": confidence,
        "lon": point[0],
        "lat": point[1],
        "detected_at": at.isoformat(),
        **extra,
    }


def timeline(client, incident_id: str) -> list[dict]:
    return client.get(f"/api/v1/incidents/{incident_id}/timeline").json["entries"]


def test_first_detection_creates_an_incident_in_triage(gateway, client, spot):
    r = gateway.post(event(spot, snapshot_url="https://cams.example/snap/1.jpg", lane=2))
    assert r.status_code == 201, r.json
    assert r.json["duplicate"] is False and r.json["hits"] == 1 and r.json["triage_reason"] == "machine_detected"
    incident = client.get(f"/api/v1/incidents/{r.json['incident_id']}").json
    assert incident["status"] == "triage" and incident["channel"] == "video"
    assert incident["triage"]["reason"] == "machine_detected"
    assert incident["category_code"] == "020101" and incident["external_id"] == "cam-0001:garbage_overflow"
    assert incident["department_code"] is None and incident["grid"]["unit"] is not None
    assert "HW" in incident["triage"]["detail"]  # the rules' suggestion is kept for the operator
    assert [e["action"] for e in timeline(client, incident["id"])] == ["report", "triage"]
    detection = client.get(f"{URL}/{incident['id']}").json
    assert detection["hits"] == 1 and detection["attributes"] == {"lane": 2}
    assert detection["snapshot_url"] == "https://cams.example/snap/1.jpg"


def test_the_same_detection_nearby_is_a_duplicate_with_a_timeline_row(gateway, client, clock, spot, db):
    _, engine, _ = db
    first = gateway.post(event(spot)).json
    clock.now = T0 + timedelta(minutes=1)
    r = gateway.post(event(north(spot, 10), at=T0 + timedelta(minutes=1), confidence=0.97))
    assert r.status_code == 200, r.json
    assert r.json == {"incident_id": first["incident_id"], "duplicate": True, "hits": 2}
    entries = timeline(client, first["incident_id"])
    assert [e["action"] for e in entries] == ["report", "triage", "detected_again"]
    again = entries[-1]
    assert again["from_status"] == again["to_status"] == "triage"
    assert again["data"]["hits"] == 2 and 9 < again["data"]["distance_m"] < 11
    detection = client.get(f"{URL}/{first['incident_id']}").json
    assert detection["hits"] == 2 and detection["max_confidence"] == 0.97
    assert count(engine, "incident") == 1 and count(engine, "machine_event") == 1


def test_a_camera_that_keeps_seeing_it_keeps_one_incident(gateway, clock, spot, db):
    """The window slides: each detection within the window of the previous one belongs to the same incident."""
    _, engine, _ = db
    ids = set()
    for minutes in (0, 25, 50, 75):
        clock.now = T0 + timedelta(minutes=minutes)
        r = gateway.post(event(spot, type_="illegal_parking", at=clock.now))
        ids.add(r.json["incident_id"])
    assert len(ids) == 1 and count(engine, "incident") == 1


@pytest.mark.parametrize("change", ["other source", "other type", "40 m away", "after the window", "closed"])
def test_otherwise_a_new_incident(gateway, client, clock, spot, db, change):
    _, engine, _ = db
    first = gateway.post(event(spot)).json
    later = T0 + timedelta(minutes=5)
    second = {
        "other source": lambda: event(spot, source="cam-0002", at=later),
        "other type": lambda: event(spot, type_="street_vending", at=later),
        "40 m away": lambda: event(north(spot, 40), at=later),
        "after the window": lambda: event(spot, at=T0 + timedelta(minutes=61)),  # garbage_overflow: 60 min
        "closed": lambda: event(spot, at=later),
    }[change]()
    if change == "closed":
        assert act(client, first["incident_id"], "void", reason="误报：摄像头识别错误").status_code == 200
    clock.now = T0 + timedelta(minutes=61)
    r = gateway.post(second)
    assert r.status_code == 201, r.json
    assert r.json["incident_id"] != first["incident_id"] and r.json["duplicate"] is False
    assert count(engine, "incident") == 2


def test_low_confidence_goes_to_triage_as_such(gateway, client, spot):
    r = gateway.post(event(spot, confidence=0.41))
    assert r.status_code == 201 and r.json["triage_reason"] == "low_confidence"
    incident = client.get(f"/api/v1/incidents/{r.json['incident_id']}").json
    assert incident["status"] == "triage" and incident["triage"]["reason"] == "low_confidence"
    assert "0.41" in incident["triage"]["detail"]


def test_an_unknown_type_still_creates_an_incident(gateway, client, spot):
    r = gateway.post(event(spot, type_="pothole_v3", kind="sensor", source="iot-77"))
    assert r.status_code == 201 and r.json["triage_reason"] == "unknown_category"
    incident = client.get(f"/api/v1/incidents/{r.json['incident_id']}").json
    assert incident["category_code"] is None and incident["channel"] == "sensor"
    assert incident["triage"]["reason"] == "unknown_category" and incident["external_id"] == "iot-77:pothole_v3"


def test_a_triaged_detection_can_be_filed_by_the_operator(gateway, client, spot):
    incident_id = gateway.post(event(spot)).json["incident_id"]
    r = act(client, incident_id, "file")
    assert r.status_code == 200, r.json
    assert r.json["status"] == "filed" and r.json["department_code"] == "HW"


def test_unix_times_and_an_inline_snapshot(gateway, client, spot):
    body = event(spot, source="cam-0009", snapshot=base64.b64encode(JPEG).decode())
    body["detected_at"] = int(T0.timestamp() * 1000)
    r = gateway.post(body)
    assert r.status_code == 201, r.json
    detection = client.get(f"{URL}/{r.json['incident_id']}").json
    assert detection["first_detected_at"] == T0.isoformat() and detection["has_snapshot"] is True
    image = client.get(f"{URL}/{r.json['incident_id']}/snapshot")
    assert image.status_code == 200 and image.mimetype == "image/jpeg" and image.data == JPEG


def test_a_batch_of_mixed_events(gateway, client, spot, db):
    _, engine, _ = db
    events = [
        event(spot),
        event(north(spot, 5), at=T0 + timedelta(seconds=30)),  # duplicate of the first, inside the same batch
        event(spot, type_="manhole_open", source="cam-0003"),
        event(spot, type_="unknown_thing", source="cam-0003"),
        event(
            north(spot, 100),
            type_="water_level",
            kind="sensor",
            source="wl-01",
            confidence=0.2,
            attributes={"level_cm": 23},
        ),
    ]
    r = gateway.post({"events": events})
    assert r.status_code == 200, r.json
    results = r.json["results"]
    assert r.json["created"] == 4 and r.json["duplicates"] == 1
    assert results[1] == {"incident_id": results[0]["incident_id"], "duplicate": True, "hits": 2}
    assert [x.get("triage_reason") for x in results] == [
        "machine_detected",
        None,
        "machine_detected",
        "unknown_category",
        "low_confidence",
    ]
    assert count(engine, "incident") == 4
    sensor = client.get(f"/api/v1/incidents/{results[4]['incident_id']}").json
    assert sensor["channel"] == "sensor" and sensor["category_code"] == "020404"
    manhole = client.get(f"/api/v1/incidents/{results[2]['incident_id']}").json
    assert manhole["category_code"] == "010103"


def test_a_batch_with_one_bad_event_records_nothing(gateway, spot, db):
    _, engine, _ = db
    r = gateway.post({"events": [event(spot), event(spot, confidence=2)]})
    assert r.status_code == 422 and r.json["error"]["field"] == "events.1.confidence"
    assert count(engine, "incident") == 0


@pytest.mark.parametrize(
    "change, field",
    [
        ({"confidence": 1.01}, "confidence"),
        ({"confidence": -0.1}, "confidence"),
        ({"confidence": True}, "confidence"),
        ({"confidence": "high"}, "confidence"),
        ({"source_id": None}, "source_id"),
        ({"source_id": ""}, "source_id"),
        ({"source_id": "cam 1/../x"}, "source_id"),
        ({"source_kind": "drone"}, "source_kind"),
        ({"event_type": ""}, "event_type"),
        ({"lat": 95.0}, "lat"),
        ({"lon": 200.0}, "lon"),
        ({"lat": "north"}, "lat"),
        ({"detected_at": "2026-12-02T10:00:00"}, "detected_at"),  # no time zone
        ({"detected_at": "yesterday"}, "detected_at"),
        ({"detected_at": "2027-06-01T00:00:00Z"}, "detected_at"),  # in the future
        ({"detected_at": 1}, "detected_at"),  # 1970
        ({"snapshot_url": "ftp://x/y.jpg"}, "snapshot_url"),
        ({"snapshot": "not base64!"}, "snapshot"),
        ({"snapshot": base64.b64encode(b"GIF89a....").decode()}, "snapshot"),
        ({"snapshot": base64.b64encode(b"\xff\xd8\xff" + b"\0" * (256 * 1024)).decode()}, "snapshot"),
    ],
)
def test_bad_events_are_422_naming_the_field(gateway, spot, db, change, field):
    _, engine, _ = db
    body = {**event(spot), **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = gateway.post(body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field, r.json
    assert count(engine, "incident") == 0


def test_a_non_finite_coordinate_is_refused_and_records_nothing(gateway, spot, db):
    _, engine, _ = db
    r = gateway.post({**event(spot), "lon": float("nan")})
    assert r.status_code == 400 and "NaN" in r.json["error"]["message"], r.json
    assert count(engine, "incident") == 0


@pytest.mark.parametrize(
    "body, field",
    [
        ({"events": []}, "events"),
        ({"events": "x"}, "events"),
        ({"events": [{}] * 501}, "events"),
        ([1, 2], None),
    ],
)
def test_bad_batches_are_422(gateway, body, field):
    r = gateway.post(body)
    assert r.status_code == 422, r.json
    assert r.json["error"]["field"] == field


def test_unreadable_bodies(gateway):
    headers = {**gateway.headers, "Content-Type": "application/json"}
    assert gateway.http.post(URL, data="{not json", headers=headers).status_code == 400
    assert (
        gateway.http.post(
            URL, data="a=1", headers={**gateway.headers, "Content-Type": "application/x-www-form-urlencoded"}
        ).status_code
        == 415
    )


def test_only_reporting_roles_and_signed_in_callers(app, tokens, anonymous, spot):
    assert anonymous.post(URL, json=event(spot)).status_code == 401
    admin = FlaskClient(app).post(URL, json=event(spot), headers={"Authorization": f"Bearer {tokens['admin']}"})
    assert admin.status_code == 403


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_identical_events_at_once_create_one_incident(app, gateway_token, spot, db):
    _, engine, _ = db
    n = 12
    barrier = Barrier(n)

    def one(_):
        gw = Gateway(app, gateway_token)
        barrier.wait()
        return gw.post(event(spot, source="cam-race"))

    with ThreadPoolExecutor(n) as pool:
        results = list(pool.map(one, range(n)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] * (n - 1) + [201], [r.json for r in results]
    assert len({r.json["incident_id"] for r in results}) == 1
    assert count(engine, "incident") == 1
    assert count(engine, "timeline", "action = 'detected_again'") == n - 1
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT hits FROM machine_event").scalar() == n


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
def test_crossing_batches_do_not_deadlock(app, gateway_token, spot, db):
    """Two batches naming the same sources in opposite orders: locks are taken in key order, both succeed."""
    _, engine, _ = db
    a, b = event(spot, source="cam-a"), event(spot, source="cam-b")
    barrier = Barrier(8)

    def one(i):
        gw = Gateway(app, gateway_token)
        barrier.wait()
        return gw.post({"events": [a, b] if i % 2 else [b, a]})

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(8)))
    assert {r.status_code for r in results} == {200}
    assert count(engine, "incident") == 2
