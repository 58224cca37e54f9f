"""Signing in: passwords, throttling per address, TOTP for privileged roles (once per code, encrypted at rest),
session timeouts, disabled accounts, tokens. Sessions ending for good: tests/integration/test_web_sessions.py."""

from datetime import timedelta

import pyotp
import pytest
import sqlalchemy as sa

from dashboard.auth import VERIFIED_TOKENS
from dashboard.runtime import runtime_of
from dispatcher.access.accounts import ApiToken, hash_secret
from dispatcher.access.roles import Role
from dispatcher.access.roster import create_account, disable, grant_token, revoke_token
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


@pytest.fixture
def pages(app):
    """The Dash pages and the sign-in form (/login, /logout) mounted on `app`."""
    from dashboard.pages import mount_dash

    mount_dash(app, runtime_of(app).settings)
    return app


def test_repeated_failures_throttle_that_address_never_the_account_everywhere(pages, browser, app, accounts):
    """Guessing the password from one address must not lock its owner out: the owner signs in from another."""
    for _ in range(5):
        assert login(browser, accounts["dispatcher"], "wrong").status_code == 401
    throttled = login(browser, accounts["dispatcher"])  # from the guessing address even the right one waits
    assert throttled.status_code == 429 and throttled.json["error"]["code"] == "rate_limited"
    assert "retry in" in throttled.json["error"]["message"] and 0 < int(throttled.headers["Retry-After"]) <= 60
    form = browser.post("/login", data={"username": accounts["dispatcher"], "password": PASSWORD})
    assert form.status_code == 429 and "秒后再试" in form.get_data(as_text=True) and form.headers["Retry-After"]
    assert browser.get("/api/v1/auth/me").status_code == 401

    elsewhere = app.test_client()
    elsewhere.environ_base.update(REMOTE_ADDR="10.20.30.40", HTTP_ORIGIN="http://localhost")
    assert login(elsewhere, accounts["dispatcher"]).status_code == 200  # the owner, from another address
    assert elsewhere.get("/api/v1/auth/me").json["username"] == accounts["dispatcher"]
    other_user = login(browser, accounts["leader"], "wrong")  # the guessing address, another username: heard
    assert other_user.status_code == 401


def test_a_success_clears_the_count_and_throttled_attempts_are_audited(db, app, browser, accounts):
    _, engine, _ = db
    for _ in range(4):
        login(browser, accounts["dispatcher"], "wrong")
    assert login(browser, accounts["dispatcher"]).status_code == 200  # the fifth try is right: count cleared
    for _ in range(4):
        assert login(browser, accounts["dispatcher"], "wrong").status_code == 401
    other = app.test_client()  # (another address: the per-address limit of 10 sign-ins a minute is spent)
    other.environ_base.update(REMOTE_ADDR="10.0.0.7", HTTP_ORIGIN="http://localhost")
    for _ in range(5):
        login(other, accounts["dispatcher"], "wrong")
    assert login(other, accounts["dispatcher"]).status_code == 429
    where = "target = :t AND action = 'login_failed' AND ip = '10.0.0.7' AND CAST(detail AS TEXT) LIKE '%throttled%'"
    assert count(engine, "audit_log", where, t=f"account:{accounts['dispatcher']}") == 1


def test_privileged_roles_need_the_second_factor(browser, accounts, clock):
    assert login(browser, accounts["leader"]).status_code == 401
    code = pyotp.TOTP(accounts["secret"]).at(clock.now)
    assert login(browser, accounts["leader"], totp="000000" if code != "000000" else "111111").status_code == 401
    assert login(browser, accounts["leader"], totp=code).status_code == 200


def test_a_totp_code_signs_in_once_only(db, app, browser, accounts, clock):
    """A code seen over a shoulder or replayed from a log opens nothing once it has been used."""
    _, engine, _ = db
    code = pyotp.TOTP(accounts["secret"]).at(clock.now)
    assert login(browser, accounts["leader"], totp=code).status_code == 200
    browser.post("/api/v1/auth/logout")
    replay = app.test_client()
    replay.environ_base.update(REMOTE_ADDR="10.0.0.9", HTTP_ORIGIN="http://localhost")
    assert login(replay, accounts["leader"], totp=code).status_code == 401  # same code, same 30 s step
    clock.now += timedelta(seconds=30)
    assert login(replay, accounts["leader"], totp=code).status_code == 401  # still inside the drift window
    fresh = pyotp.TOTP(accounts["secret"]).at(clock.now)
    assert login(replay, accounts["leader"], totp=fresh).status_code == 200
    reused = "target = :t AND CAST(detail AS TEXT) LIKE '%second factor already used%'"
    assert count(engine, "audit_log", reused, t=f"account:{accounts['leader']}") == 2


def test_totp_secrets_are_encrypted_at_rest(db, accounts):
    _, engine, _ = db
    with engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT totp_secret FROM account WHERE username = :u"), {"u": accounts["leader"]})
    assert stored.startswith("v1:") and accounts["secret"] not in stored


def test_idle_and_absolute_timeouts(app, browser, accounts, clock):
    login(browser, accounts["dispatcher"])
    settings = runtime_of(app).settings
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


def test_a_token_revoked_here_is_refused_at_once_though_it_was_just_verified(db, app, accounts):
    _, _, sessions = db
    with sessions.begin() as session:
        token = grant_token(session, accounts["dispatcher"], name="phone", kind="app", actor="test", now=T0)
        session.flush()
        token_id = session.scalars(sa.select(ApiToken.id).where(ApiToken.token_hash == hash_secret(token))).one()
    phone, bearer = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert [phone.get("/api/v1/auth/me", headers=bearer).status_code for _ in range(2)] == [200, 200]
    with sessions.begin() as session:
        revoke_token(session, token_id, actor="test", now=T0)
    assert phone.get("/api/v1/auth/me", headers=bearer).status_code == 401


def test_a_token_revoked_by_another_process_is_refused_once_the_cache_window_passed(db, app, accounts, monkeypatch):
    _, engine, sessions = db
    with sessions.begin() as session:
        token = grant_token(session, accounts["dispatcher"], name="cli", kind="service", actor="test", now=T0)
    phone, bearer = app.test_client(), {"Authorization": f"Bearer {token}"}
    assert phone.get("/api/v1/auth/me", headers=bearer).status_code == 200
    with engine.begin() as conn:  # plain SQL, as `gridcommand accounts revoke` in another process would leave it
        conn.execute(
            sa.text("UPDATE api_token SET revoked_at = created_at WHERE token_hash = :h"), {"h": hash_secret(token)}
        )
    monkeypatch.setattr(VERIFIED_TOKENS, "ttl_s", 0.0)  # TOKEN_CACHE_S later
    assert phone.get("/api/v1/auth/me", headers=bearer).status_code == 401


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


@pytest.fixture
def tokens_of_each_kind(db, accounts) -> dict[str, str]:
    """One token of every kind, all of the same (dispatcher) account."""
    _, _, sessions = db
    with sessions.begin() as session:
        return {
            kind: grant_token(session, accounts["dispatcher"], name=kind, kind=kind, actor="test", now=T0)
            for kind in ("device", "open311", "app", "service")
        }


def test_a_token_works_only_where_its_kind_belongs(pages, anonymous, tokens_of_each_kind, city):
    """A tracker's device token cannot act as the dispatcher who holds it, nor an Open311 key on the API."""
    body = {"description": "token kind", "category_code": "020101", "lon": 120.16, "lat": 30.27}
    for kind in ("device", "open311"):
        auth = {"Authorization": f"Bearer {tokens_of_each_kind[kind]}"}
        for method, path, kwargs in [
            ("get", "/api/v1/incidents", {}),
            ("post", "/api/v1/incidents", {"json": body}),
            ("get", "/api/v1/auth/me", {}),
            ("get", "/_dash-layout", {}),
        ]:
            response = getattr(anonymous, method)(path, headers=auth, **kwargs)
            assert response.status_code in (401, 403), (kind, path, response.status_code)
            if path.startswith("/api/"):
                error = response.json["error"]
                assert error["code"] == "token_kind" and f"'{kind}' token" in error["message"], error
    device = anonymous.post(
        "/api/v1/positions",
        json={"positions": [{"at": T0.isoformat(), "lon": 120.16, "lat": 30.27}]},
        headers={"Authorization": f"Bearer {tokens_of_each_kind['device']}"},
    )
    assert device.status_code != 401 and device.json.get("error", {}).get("code") != "token_kind"
    services = anonymous.get(
        "/open311/v2/services.json", headers={"Authorization": f"Bearer {tokens_of_each_kind['open311']}"}
    )
    assert services.status_code == 200
    for kind in ("app", "service"):
        auth = {"Authorization": f"Bearer {tokens_of_each_kind[kind]}"}
        assert anonymous.get("/api/v1/incidents", headers=auth).status_code == 200, kind
        assert anonymous.get("/_dash-layout", headers=auth).status_code == 200, kind


def test_a_junk_bearer_next_to_a_session_cookie_signs_nobody_in(browser, accounts):
    """The header is judged alone: a bad token does not fall back to the cookie beside it."""
    assert login(browser, accounts["dispatcher"]).status_code == 200
    assert browser.get("/api/v1/auth/me").status_code == 200
    junk = browser.get("/api/v1/auth/me", headers={"Authorization": "Bearer x"})
    assert junk.status_code == 401
    assert browser.get("/api/v1/auth/me").status_code == 200  # the session itself is untouched
