"""GET /api/v1/feed, the command center's incident feed as the browser's own Socket.IO client fetches it
(assets/desk_live.js): the scope rules of the page (a case outside the caller's scope is never sent, a case that
left it comes back as gone), the page's record shape, the sequence number to ask after next, and a bad `after` is a
400 naming the parameter. Both backends."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from dashboard.api.feed import MAX_SEQ
from dispatcher.cases.scope import can_see
from dispatcher.store.outbox import OutboxEvent
from tests.integration.helpers import act
from tests.integration.test_scope_matrix import (  # noqa: F401
    _visible,
    bearer,
    dash_server,
    make_account,
    world,
)

RECORD_KEYS = {"id", "n", "lon", "lat", "s", "u", "o", "l", "c", "cn", "ce", "st", "cm", "d", "t", "dl", "dep"}


def _last_seq(sessions) -> int:
    with sessions() as session:
        return max(session.scalars(select(OutboxEvent.id)), default=0)


@pytest.mark.parametrize("scope", ["district", "street", "hw"])
def test_the_feed_sends_only_the_callers_scope_in_the_pages_record_shape(world, client, db, scope):  # noqa: F811
    _, _, sessions = db
    region, dept = {"district": ("330199", None), "street": (world["street"], None), "hw": (None, "HW")}[scope]
    principal, token = make_account(sessions, "dispatcher", region, dept)
    visible = _visible(principal, world)
    foreign = set(world["incidents"]) - visible
    assert visible and (foreign or scope == "district")

    everything = client.get("/api/v1/feed", headers=bearer(token))
    assert everything.status_code == 200, everything.json
    assert set(everything.json["all"]) == visible  # every one is open
    assert everything.json["seq"] == _last_seq(sessions)

    delta = client.get("/api/v1/feed?after=0", headers=bearer(token))
    assert delta.status_code == 200, delta.json
    body = delta.json
    assert set(body["up"]) == visible and not set(body["up"]) & foreign
    assert all(i not in body["gone"] for i in foreign)  # not even their ids
    assert body["seq"] == _last_seq(sessions) and body["more"] is False
    for incident_id, record in body["up"].items():
        assert set(record) == RECORD_KEYS and record["id"] == incident_id
        assert record == everything.json["all"][incident_id]
    text = delta.get_data(as_text=True)
    for incident_id in foreign:
        assert incident_id not in text and world["incidents"][incident_id].description not in text

    again = client.get(f"/api/v1/feed?after={body['seq']}", headers=bearer(token)).json
    assert again == {"up": {}, "gone": [], "seq": body["seq"], "more": False}  # nothing changed since


def test_a_change_is_sent_to_the_scope_only_and_a_closed_case_comes_back_gone(world, client, db):  # noqa: F811
    _, _, sessions = db
    inside, inside_token = make_account(sessions, "dispatcher", world["street"], None)
    _, outside_token = make_account(sessions, "dispatcher", world["other_street"], None)
    mine = [i for i in world["incidents"].values() if can_see(inside, i)]
    filed = next(i for i in mine if i.status == "filed")
    reported = next(i for i in mine if i.status == "reported")
    seq = _last_seq(sessions)

    assert act(client, filed.id, "dispatch", department=filed.department_code).status_code == 200
    seen = client.get(f"/api/v1/feed?after={seq}", headers=bearer(inside_token)).json
    assert list(seen["up"]) == [filed.id] and seen["up"][filed.id]["s"] == "dispatched" and seen["seq"] > seq
    unseen = client.get(f"/api/v1/feed?after={seq}", headers=bearer(outside_token)).json
    assert unseen == {"up": {}, "gone": [], "seq": seen["seq"], "more": False}  # moves on past the event all the same

    assert act(client, reported.id, "void", reason="重复上报").status_code == 200
    closed = client.get(f"/api/v1/feed?after={seen['seq']}", headers=bearer(inside_token)).json
    assert closed["up"] == {} and closed["gone"] == [reported.id] and closed["seq"] > seen["seq"]


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "", " ", "１", str(MAX_SEQ + 1), "0x10", "1e3"])
def test_a_bad_after_is_a_400_naming_the_parameter(client, db, bad):
    _, _, sessions = db
    _, token = make_account(sessions, "dispatcher", "330199", None)
    answer = client.get("/api/v1/feed", query_string={"after": bad}, headers=bearer(token))
    assert answer.status_code == 400, (bad, answer.status_code, answer.get_data(as_text=True))
    error = answer.json["error"]
    assert error["field"] == "after" and "after" in error["message"]


def test_the_feed_needs_a_signed_in_caller(anonymous):
    assert anonymous.get("/api/v1/feed?after=0").status_code == 401
