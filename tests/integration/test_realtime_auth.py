"""Security test 12 (docs QUALITY.md) against a real Socket.IO server: connecting needs a valid session and one of
the server's own origins, a client joins exactly the rooms of its scope, a foreign room is refused, an absurd resync
gets an error answer, and the sockets of an ended session (sign-out, disabled account, new password) close within 5 s."""

from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio as socketio_client
from werkzeug.serving import make_server

from dashboard.runtime import runtime_of
from dispatcher.access.accounts import Account
from dispatcher.access.roster import set_password
from dispatcher.cases.scope import rooms
from tests.conftest import TEST_PASSWORD
from tests.integration.helpers import inside
from tests.integration.test_scope_matrix import make_account

CLOSE_WITHIN_S = 5.0


PUBLIC_URL = "https://city.example.gov.cn"


def _serve(app, settings):
    """Mount Dash and Socket.IO on `app` and serve it over HTTP on a free port (threaded, like `serve`)."""
    from dashboard.pages import mount_dash
    from dashboard.realtime import socketio

    mount_dash(app, settings)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", socketio
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.fixture
def live(app):
    """The app with Dash and Socket.IO mounted, served over HTTP on a free port."""
    yield from _serve(app, runtime_of(app).settings)


@pytest.fixture
def live_behind_proxy(app):
    """The same, configured with a public URL (as behind a TLS proxy that forwards to it)."""
    from dashboard.app import create_server

    runtime = runtime_of(app)
    settings = runtime.settings.model_copy(update={"public_url": PUBLIC_URL})
    yield from _serve(create_server(settings, runtime), settings)


def signed_in(base: str, username: str) -> requests.Session:
    http = requests.Session()
    response = http.post(
        f"{base}/login",
        data={"username": username, "password": TEST_PASSWORD},
        headers={"Origin": base},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 303, response.text
    return http


class Listener:
    """A Socket.IO client that records the events it receives."""

    def __init__(self, http: requests.Session | None = None):
        self.client = socketio_client.Client(http_session=http, reconnection=False)
        self.received: list[tuple[str, object]] = []
        self.client.on("incident", lambda data: self.received.append(("incident", data)))
        self.client.on("positions", lambda data: self.received.append(("positions", data)))

    def connect(self, base: str, origin: str | None = None) -> None:
        headers = {"Origin": origin} if origin else {}
        self.client.connect(base, headers=headers, transports=["polling"], wait_timeout=10)

    def close(self) -> None:
        if self.client.connected:
            self.client.disconnect()


@pytest.fixture
def listeners():
    made: list[Listener] = []

    def _make(http=None) -> Listener:
        made.append(Listener(http))
        return made[-1]

    yield _make
    for listener in made:
        listener.close()


def _server_rooms(socketio, listener: Listener) -> set[str]:
    sid = listener.client.get_sid("/")
    return set(socketio.server.rooms(sid, namespace="/")) - {sid}


def test_connect_without_a_session_is_refused(live, listeners):
    base, _ = live
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        listeners().connect(base)
    forged = requests.Session()
    forged.cookies.set("session", "eyJhY2NvdW50X2lkIjoieCJ9.forged.signature", domain="127.0.0.1")
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        listeners(forged).connect(base)


@pytest.mark.parametrize("region, department", [("330199", None), ("330199001", None), (None, "HW")])
def test_a_signed_in_client_joins_exactly_the_rooms_of_its_scope(live, listeners, db, region, department):
    base, socketio = live
    _, _, sessions = db
    principal, _ = make_account(sessions, "dispatcher", region, department)
    listener = listeners(signed_in(base, principal.username))
    listener.connect(base)
    assert _server_rooms(socketio, listener) == set(rooms(principal))
    assert "all" not in _server_rooms(socketio, listener)

    own, foreign = rooms(principal)[0], "grid:330199002" if region != "330199" else "dept:CGZF"
    for room in (foreign, "all", "dept:SW", own):
        socketio.emit("incident", {"room": room}, to=room, namespace="/")
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not listener.received:
        time.sleep(0.05)
    time.sleep(0.5)  # anything foreign would have arrived by now too
    assert [data["room"] for _, data in listener.received] == [own]


def test_joining_a_room_outside_the_scope_is_refused(live, listeners, db):
    base, socketio = live
    _, _, sessions = db
    principal, _ = make_account(sessions, "dept_handler", None, "HW")
    listener = listeners(signed_in(base, principal.username))
    listener.connect(base)
    for room in ("all", "dept:CGZF", "grid:330199", "triage", "user:someone-else", None, {"room": ["dept:HW"]}):
        answer = listener.client.call("join", {"room": room} if not isinstance(room, dict) else room, timeout=5)
        assert answer.get("error") == "forbidden", (room, answer)
    assert _server_rooms(socketio, listener) == {"dept:HW", f"user:{principal.username}"}
    assert listener.client.call("join", {"room": "dept:HW"}, timeout=5) == {"joined": "dept:HW"}


def test_resync_replays_only_events_of_the_scope(live, listeners, db, client, city):
    base, _ = live
    _, _, sessions = db
    streets: dict = {}
    for unit in city.grids.by_level("unit"):
        street = city.grids.path_of(unit.code).street
        if street not in streets and street not in ("330199003", "330199005"):
            streets[street] = unit
        if len(streets) == 2:
            break
    created = {}
    for street, unit in streets.items():
        lon, lat = inside(unit)
        created[street] = client.post(
            "/api/v1/incidents", json={"description": "resync", "category_code": "020201", "lon": lon, "lat": lat}
        ).json["id"]
    mine = next(iter(streets))
    principal, _ = make_account(sessions, "dispatcher", mine, None)
    listener = listeners(signed_in(base, principal.username))
    listener.connect(base)
    answer = listener.client.call("resync", {"after_seq": 0}, timeout=5)
    time.sleep(0.3)
    ids = {data["incident_id"] for name, data in listener.received if name == "incident"}
    assert answer["replayed"] == 1 and ids == {created[mine]}


@pytest.mark.parametrize(
    "after_seq", [2**70, 2**63, -1, -(2**70), 1.5, float("inf"), float("nan"), "x", "12", None, True]
)
def test_resync_with_an_absurd_sequence_number_gets_an_error_answer(live, listeners, db, after_seq):
    """Huge, negative or non-integer sequence numbers used to raise inside the handler (no answer at all)."""
    base, _ = live
    _, _, sessions = db
    principal, _ = make_account(sessions, "dispatcher", "330199", None)
    listener = listeners(signed_in(base, principal.username))
    listener.connect(base)
    answer = listener.client.call("resync", {"after_seq": after_seq}, timeout=5)
    assert answer == {"error": "after_seq must be an integer from 0 to 9223372036854775807"}
    for data in ("x", None, [1], {"after_seq": {"$gt": 0}}):
        assert "error" in listener.client.call("resync", data, timeout=5)
    assert listener.client.call("resync", {"after_seq": 2**63 - 1}, timeout=5)["replayed"] == 0
    assert listener.client.connected


def test_a_socket_from_a_foreign_origin_is_refused(live, listeners, db):
    """Cross-site WebSocket hijacking: a page elsewhere opening a socket with the user's cookie gets nothing."""
    base, _ = live
    _, _, sessions = db
    principal, _ = make_account(sessions, "dispatcher", "330199", None)
    http = signed_in(base, principal.username)
    for origin in ("http://evil.example", "null", "http://127.0.0.1.evil.example", PUBLIC_URL):
        with pytest.raises(socketio_client.exceptions.ConnectionError):
            listeners(http).connect(base, origin=origin)
    own = listeners(http)
    own.connect(base, origin=base)
    assert own.client.connected


def test_behind_a_proxy_the_public_url_is_an_own_origin(live_behind_proxy, listeners, db):
    base, _ = live_behind_proxy
    _, _, sessions = db
    principal, _ = make_account(sessions, "dispatcher", "330199", None)
    http = signed_in(base, principal.username)
    cookie = http.cookies.get("session")  # Secure (the public URL is https); the proxy's TLS is left out here
    http.cookies.clear()
    http.cookies.set("session", cookie, domain="127.0.0.1")
    via_proxy = listeners(http)
    via_proxy.connect(base, origin=PUBLIC_URL)
    assert via_proxy.client.connected
    with pytest.raises(socketio_client.exceptions.ConnectionError):
        listeners(http).connect(base, origin="https://evil.example")


@pytest.mark.parametrize("change", ["disabled", "signed out", "new password"])
def test_the_socket_of_an_ended_session_closes_within_5_s(live, listeners, db, clock, change):
    base, _ = live
    _, _, sessions = db
    principal, _ = make_account(sessions, "shift_leader", "330199", None)
    bystander, _ = make_account(sessions, "shift_leader", "330199", None)
    http = signed_in(base, principal.username)
    listener = listeners(http)
    listener.connect(base)
    other = listeners(signed_in(base, bystander.username))
    other.connect(base)
    closed = threading.Event()
    listener.client.on("disconnect", lambda *args: closed.set())
    time.sleep(0.2)
    assert listener.client.connected
    kept = http.cookies.get("session")
    if change == "signed out":
        out = http.post(f"{base}/logout", headers={"Origin": base}, allow_redirects=False, timeout=10)
        assert out.status_code == 303
        http.cookies.set("session", kept, domain="127.0.0.1")  # a copy of the cookie, kept somewhere
    else:
        with sessions.begin() as session:
            if change == "disabled":
                session.get(Account, principal.account_id).disabled = True
            else:
                set_password(session, principal.username, "a brand new pass phrase", actor="admin", now=clock())
    started = time.monotonic()
    assert closed.wait(CLOSE_WITHIN_S + 1), "the socket was not closed"
    assert time.monotonic() - started <= CLOSE_WITHIN_S
    assert other.client.connected  # only that user's sockets
    with pytest.raises(socketio_client.exceptions.ConnectionError):  # and the old session cannot reconnect
        again = listeners(listener.client.eio.http)
        again.connect(base)
