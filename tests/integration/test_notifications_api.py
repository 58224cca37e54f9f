"""Notifications over the API and live, on both backends: a user sees, reads and clears only their own; a
notification's live event, relayed by the real outbox relay, reaches only its recipient's sockets; the schema of
the model equals the migration's."""

from __future__ import annotations

import json
import time

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskClient
from rq import Queue

from dispatcher.notify import user_room
from dispatcher.notify.model import Notification
from dispatcher.notify.service import Kind, notify, unread_count
from dispatcher.schema import Base
from dispatcher.store.db import make_engine
from dispatcher.store.migrate import upgrade
from tests.conftest import T0, TEST_PASSWORD
from tests.integration.helpers import report
from tests.integration.test_hotline_page import callback, dash_server, page  # noqa: F401
from tests.integration.test_realtime_auth import _server_rooms, listeners, live, signed_in  # noqa: F401
from tests.integration.test_scope_matrix import make_account

OWN = "http://localhost"


@pytest.fixture
def people(db):
    """Two users of one department and their bearer tokens; their notifications are removed afterwards."""
    _, engine, sessions = db
    made = [make_account(sessions, "dept_handler", None, "HW") for _ in range(2)]
    yield sessions, made
    with engine.begin() as conn:
        conn.execute(sa.delete(Notification.__table__))


def _tell(sessions, usernames, text, incident_id=None, **kwargs):
    with sessions.begin() as session:
        rows = notify(
            session, recipients=usernames, kind=Kind.DISPATCH, text=text, incident_id=incident_id, now=T0, **kwargs
        )
        return [row.id for row in rows]


def _as(token):
    return {"Authorization": f"Bearer {token}"}


def test_a_user_sees_reads_and_clears_only_their_own(anonymous, people, client, city):
    sessions, [(ann, ann_token), (bob, bob_token)] = people
    incident_id = report(client, city).json["id"]
    [first] = _tell(sessions, [ann.username], "派遣：道路积水", incident_id)
    _tell(sessions, [ann.username], "第二条")
    [bobs] = _tell(sessions, [bob.username], "bob only")

    inbox = anonymous.get("/api/v1/notifications", headers=_as(ann_token))
    assert inbox.status_code == 200
    assert inbox.json["unread"] == 2
    assert {i["text"] for i in inbox.json["items"]} == {"派遣：道路积水", "第二条"}
    assert next(i for i in inbox.json["items"] if i["id"] == first)["incident_id"] == incident_id

    foreign = anonymous.post(f"/api/v1/notifications/{bobs}/read", headers=_as(ann_token))
    assert foreign.status_code == 404 and bobs in foreign.json["error"]["message"]
    read = anonymous.post(f"/api/v1/notifications/{first}/read", headers=_as(ann_token))
    assert read.status_code == 200 and read.json["read_at"] is not None
    unread = anonymous.get("/api/v1/notifications?unread=true&limit=10", headers=_as(ann_token)).json
    assert unread["unread"] == 1 and [i["text"] for i in unread["items"]] == ["第二条"]

    cleared = anonymous.post("/api/v1/notifications/read-all", headers=_as(ann_token))
    assert cleared.status_code == 200 and cleared.json["marked"] == 1
    assert anonymous.get("/api/v1/notifications", headers=_as(ann_token)).json["unread"] == 0
    assert anonymous.get("/api/v1/notifications", headers=_as(bob_token)).json["unread"] == 1  # bob's untouched


def test_the_inbox_needs_a_credential_and_a_sane_limit(anonymous, people):
    _, [(_, token), _] = people
    assert anonymous.get("/api/v1/notifications").status_code == 401
    assert anonymous.post("/api/v1/notifications/read-all").status_code == 401
    for bad in ("limit=0", "limit=201", "limit=x", "unread=maybe"):
        assert anonymous.get(f"/api/v1/notifications?{bad}", headers=_as(token)).status_code == 422, bad


def test_cookie_sessions_need_this_origin_to_mark_read(app, people):
    sessions, [(ann, _), _] = people
    [mine] = _tell(sessions, [ann.username], "x")
    app.test_client_class = FlaskClient
    browser = app.test_client()
    login = {"username": ann.username, "password": TEST_PASSWORD}
    assert browser.post("/api/v1/auth/login", json=login, headers={"Origin": OWN}).status_code == 200
    assert browser.get("/api/v1/notifications").json["unread"] == 1
    assert (
        browser.post(f"/api/v1/notifications/{mine}/read", headers={"Origin": "https://evil.example"}).status_code
        == 403
    )
    assert browser.post("/api/v1/notifications/read-all").status_code == 403  # no Origin, no Referer
    assert browser.post("/api/v1/notifications/read-all", headers={"Origin": OWN}).json["marked"] == 1


class InProcessPusher:
    """The relay's pusher, emitting through the test server's own Socket.IO (the test server has no Redis)."""

    def __init__(self, socketio):
        self.socketio = socketio

    def push(self, message, rooms):
        for room in rooms:
            self.socketio.emit("incident", message, to=room, namespace="/")


def _relay(monkeypatch, sessions, socketio, redis_url):
    """Run the real outbox relay (workers.jobs.relay_outbox) with this test's database and server."""
    import redis

    from workers import jobs
    from workers.context import WorkerContext

    conn = redis.Redis.from_url(redis_url)
    ctx = WorkerContext(
        sessions=sessions, redis=conn, queue=Queue("gc-notify-test", connection=conn), pusher=InProcessPusher(socketio)
    )
    monkeypatch.setattr(jobs, "worker_context", lambda: ctx)
    return jobs.relay_outbox()


def _wait(predicate, seconds=3.0):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    time.sleep(0.3)  # anything misdirected would have arrived by now too


def test_a_live_notification_reaches_only_its_recipient(live, listeners, people, monkeypatch, redis_url):  # noqa: F811
    base, socketio = live
    sessions, [(ann, _), (bob, _)] = people
    shift, _ = make_account(sessions, "shift_leader", "330199", None)
    sockets = {}
    for principal in (ann, bob, shift):
        sockets[principal.username] = listeners(signed_in(base, principal.username))
        sockets[principal.username].connect(base)
    bell = listeners(signed_in(base, ann.username))
    bell.client.connect(base, transports=["polling"], wait_timeout=10, auth={"rooms": "user"})
    assert _server_rooms(socketio, bell) == {user_room(ann.username)}  # the bell's socket: the user's room only
    assert user_room(ann.username) in _server_rooms(socketio, sockets[ann.username])

    [notification_id] = _tell(sessions, [ann.username], "请尽快处置")
    assert _relay(monkeypatch, sessions, socketio, redis_url) >= 1
    _wait(lambda: sockets[ann.username].received and bell.received)

    for listener in (sockets[ann.username], bell):
        [(_, message)] = listener.received
        assert message["name"] == "notification.new"
        assert message["data"]["notification"]["id"] == notification_id
    assert sockets[bob.username].received == [] and sockets[shift.username].received == []


def test_resync_replays_a_notification_to_its_recipient_only(live, listeners, people):  # noqa: F811
    base, _ = live
    sessions, [(ann, _), (bob, _)] = people
    _tell(sessions, [ann.username], "补发")
    answers = {}
    for principal in (ann, bob):
        listener = listeners(signed_in(base, principal.username))
        listener.connect(base)
        answers[principal.username] = listener.client.call("resync", {"after_seq": 0}, timeout=5)
    assert answers[ann.username]["replayed"] == 1 and answers[bob.username]["replayed"] == 0


def test_the_notification_model_equals_its_migration(tmp_path, backend):
    url, engine = backend
    fresh = engine if url.startswith("postgresql") else make_engine(f"sqlite:///{tmp_path / 'm.sqlite'}")
    upgrade(fresh)
    with fresh.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    mine = [d for d in diff if "notification" in repr(d)]
    assert mine == []


def test_the_bell_shows_the_count_and_the_latest_and_marks_all_read(dash_server, anonymous, people, client, city):  # noqa: F811
    sessions, [(ann, token), (bob, _)] = people
    incident_id = report(client, city).json["id"]
    _tell(sessions, [ann.username], "派遣：井盖缺失", incident_id)
    _tell(sessions, [bob.username], "not for ann")
    assert '"gc-bell-btn"' in page(anonymous, token, "/triage")  # in every page's header
    inputs = [("gc-bell-tick", "n_intervals", 1), ("gc-bell-socket", "data-incident", None)]
    inputs += [("gc-bell-read-all", "n_clicks", None), ("gc-bell-btn", "n_clicks", None)]
    shown = callback(anonymous, token, "..gc-bell-n.children", inputs, [("gc-lang", "data", "zh")])
    listing = json.dumps(shown, ensure_ascii=False)
    assert shown["gc-bell-n"]["children"] == "1"
    assert "派遣：井盖缺失" in listing and f"/work?incident={incident_id}" in listing and "not for ann" not in listing
    inputs[2] = ("gc-bell-read-all", "n_clicks", 1)
    cleared = callback(
        anonymous, token, "..gc-bell-n.children", inputs, [("gc-lang", "data", "en")], "gc-bell-read-all.n_clicks"
    )
    assert cleared["gc-bell-n"]["children"] == ""
    with sessions() as session:
        assert unread_count(session, ann.username) == 0 and unread_count(session, bob.username) == 1
