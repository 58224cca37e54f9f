"""The field app's own endpoints: an officer shares their position from the phone through the trackers' path (noise
filter, latest position, push), only their own and only when the account is an officer's; and the actions a
person may take on a case are exactly those the engine would let them perform."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis as redis_lib
from flask.testing import FlaskClient
from sqlalchemy import select

from dashboard.runtime import runtime_of
from dispatcher.access.accounts import Account
from dispatcher.access.roles import Role
from dispatcher.access.roster import create_account, ensure_demo_accounts, find, load_demo_accounts
from dispatcher.errors import Invalid
from dispatcher.fleet.officers import Officer, check_link, link_account, load_roster
from dispatcher.settings import REPO_ROOT
from dispatcher.store.db import make_engine, make_sessions
from dispatcher.store.migrate import upgrade
from tests.conftest import T0
from tests.integration.helpers import act, inside, report
from tests.integration.test_cli import database_url, run, upgraded  # noqa: F401

PASSWORD = "a long phone password"
ORIGIN = {"Origin": "http://localhost"}


def _account(app, username: str, role: Role, *, region: str | None = None, department: str | None = None) -> None:
    """An account with PASSWORD (accounts outlive a test: made once per backend)."""
    with runtime_of(app).sessions.begin() as session:
        if session.scalar(select(Account).where(Account.username == username)) is not None:
            return
        create_account(
            session,
            username=username,
            display_name=username,
            role=role,
            region_code=region,
            department_code=department,
            password=PASSWORD,
            actor="test",
            now=T0,
        )


def phone(app, username: str) -> FlaskClient:
    """A browser signed in as `username` the way the field app does it (POST /api/v1/auth/login, cookie)."""
    client = FlaskClient(app, app.response_class, use_cookies=True)  # no bearer token: the cookie signs it in
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    response = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.json
    return client


@pytest.fixture
def officers(app, redis_url, city):
    """Redis positions on, and a grid worker whose account `wangfang` is linked to officer GW7."""
    runtime_of(app).redis = redis_lib.Redis.from_url(redis_url)
    community = city.grids.by_level("community")[0].code
    _account(app, "wangfang", Role.GRID_WORKER, region=community)
    with runtime_of(app).sessions.begin() as session:
        session.merge(Officer(id="GW7", name="王芳", role="grid_worker", grid_community=community, device_id="dev-7"))
        session.flush()
        link_account(session, find(session, "wangfang"), "GW7", actor="test", now=T0)
    _account(app, "seat", Role.DISPATCHER, region="330199")
    return app


def test_an_officer_shares_their_position_and_the_command_center_sees_it(officers, client, city):
    lon, lat = inside(city.grids.by_level("unit")[10])
    me = phone(officers, "wangfang")
    assert me.get("/api/v1/me/officer").json == {"officer_id": "GW7", "name": "王芳", "on_duty": True}
    sent = me.post("/api/v1/me/position", json={"lon": lon, "lat": lat, "accuracy_m": 12.0})
    assert sent.status_code == 200 and sent.json == {"accepted": True, "reason": None, "officer_id": "GW7"}
    seen = next(o for o in client.get("/api/v1/officers").json["items"] if o["id"] == "GW7")
    assert seen["position"]["lon"] == pytest.approx(lon) and seen["position"]["accuracy_m"] == 12.0


def test_noise_from_a_phone_is_filtered_like_a_trackers(officers, city):
    lon, lat = inside(city.grids.by_level("unit")[10])
    me = phone(officers, "wangfang")
    vague = me.post("/api/v1/me/position", json={"lon": lon, "lat": lat, "accuracy_m": 900})
    assert vague.status_code == 200 and vague.json["accepted"] is False and "accuracy" in vague.json["reason"]
    first = {"lon": lon, "lat": lat, "accuracy_m": 10, "at": (T0 - timedelta(seconds=10)).isoformat()}
    assert me.post("/api/v1/me/position", json=first).json["accepted"] is True
    jump = me.post("/api/v1/me/position", json={"lon": lon + 0.5, "lat": lat, "accuracy_m": 10, "at": T0.isoformat()})
    assert jump.json["accepted"] is False and "speed" in jump.json["reason"]


def test_only_an_officers_account_posts_and_only_its_own_position(officers, anonymous, city):
    lon, lat = inside(city.grids.by_level("unit")[10])
    seat = phone(officers, "seat")
    assert seat.get("/api/v1/me/officer").json["officer_id"] is None
    refused = seat.post("/api/v1/me/position", json={"lon": lon, "lat": lat})
    assert refused.status_code == 403 and "not linked to an officer" in refused.json["error"]["message"]
    me = phone(officers, "wangfang")
    for other in ({"officer_id": "ZF1"}, {"device_id": "dev-1"}):
        assert me.post("/api/v1/me/position", json={"lon": lon, "lat": lat, **other}).status_code == 422
    assert anonymous.post("/api/v1/me/position", json={"lon": lon, "lat": lat}).status_code == 401
    cross = me.post("/api/v1/me/position", json={"lon": lon, "lat": lat}, headers={"Origin": "http://evil.example"})
    assert cross.status_code == 403


def test_my_actions_are_what_the_engine_lets_this_person_do(app, client, city):
    _account(app, "hw-phone", Role.DEPT_HANDLER, department="HW")
    _account(app, "gw-phone", Role.GRID_WORKER, region=city.grids.by_level("community")[0].code)
    case = report(client, city, category="020101").json
    assert act(client, case["id"], "file").status_code == 200
    assert act(client, case["id"], "dispatch", department="HW").status_code == 200
    handler = phone(app, "hw-phone")
    offered = handler.get(f"/api/v1/me/actions/{case['id']}").json["actions"]
    assert "claim" in offered and "dispatch" not in offered and "verify" not in offered
    claimed = handler.post(f"/api/v1/incidents/{case['id']}/actions/claim", json={})
    assert claimed.status_code == 200 and claimed.json["status"] == "claimed"
    assert {"handle", "return", "request_extend", "request_suspend"} <= set(
        handler.get(f"/api/v1/me/actions/{case['id']}").json["actions"]
    )
    outsider = phone(app, "gw-phone")
    assert outsider.get("/api/v1/me/actions/no-such-case").status_code == 404


def test_a_link_joins_one_account_to_one_officer_of_its_role_and_department(officers, city):
    _account(officers, "zf-phone", Role.ENFORCEMENT, region="330199", department="CGZF")
    _account(officers, "wangfang2", Role.GRID_WORKER, region=city.grids.by_level("community")[0].code)
    with runtime_of(officers).sessions.begin() as session:
        session.merge(Officer(id="ZF7", name="孙磊", role="enforcement", department_code="CGZF", device_id="dev-z7"))
        session.flush()
        with pytest.raises(Invalid, match="enforcement account cannot be the grid_worker"):
            link_account(session, find(session, "zf-phone"), "GW7", actor="test", now=T0)
        with pytest.raises(Invalid, match="already linked to wangfang"):
            link_account(session, find(session, "wangfang2"), "GW7", actor="test", now=T0)
        link_account(session, find(session, "zf-phone"), "ZF7", actor="test", now=T0)
    zf = phone(officers, "zf-phone")
    assert zf.get("/api/v1/me/officer").json == {"officer_id": "ZF7", "name": "孙磊", "on_duty": True}
    with runtime_of(officers).sessions.begin() as session:
        link_account(session, find(session, "zf-phone"), None, actor="test", now=T0)
    assert zf.get("/api/v1/me/officer").json["officer_id"] is None


def test_the_demo_field_accounts_are_linked_to_roster_officers_of_their_role(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite'}")  # not the shared backend: no extra leaders there
    upgrade(engine)
    sessions = make_sessions(engine)
    rows = load_demo_accounts(REPO_ROOT / "data" / "demo_city" / "accounts.yaml")
    roster = {o.id: o for o in load_roster(REPO_ROOT / "data" / "demo_city" / "officers.yaml")}
    linked = {row["username"]: row["officer_id"] for row in rows if row.get("officer_id")}
    assert {"gridworker", "hw-handler", "zf-officer"} <= set(linked) and len(set(linked.values())) == len(linked)
    with sessions.begin() as session:
        ensure_demo_accounts(session, rows, now=T0)
        for username, officer_id in linked.items():
            account = find(session, username)
            assert account.officer_id == officer_id
            check_link(account, roster[officer_id])
    engine.dispose()


def test_without_the_position_store_a_fix_is_a_503_to_retry_not_an_error(app, city):
    with runtime_of(app).sessions.begin() as session:
        session.merge(Officer(id="GW7", name="王芳", role="grid_worker", device_id="dev-7"))
    _account(app, "GW7", Role.GRID_WORKER, region=city.grids.by_level("community")[0].code)
    lon, lat = inside(city.grids.by_level("unit")[10])
    answer = phone(app, "GW7").post("/api/v1/me/position", json={"lon": lon, "lat": lat})
    assert answer.status_code == 503 and answer.json["error"]["code"] == "positions_unavailable"
    # an account without a link still is the officer named by its username (the simulator's service accounts)


def test_the_command_line_links_an_account_to_an_officer_and_refuses_a_mismatch(upgraded):  # noqa: F811
    roster = str(REPO_ROOT / "data" / "demo_city" / "officers.yaml")
    assert run("import-officers", roster).exit_code == 0
    assert (
        run(
            "accounts",
            "create",
            "fan-chun",
            "--name",
            "网格员 范春",
            "--role",
            "grid_worker",
            "--region",
            "330199001001",
        ).exit_code
        == 0
    )
    linked = run("accounts", "link", "fan-chun", "GW0010011")
    assert linked.exit_code == 0 and "fan-chun is now officer GW0010011" in linked.output
    wrong = run("accounts", "link", "fan-chun", "ZF00101")
    assert wrong.exit_code == 2 and "cannot be the enforcement ZF00101" in wrong.output
    engine = make_engine(upgraded)
    with make_sessions(engine)() as session:
        assert find(session, "fan-chun").officer_id == "GW0010011"
    engine.dispose()
    assert run("accounts", "link", "fan-chun").exit_code == 0
