"""Officer positions end to end: OsmAnd in every form, noise filter, batched push per room, history, nearest officers."""

import json
import time
from datetime import timedelta

import pytest
import redis as redis_lib

from dashboard.runtime import runtime_of
from dispatcher.fleet.devices import devices_of, grant_device_token, issue
from dispatcher.fleet.officers import Officer
from tests.conftest import T0
from tests.integration.helpers import act, count, inside, report
from workers import keys
from workers.positions import PositionStore, flush_positions


def enrol(sessions, officer_id: str) -> str:
    """Enrol a tracker for an officer (as `gridcommand devices add` does); its identifier."""
    with sessions.begin() as session:
        return issue(session, officer_id, label="tests", actor="tests", now=T0).identifier


@pytest.fixture
def live(app, client, db, redis_url, city):
    """The app with a real Redis position store and three officers in the first community, each with an enrolled
    tracker (`live.trackers`: officer id → the tracker's identifier)."""
    _, engine, sessions = db
    runtime = runtime_of(app)
    runtime.redis = redis_lib.Redis.from_url(redis_url)
    community = city.grids.by_level("community")[0].code
    with sessions.begin() as session:
        session.add_all(
            [
                Officer(
                    id="GW1", name="王芳", role="grid_worker", grid_community=community, device_id="dev-1", on_duty=True
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
                Officer(
                    id="OFF",
                    name="赵敏",
                    role="enforcement",
                    department_code="CGZF",
                    grid_community=community,
                    device_id="dev-3",
                    on_duty=False,
                ),
            ]
        )
    app.trackers = {officer: enrol(sessions, officer) for officer in ("GW1", "ZF1", "OFF")}
    return app


def _unit(city, i=10):
    return city.grids.by_level("unit")[i]


def _ts(seconds=0):
    return int((T0 + timedelta(seconds=seconds)).timestamp())


def test_osmand_get_form_and_json_forms_are_all_accepted(live, city):
    client = live.test_client()
    gw1 = live.trackers["GW1"]
    lon, lat = inside(_unit(city))
    got = client.get(f"/osmand?id={gw1}&lat={lat}&lon={lon}&timestamp={_ts()}&speed=2&bearing=90&accuracy=5&batt=80")
    assert got.status_code == 200 and got.json["accepted"] is True
    assert got.json["events"] == [f"enter:{_unit(city).code}"]
    form = client.post(
        "/osmand",
        data={"deviceid": gw1, "location": f"{lat},{lon + 0.0001}", "timestamp": _ts(10) * 1000, "alarm": "sos"},
    )
    assert form.status_code == 200 and form.json["accepted"] is True
    body = {
        "device_id": gw1,
        "location": {
            "timestamp": (T0 + timedelta(seconds=20)).isoformat(),
            "coords": {"latitude": lat, "longitude": lon + 0.0002, "accuracy": 8, "speed": 1.4, "heading": 80},
            "is_moving": True,
            "battery": {"level": 0.7, "is_charging": False},
        },
    }
    posted = client.post("/osmand", json=body)
    assert posted.status_code == 200 and posted.json["accepted"] is True
    officer = next(o for o in client.get("/api/v1/officers").json["items"] if o["id"] == "GW1")
    assert officer["position"]["lon"] == pytest.approx(lon + 0.0002) and officer["status"] == "on_duty"
    assert officer["position"]["grid_unit"] == _unit(city).code


def test_noise_is_filtered_not_an_error(live, city):
    client = live.test_client()
    lon, lat = inside(_unit(city))
    gw1 = live.trackers["GW1"]
    client.get(f"/osmand?id={gw1}&lat={lat}&lon={lon}&timestamp={_ts(10)}")
    for query, reason in [
        (f"lat={lat}&lon={lon}&timestamp={_ts(10)}", "duplicate"),
        (f"lat={lat}&lon={lon}&timestamp={_ts(5)}", "out of order"),
        (f"lat={lat}&lon={lon + 0.05}&timestamp={_ts(15)}", "speed"),
        (f"lat={lat}&lon={lon}&timestamp={_ts(20)}&accuracy=500", "accuracy"),
    ]:
        response = client.get(f"/osmand?id={gw1}&{query}")
        assert response.status_code == 200 and response.json["accepted"] is False
        assert reason in response.json["reason"]


@pytest.mark.parametrize(
    ("query", "named"),
    [
        ("lat=30.2&lon=120.1", "id"),
        ("id=dev-1&lon=120.1", "lat"),
        ("id=dev-1&lat=95&lon=120.1", "lat"),
        ("id=dev-1&lat=30.2&lon=abc", "lon"),
        ("id=dev-1&location=30.2", "location"),
        ("id=dev-1&lat=30.2&lon=120.1&timestamp=yesterday", "timestamp"),
        ("id=dev-1&lat=30.2&lon=120.1&speed=-3", "speed"),
    ],
)
def test_malformed_osmand_requests_are_400_naming_the_field(live, query, named):
    response = live.test_client().get(f"/osmand?{query.replace('dev-1', live.trackers['GW1'])}")
    assert response.status_code == 400 and named in response.json["error"]["message"]


def test_unknown_device_and_broken_json_are_4xx(live, db):
    client = live.test_client()
    unknown = client.get(f"/osmand?id=stranger&lat=30.27&lon=120.16&timestamp={_ts()}")
    assert unknown.status_code == 401 and unknown.json["error"]["code"] == "unknown_device"
    assert "stranger" not in unknown.get_data(as_text=True)
    broken = client.post("/osmand", data="{", content_type="application/json")
    assert broken.status_code == 400
    assert client.post("/osmand", json={"device_id": live.trackers["GW1"]}).status_code == 400
    assert client.delete("/osmand").status_code == 405


def test_flush_pushes_one_batch_per_room_and_writes_history(live, city, db, redis_url):
    _, engine, sessions = db
    client = live.test_client()
    lon, lat = inside(_unit(city))
    gw1, zf1 = live.trackers["GW1"], live.trackers["ZF1"]
    for i in range(5):
        assert client.get(f"/osmand?id={gw1}&lat={lat}&lon={lon + i * 0.00005}&timestamp={_ts(i * 5)}").json["accepted"]
        assert client.get(f"/osmand?id={zf1}&lat={lat}&lon={lon - i * 0.00005}&timestamp={_ts(i * 5)}").json["accepted"]
    pubsub = redis_lib.Redis.from_url(redis_url).pubsub()
    pubsub.subscribe(keys.socketio_channel(redis_url))
    pubsub.get_message(timeout=1)

    from workers.push import Pusher as Real

    class Pusher(Real):  # the real one (its emit_each publishes every batch in one round trip), counting emits
        def __init__(self):
            super().__init__(redis_url)
            self.calls = []

        def emit(self, event, data, room):
            self.calls.append((event, room, len(data)))
            super().emit(event, data, room)

    pusher = Pusher()
    pushed, stored = flush_positions(PositionStore(runtime_of(live).redis), pusher, sessions)
    assert (pushed, stored) == (10, 10)
    rooms = [tuple(room) for _, room, _ in pusher.calls]  # one emit per set of rooms, each to a list of rooms
    assert len(rooms) == len(set(rooms)) and all(f"grid:{_unit(city).code}" in room for room in rooms)
    assert "all" not in {r for room in rooms for r in room}  # nobody joins "all": nothing is sent there
    assert sum(n for _, _, n in pusher.calls) == 10  # each position in one batch
    received = []
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and len(received) < len(rooms):
        message = pubsub.get_message(timeout=0.1)
        if message and message["type"] == "message":
            received.append(json.loads(message["data"]))
    assert {m["event"] for m in received} == {"positions"} and len(received) == len(rooms)
    assert count(engine, "officer_position") == 10
    assert count(engine, "officer_position", "event LIKE 'enter:%'") == 2
    assert all("device_id" not in p for m in received for p in m["data"])  # the map never sees a tracker
    with sessions() as session:  # each device's last fix is its last sign of life
        seen = {d.officer_id: d.last_seen_at for d in devices_of(session)}
    assert seen == {"GW1": T0 + timedelta(seconds=20), "ZF1": T0 + timedelta(seconds=20), "OFF": None}
    assert flush_positions(PositionStore(runtime_of(live).redis), pusher, sessions) == (0, 0)


def test_recommendations_are_nearest_available_officers_of_the_department(live, city, db):
    client = live.test_client()
    unit = _unit(city)
    lon, lat = inside(unit)
    gw1, zf1, off = (live.trackers[o] for o in ("GW1", "ZF1", "OFF"))
    client.get(f"/osmand?id={gw1}&lat={lat}&lon={lon + 0.002}&timestamp={_ts()}")  # ~190 m away, no department
    client.get(f"/osmand?id={zf1}&lat={lat}&lon={lon + 0.0005}&timestamp={_ts()}")  # ~50 m away
    client.get(f"/osmand?id={off}&lat={lat}&lon={lon}&timestamp={_ts()}")  # closest but off duty
    incident = report(client, city).json
    url = f"/api/v1/incidents/{incident['id']}/recommendations"
    assert client.get(url).json["items"] == []  # routed to HW: nobody of HW has a position (more: test_recommendations)
    items = client.get(f"{url}?department=CGZF").json["items"]
    assert [i["officer"]["id"] for i in items] == ["ZF1"]  # never GW1 (no department) nor OFF (off duty)
    assert 30 < items[0]["distance_m"] < 70
    act(client, incident["id"], "file")
    dispatched = act(client, incident["id"], "dispatch", department="CGZF", assignee="ZF1")
    assert dispatched.status_code == 200
    other = report(client, city).json
    again = client.get(f"/api/v1/incidents/{other['id']}/recommendations?department=CGZF").json["items"]
    assert [i["officer"]["id"] for i in again] == ["ZF1"]
    assert again[0]["officer"]["status"] == "busy" and again[0]["load"] == 1


def device_token(sessions, officer_id: str, *, kind: str = "device") -> tuple[str, str]:
    """The public id of the officer's live device and a new API token bound to it (for the test leader account)."""
    with sessions.begin() as session:
        device = next(d for d in devices_of(session, officer_id) if d.revoked_at is None)
        return device.id, grant_device_token(session, device.id, "test-leader", kind=kind, actor="tests", now=T0)


def test_positions_batch_endpoint(live, city, db):
    _, _, sessions = db
    device, token = device_token(sessions, "GW1")
    client = live.test_client()
    lon, lat = inside(_unit(city))
    body = {
        "positions": [
            {"device_id": device, "at": (T0 + timedelta(seconds=s)).isoformat(), "lon": lon, "lat": lat + s * 1e-5}
            for s in (10, 0)
        ]
        + [{"at": (T0 + timedelta(seconds=20)).isoformat(), "lon": lon, "lat": lat}]  # no id: the token's device
    }
    response = client.post("/api/v1/positions", json=body, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and response.json["accepted"] == 3
    assert {r["device_id"] for r in response.json["results"]} == {device}
    empty = client.post("/api/v1/positions", json={"positions": []}, headers={"Authorization": f"Bearer {token}"})
    assert empty.status_code == 422


def test_officer_goes_stale_then_offline(live, city, clock):
    client = live.test_client()
    lon, lat = inside(_unit(city))
    client.get(f"/osmand?id={live.trackers['GW1']}&lat={lat}&lon={lon}&timestamp={_ts()}")
    status = lambda: next(o for o in client.get("/api/v1/officers").json["items"] if o["id"] == "GW1")["status"]
    assert status() == "on_duty"
    clock.now = T0 + timedelta(minutes=5)
    assert status() == "stale"
    clock.now = T0 + timedelta(minutes=20)
    assert status() == "offline"


def test_history_waits_in_redis_when_the_database_write_fails(live, city, db):
    """A failed history insert loses nothing: the rows are written by the next flush."""
    _, engine, sessions = db
    client = live.test_client()
    lon, lat = inside(_unit(city))
    for i in range(3):
        client.get(f"/osmand?id={live.trackers['GW1']}&lat={lat}&lon={lon}&timestamp={_ts(i * 5)}")
    store = PositionStore(runtime_of(live).redis)

    class Quiet:
        def emit_each(self, event, items):
            pass

    class BrokenSessions:
        def __call__(self):
            return sessions()

        def begin(self):
            raise RuntimeError("database unavailable")

    with pytest.raises(RuntimeError):
        flush_positions(store, Quiet(), BrokenSessions())
    assert count(engine, "officer_position") == 0
    assert flush_positions(store, Quiet(), sessions) == (0, 3)
    assert count(engine, "officer_position") == 3


def test_trackers_get_a_clean_503_while_redis_is_away(live, city):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"  # nothing listens once the socket closes
    runtime = runtime_of(live)
    lon, lat = inside(_unit(city))
    queries = [f"/osmand?id={who}&lat={lat}&lon={lon}&timestamp={_ts()}" for who in (live.trackers["GW1"], "guess")]
    runtime.redis, working = redis_lib.Redis.from_url(dead, socket_connect_timeout=0.5), runtime.redis
    try:
        for query in queries:
            response = live.test_client().get(query)
            assert response.status_code == 503 and response.json["error"]["code"] == "positions_unavailable"
    finally:
        runtime.redis = working
    assert live.test_client().get(queries[0]).json["accepted"]  # nothing was stored meanwhile; back with Redis
