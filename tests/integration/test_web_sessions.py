"""Sessions that really end (issue 9, item 4): the cookie carries only a random id of a session held on the server,
so a copied cookie stops working everywhere (REST and Dash here; Socket.IO in test_realtime_auth.py) as soon as
its session ends: sign-out (that one), disabling the account or a new password (all of them). Sign-out is a POST."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from dashboard.runtime import runtime_of
from dispatcher.access.roles import Role
from dispatcher.access.roster import create_account, disable, set_password
from tests.conftest import T0
from tests.integration.helpers import count

PASSWORD = "s3cret-pass-phrase"
OWN = {"Origin": "http://localhost"}


@pytest.fixture
def pages(app):
    """The Dash pages and the sign-in form (/login, /logout) mounted on `app`."""
    from dashboard.pages import mount_dash

    mount_dash(app, runtime_of(app).settings)
    app.test_client_class = FlaskClient
    return app


@pytest.fixture
def username(db) -> str:
    _, _, sessions = db
    name = f"s-{uuid.uuid4().hex[:10]}"
    with sessions.begin() as session:
        create_account(
            session,
            username=name,
            display_name="坐席",
            role=Role.DISPATCHER,
            region_code="330199",
            department_code=None,
            password=PASSWORD,
            actor="test",
            now=T0,
        )
    return name


def signed_in(app, username: str, password: str = PASSWORD) -> FlaskClient:
    client = app.test_client()
    client.environ_base["HTTP_ORIGIN"] = "http://localhost"
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def copied(app, original: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of `original`'s session cookie (stolen, or simply kept)."""
    thief = app.test_client()
    thief.set_cookie("session", original.get_cookie("session").value)
    return thief


def works(client: FlaskClient) -> bool:
    """Whether the client's cookie still signs it in, on the REST API and on Dash's endpoints alike."""
    rest = client.get("/api/v1/auth/me").status_code
    dash = client.get("/_dash-layout").status_code
    assert (rest == 200) == (dash == 200), (rest, dash)
    return rest == 200


def test_sign_out_ends_the_session_on_the_server_not_just_in_this_browser(pages, username, db):
    _, engine, _ = db
    browser = signed_in(pages, username)
    thief = copied(pages, browser)
    assert works(thief)
    out = browser.post("/logout")
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    assert not works(thief)  # the copied cookie is worthless now
    assert not works(browser)
    assert count(engine, "audit_log", "action = 'logout' AND actor = :u", u=username) == 1
    where = (
        "ended_at IS NOT NULL AND end_reason = 'logout' AND account_id = (SELECT id FROM account WHERE username = :u)"
    )
    assert count(engine, "web_session", where, u=username) == 1


def test_api_sign_out_ends_the_session_too(pages, username):
    browser = pages.test_client()
    browser.environ_base["HTTP_ORIGIN"] = "http://localhost"
    assert browser.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD}).status_code == 200
    thief = copied(pages, browser)
    assert browser.post("/api/v1/auth/logout").json == {"ok": True}
    assert not works(thief)


def test_signing_out_one_browser_leaves_the_others_signed_in(pages, username):
    office, phone = signed_in(pages, username), signed_in(pages, username)
    office.post("/logout")
    assert works(phone) and not works(office)


def test_there_is_no_get_logout(pages, username):
    """A link or an <img src=/logout> on any page must not sign anyone out."""
    browser = signed_in(pages, username)
    browser.get("/logout")
    assert works(browser)


def test_a_new_password_ends_every_session_of_the_account(pages, username, db, clock):
    _, _, sessions = db
    office, phone = signed_in(pages, username), signed_in(pages, username)
    with sessions.begin() as session:
        set_password(session, username, "another long pass phrase", actor="admin", now=clock())
    assert not works(office) and not works(phone)
    assert signed_in(pages, username, "another long pass phrase") is not None
    refused = pages.test_client().post("/login", data={"username": username, "password": PASSWORD}, headers=OWN)
    assert refused.status_code == 401


def test_a_short_new_password_is_refused_and_changes_nothing(pages, username, db, clock):
    from dispatcher.errors import Invalid

    _, _, sessions = db
    browser = signed_in(pages, username)
    with pytest.raises(Invalid, match="at least 12 characters"), sessions.begin() as session:
        set_password(session, username, "short", actor="admin", now=clock())
    assert works(browser)


def test_disabling_the_account_ends_every_session(pages, username, db, clock):
    _, engine, sessions = db
    office, phone = signed_in(pages, username), signed_in(pages, username)
    with sessions.begin() as session:
        disable(session, username, actor="admin", now=clock())
    assert not works(office) and not works(phone)
    where = "end_reason = 'disabled' AND account_id = (SELECT id FROM account WHERE username = :u)"
    assert count(engine, "web_session", where, u=username) == 2


def test_a_cookie_signed_with_the_secret_key_but_naming_no_live_session_signs_nobody_in(pages, username, db):
    """The old cookie format (account id, epoch and times, merely signed) is forged easily by anyone who holds the
    signing key; a cookie must name a session the server holds."""
    _, _, sessions = db
    from dispatcher.access.accounts import Account
    from dispatcher.access.roster import find

    with sessions() as session:
        account: Account = find(session, username)
        account_id = account.id
    serializer = pages.session_interface.get_signing_serializer(pages)
    forged = serializer.dumps(
        {"account_id": account_id, "epoch": 0, "login_at": T0.isoformat(), "seen_at": T0.isoformat()}
    )
    client = pages.test_client()
    client.set_cookie("session", forged)
    assert not works(client)
    unknown = pages.test_client()
    unknown.set_cookie("session", serializer.dumps({"sid": "a" * 43}))
    assert not works(unknown)


def test_idle_sessions_end_and_activity_keeps_them(pages, username, clock):
    browser = signed_in(pages, username)
    settings = runtime_of(pages).settings
    for _ in range(3):
        clock.now += timedelta(minutes=settings.session_idle_minutes - 1)
        assert works(browser)
    clock.now += timedelta(minutes=settings.session_idle_minutes + 1)
    assert not works(browser)
