"""Signing in: passwords, lockout, TOTP for privileged roles, session timeouts, disabled accounts, tokens."""

from datetime import timedelta

import pyotp
import pytest

from dispatcher.access.roles import Role
from dispatcher.access.roster import create_account, disable, grant_token
from tests.conftest import T0
from tests.integration.helpers import count

PASSWORD = "s3cret-pass-phrase"


@pytest.fixture
def accounts(db, request):
    """A dispatcher and a leader (TOTP) with unique names for this test."""
    _, _, sessions = db
    tag = request.node.name[-40:].replace("[", "-").replace("]", "")
    with sessions.begin() as session:
        create_account(
            session,
            username=f"d-{tag}",
            display_name="坐席",
            role=Role.DISPATCHER,
            region_code="330199",
            department_code=None,
            password=PASSWORD,
            actor="test",
            now=T0,
        )
        leader = create_account(
            session,
            username=f"l-{tag}",
            display_name="领导",
            role=Role.LEADER,
            region_code="330199",
            department_code=None,
            password=PASSWORD,
            actor="test",
            now=T0,
        )
        secret = leader.totp_secret
    return {"dispatcher": f"d-{tag}", "leader": f"l-{tag}", "secret": secret}


@pytest.fixture
def browser(anonymous):
    """A same-origin browser: it sends Origin with its POSTs, as every browser does."""
    anonymous.environ_base["HTTP_ORIGIN"] = "http://localhost"
    return anonymous


def login(client, username, password=PASSWORD, totp=None):
    body = {"username": username, "password": password} | ({"totp": totp} if totp else {})
    return client.post("/api/v1/auth/login", json=body)


def test_every_api_call_needs_credentials(anonymous):
    for method, path in [
        ("get", "/api/v1/incidents"),
        ("get", "/api/v1/officers"),
        ("get", "/api/v1/locate?lon=1&lat=1"),
        ("post", "/api/v1/incidents"),
        ("get", "/api/v1/events"),
        ("get", "/api/v1/auth/me"),
    ]:
        response = getattr(anonymous, method)(path)
        assert response.status_code == 401 and response.json["error"]["code"] == "unauthenticated", path
    assert anonymous.get("/api/v1/openapi.json").status_code == 200
    assert anonymous.get("/api/v1/incidents", headers={"Authorization": "Bearer gc_forged"}).status_code == 401


def test_password_login_starts_a_session(browser, accounts):
    assert login(browser, accounts["dispatcher"], "wrong").status_code == 401
    response = login(browser, accounts["dispatcher"])
    assert response.status_code == 200 and response.json["role"] == "dispatcher"
    assert browser.get("/api/v1/auth/me").json["username"] == accounts["dispatcher"]
    assert browser.get("/api/v1/incidents").status_code == 200
    browser.post("/api/v1/auth/logout")
    assert browser.get("/api/v1/incidents").status_code == 401


def test_the_session_cookie_changes_on_login(browser, accounts):
    browser.get("/api/v1/auth/me")
    before = browser.get_cookie("session")
    login(browser, accounts["dispatcher"])
    after = browser.get_cookie("session")
    assert after is not None and (before is None or before.value != after.value)


def test_repeated_failures_lock_the_account(browser, accounts):
    for _ in range(5):
        assert login(browser, accounts["dispatcher"], "wrong").status_code == 401
    locked = login(browser, accounts["dispatcher"])  # the right password no longer opens it
    assert locked.status_code == 401 and "locked" in locked.json["error"]["message"]


def test_privileged_roles_need_the_second_factor(browser, accounts, clock):
    assert login(browser, accounts["leader"]).status_code == 401
    assert login(browser, accounts["leader"], totp="000000").status_code == 401
    code = pyotp.TOTP(accounts["secret"]).at(clock.now)
    assert login(browser, accounts["leader"], totp=code).status_code == 200


def test_idle_and_absolute_timeouts(app, browser, accounts, clock):
    login(browser, accounts["dispatcher"])
    settings = app.extensions["gridcommand"].settings
    clock.now += timedelta(minutes=settings.session_idle_minutes - 1)
    assert browser.get("/api/v1/auth/me").status_code == 200  # activity keeps it alive
    clock.now += timedelta(minutes=settings.session_idle_minutes + 1)
    assert browser.get("/api/v1/auth/me").status_code == 401  # idle too long
    login(browser, accounts["dispatcher"])
    for _ in range(settings.session_absolute_minutes // (settings.session_idle_minutes - 1) + 1):
        clock.now += timedelta(minutes=settings.session_idle_minutes - 1)
        last = browser.get("/api/v1/auth/me").status_code
    assert last == 401  # active all along, but past the absolute limit


def test_disabling_an_account_ends_its_sessions_and_tokens(db, browser, app, accounts):
    _, _, sessions = db
    login(browser, accounts["dispatcher"])
    with sessions.begin() as session:
        token = grant_token(session, accounts["dispatcher"], name="phone", kind="app", actor="test", now=T0)
    other = app.test_client()
    assert other.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    with sessions.begin() as session:
        disable(session, accounts["dispatcher"], actor="test", now=T0)
    assert browser.get("/api/v1/auth/me").status_code == 401
    assert other.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert login(browser, accounts["dispatcher"]).status_code == 401


def test_actor_is_the_signed_in_user_not_a_header(client, city, db):
    _, engine, _ = db
    unit = city.grids.by_level("unit")[10].geometry.representative_point()
    created = client.post(
        "/api/v1/incidents",
        json={"description": "x", "category_code": "020101", "lon": unit.x, "lat": unit.y},
        headers={"X-Actor": "someone-else"},
    ).json
    entries = client.get(f"/api/v1/incidents/{created['id']}/timeline").json["entries"]
    assert entries[0]["actor"] == "test-leader"
    assert count(engine, "timeline", "actor = 'someone-else'") == 0
