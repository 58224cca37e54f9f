"""Web hardening on both backends: security headers, closed CORS, CSRF by origin, rate limits, body size."""

from __future__ import annotations

import socket

import pytest
import redis as redis_lib
from flask.testing import FlaskClient

from dashboard.app import create_server
from dashboard.runtime import runtime_of
from dispatcher.settings import Settings
from tests.conftest import TEST_PASSWORD
from tests.integration.helpers import count, inside
from tests.integration.test_scope_matrix import make_account

OWN = "http://localhost"
EVIL = "https://evil.example"


@pytest.fixture
def make_client(app, tokens):
    """A client of a server built like the `app` fixture's (same runtime) but with other settings."""

    def _make(**changes) -> FlaskClient:
        runtime = runtime_of(app)
        settings = runtime.settings.model_copy(update=changes)
        server = create_server(settings, runtime)
        server.testing = True
        server.test_client_class = FlaskClient
        client = server.test_client()
        client.token = tokens["leader"]
        return client

    return _make


def _body(city):
    lon, lat = inside(city.grids.by_level("unit")[10])
    return {"description": "井盖缺失", "category_code": "020101", "lon": lon, "lat": lat}


# --- headers ------------------------------------------------------------------------------------------


def test_security_headers_on_every_response(client, anonymous):
    for response in [
        client.get("/api/v1/incidents"),
        anonymous.get("/api/v1/openapi.json"),
        anonymous.get("/health"),
        anonymous.get("/no/such/page"),
    ]:
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
        script_src = next(d for d in csp.split("; ") if d.startswith("script-src"))
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src and "*" not in script_src
        assert "ws://localhost" in csp and "connect-src 'self'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "camera=()" in headers["Permissions-Policy"]
        assert "Access-Control-Allow-Origin" not in headers


def test_api_answers_are_never_cached(client, anonymous):
    assert client.get("/api/v1/incidents").headers["Cache-Control"] == "no-store"
    assert anonymous.get("/api/v1/incidents").headers["Cache-Control"] == "no-store"  # errors too
    assert "no-store" not in anonymous.get("/health").headers.get("Cache-Control", "")


def test_tile_host_is_allowed_for_images_only(make_client):
    client = make_client(tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png")
    csp = client.get("/health").headers["Content-Security-Policy"]
    img = next(d for d in csp.split("; ") if d.startswith("img-src"))
    assert "https://*.tile.example.org" in img
    assert csp.count("tile.example.org") == 1


# --- CORS ---------------------------------------------------------------------------------------------


def test_cors_is_closed_by_default(client, anonymous):
    got = client.get("/api/v1/incidents", headers={"Origin": EVIL})
    assert got.status_code == 200 and "Access-Control-Allow-Origin" not in got.headers
    preflight = anonymous.options(
        "/api/v1/incidents",
        headers={
            "Origin": EVIL,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert not [h for h in preflight.headers.keys() if h.lower().startswith("access-control-")]


def test_cors_origins_open_it_for_exactly_those_origins(make_client):
    client = make_client(cors_origins=["https://partner.example"])
    preflight = client.options(
        "/api/v1/incidents", headers={"Origin": "https://partner.example", "Access-Control-Request-Method": "POST"}
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
    assert "Origin" in preflight.headers["Vary"]
    assert "Access-Control-Allow-Credentials" not in preflight.headers
    got = client.get(
        "/api/v1/incidents", headers={"Origin": "https://partner.example", "Authorization": f"Bearer {client.token}"}
    )
    assert got.headers["Access-Control-Allow-Origin"] == "https://partner.example"
    other = client.get("/api/v1/incidents", headers={"Origin": EVIL, "Authorization": f"Bearer {client.token}"})
    assert "Access-Control-Allow-Origin" not in other.headers


# --- CSRF ---------------------------------------------------------------------------------------------


@pytest.fixture
def cookie_client(anonymous):
    """A browser-like client holding a session cookie (its value does not matter to the origin check)."""
    anonymous.set_cookie("session", "some-session")
    return anonymous


@pytest.mark.parametrize(
    "path", ["/api/v1/incidents", "/_dash-update-component", "/api/v1/auth/logout", "/api/v1/incidents/x/actions/file"]
)
def test_cookie_requests_from_another_origin_are_refused(cookie_client, city, path):
    for headers in [{"Origin": EVIL}, {"Origin": "null"}, {"Referer": EVIL + "/form.html"}, {}]:
        response = cookie_client.post(path, json=_body(city), headers=headers)
        assert response.status_code == 403, (path, headers)
        error = response.json["error"]
        assert error["code"] == "cross_origin_request" and error["field"] == "Origin"
        assert ("Origin" in error["message"] or "Referer" in error["message"]) and "localhost" in error["message"]
    for method in ("put", "patch", "delete"):
        assert getattr(cookie_client, method)(path, headers={"Origin": EVIL}).status_code == 403


def test_cookie_requests_from_this_origin_pass_the_check(cookie_client, city):
    for headers in [{"Origin": OWN}, {"Referer": OWN + "/"}]:
        response = cookie_client.post("/api/v1/incidents", json=_body(city), headers=headers)
        assert response.status_code == 401  # past the origin check; the fake session is no session
    assert cookie_client.get("/api/v1/incidents", headers={"Origin": EVIL}).status_code == 401  # reads are not CSRF


def test_login_from_another_origin_is_refused_even_without_a_cookie(anonymous):
    body = {"username": "nobody", "password": "x"}
    refused = anonymous.post("/api/v1/auth/login", json=body, headers={"Origin": EVIL})
    assert refused.status_code == 403 and refused.json["error"]["code"] == "cross_origin_request"
    assert anonymous.post("/login", data=body, headers={"Origin": EVIL}).status_code == 403
    assert anonymous.post("/api/v1/auth/login", json=body, headers={"Origin": OWN}).status_code != 403


def test_bearer_requests_and_devices_are_not_subject_to_the_origin_check(client, cookie_client, city):
    created = client.post("/api/v1/incidents", json=_body(city), headers={"Origin": EVIL})
    assert created.status_code == 201
    fix = cookie_client.post("/osmand?id=unknown-device&lat=30.27&lon=120.15", headers={"Origin": EVIL})
    assert fix.status_code != 403


def test_device_answers_keep_the_security_headers_and_never_touch_the_session(app, cookie_client):
    """/osmand skips the session and Flask-Limiter's bookkeeping (its own limits: test_osmand_limit), nothing else."""
    signer = app.session_interface.get_signing_serializer(app)
    cookie_client.set_cookie("session", signer.dumps({"user": "leader", "_permanent": True}))
    for response in [
        cookie_client.get("/osmand?id=unknown-device&lat=30.27&lon=120.15"),
        cookie_client.post("/osmand", data={"id": "unknown-device", "lat": "30.27", "lon": "120.15"}),
    ]:
        assert response.status_code == (401 if runtime_of(app).redis else 503), response.json  # unknown device
        headers = response.headers
        assert (
            "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            and "ws://localhost" in headers["Content-Security-Policy"]
        )
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
        assert headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in headers and "Cookie" not in headers.get("Vary", "")
        assert not [name for name in headers.keys() if name.lower().startswith("x-ratelimit")]
    cookie = {"Cookie": f"session={signer.dumps({'probe': 1})}"}
    for path, seen in [("/api/v1/incidents", {"probe": 1}), ("/osmand", {})]:  # elsewhere the cookie is read
        with app.test_request_context(path, headers=cookie) as ctx:
            assert dict(app.session_interface.open_session(app, ctx.request)) == seen, path


def test_a_junk_bearer_header_does_not_skip_the_origin_check(app, anonymous, city, db):
    """A forged cross-site request riding on a real session cookie gains nothing by adding 'Bearer x'."""
    _, engine, _ = db
    principal, _ = make_account(db[2], "dispatcher", "330199", None)
    anonymous.environ_base["HTTP_ORIGIN"] = OWN
    signed = anonymous.post("/api/v1/auth/login", json={"username": principal.username, "password": TEST_PASSWORD})
    assert signed.status_code == 200
    before = count(engine, "incident")
    for junk in ("Bearer x", "Bearer ", "bearer gc_forged"):
        forged = anonymous.post("/api/v1/incidents", json=_body(city), headers={"Origin": EVIL, "Authorization": junk})
        assert forged.status_code == 403 and forged.json["error"]["code"] == "cross_origin_request", junk
        out = anonymous.post("/api/v1/auth/logout", headers={"Origin": EVIL, "Authorization": junk})
        assert out.status_code == 403, junk
    assert count(engine, "incident") == before
    assert anonymous.get("/api/v1/auth/me").status_code == 200  # still signed in: the forged sign-out failed


def test_the_public_url_is_an_own_origin_behind_a_proxy(make_client):
    """Behind a TLS proxy the browser's Origin is the public URL, not the host the proxy forwards to."""
    client = make_client(public_url="https://city.example.gov.cn")
    client.set_cookie("session", "some-session")
    own = client.post("/api/v1/incidents", json={}, headers={"Origin": "https://city.example.gov.cn"})
    assert own.status_code == 401  # past the origin check; the fake session is no session
    evil = client.post("/api/v1/incidents", json={}, headers={"Origin": EVIL})
    assert evil.status_code == 403 and "https://city.example.gov.cn" in evil.json["error"]["message"]


def test_session_cookies_are_secure_when_the_public_url_is_https(make_client, db):
    principal, _ = make_account(db[2], "dispatcher", "330199", None)
    body = {"username": principal.username, "password": TEST_PASSWORD}
    for public_url, secure in [("https://city.example.gov.cn", True), ("http://10.0.0.5:8050", False), (None, False)]:
        client = make_client(public_url=public_url)
        origin = public_url or OWN
        response = client.post("/api/v1/auth/login", json=body, headers={"Origin": origin})
        assert response.status_code == 200, response.json
        cookie = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))
        attributes = [a.strip().lower() for a in cookie.split(";")]
        assert ("secure" in attributes) is secure, (public_url, cookie)
        assert "httponly" in attributes and "samesite=lax" in attributes


def test_cookieless_cross_origin_form_post_is_refused(anonymous, city):
    response = anonymous.post("/api/v1/incidents", data={"description": "x"}, headers={"Origin": EVIL})
    assert response.status_code == 403


# --- rate limits --------------------------------------------------------------------------------------


def _assert_429(response):
    assert response.status_code == 429
    error = response.json["error"]
    assert error["code"] == "rate_limited" and set(error) >= {"code", "message", "field"}
    assert "retry" in error["message"] and int(response.headers["Retry-After"]) > 0


def _limited_after(send, allowed: int, success: int | None = None):
    """`allowed` calls pass (with `success`, if given), then a 429 in the API's shape follows within a few more
    (the sliding-window counter is approximate across a window boundary by at most a request or two)."""
    for _ in range(allowed):
        status = send().status_code
        assert status != 429 and (success is None or status == success), status
    for _ in range(3):
        response = send()
        if response.status_code == 429:
            _assert_429(response)
            return
    pytest.fail(f"no 429 after {allowed + 3} calls")


def test_default_limits_are_the_documented_ones():
    settings = Settings()
    assert (settings.rate_limit_login, settings.rate_limit_intake, settings.rate_limit_osmand) == (
        "10/minute",
        "600/minute",
        "6000/minute",
    )


def test_login_is_limited_to_ten_a_minute_per_address(anonymous):
    anonymous.environ_base["HTTP_ORIGIN"] = OWN
    body = {"username": "nobody", "password": "wrong"}
    names = iter(range(100))  # another username each time: below the failures-per-username throttle
    _limited_after(lambda: anonymous.post("/api/v1/auth/login", json={**body, "username": f"nobody-{next(names)}"}), 10)
    assert anonymous.get("/api/v1/auth/me").status_code == 401  # only signing in is limited
    other = anonymous.post(
        "/api/v1/auth/login", json=body, environ_base={"REMOTE_ADDR": "10.1.2.3", "HTTP_ORIGIN": OWN}
    )
    assert other.status_code != 429  # per address


def test_intake_limit_answers_429_in_the_api_error_shape(make_client, city):
    client = make_client(rate_limit_intake="3/minute")
    auth = {"Authorization": f"Bearer {client.token}"}
    _limited_after(lambda: client.post("/api/v1/incidents", json=_body(city), headers=auth), 3, 201)
    assert client.get("/api/v1/incidents", headers=auth).status_code == 200  # reading is not limited


def test_osmand_limit(app, make_client, redis_url):
    """Per address, unknown identifiers included (counted in Redis with the positions: dashboard/api/osmand.py)."""
    runtime = runtime_of(app)
    runtime.redis = redis_lib.Redis.from_url(redis_url)
    runtime.settings = runtime.settings.model_copy(update={"rate_limit_osmand": "2/minute"})  # the one process's
    client = make_client()
    _limited_after(lambda: client.get("/osmand?id=dev-x&lat=30.27&lon=120.15"), 2)
    other = client.get("/osmand?id=dev-x&lat=30.27&lon=120.15", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert other.status_code == 401  # another address has its own budget


def test_limits_are_shared_through_redis(make_client, redis_url, city):
    first, second = (
        make_client(redis_url=redis_url, rate_limit_intake="4/minute"),
        make_client(redis_url=redis_url, rate_limit_intake="4/minute"),
    )
    auth = {"Authorization": f"Bearer {first.token}"}
    calls = iter(range(100))
    # two web processes, one budget: alternate between them
    _limited_after(
        lambda: (first if next(calls) % 2 else second).post("/api/v1/incidents", json=_body(city), headers=auth), 4, 201
    )


def test_redis_down_never_fails_a_request(make_client, city):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"redis://127.0.0.1:{s.getsockname()[1]}/0"  # nothing listens once the socket closes
    client = make_client(redis_url=dead, rate_limit_intake="2/minute")
    auth = {"Authorization": f"Bearer {client.token}"}
    # every request answers (201, never 500) and the limit still holds, in memory, meanwhile
    _limited_after(lambda: client.post("/api/v1/incidents", json=_body(city), headers=auth), 2, 201)


# --- body size ----------------------------------------------------------------------------------------


def test_a_three_megabyte_body_is_413(client):
    body = b'{"description": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    response = client.post("/api/v1/incidents", data=body, content_type="application/json")
    assert response.status_code == 413
    assert response.json["error"]["code"] == "request_entity_too_large"


# --- the Server header ----------------------------------------------------------------------------------


def test_the_server_header_names_no_versions(app):
    """`Server: Werkzeug/3.1.3 Python/3.11.7` told an attacker which known flaws to try."""
    import threading
    import urllib.error
    import urllib.request

    from werkzeug.serving import make_server

    from dashboard.hardening import QuietRequestHandler

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}"
        with urllib.request.urlopen(f"{base}/health", timeout=10) as response:
            headers = [response.headers.get("Server")]
        try:
            urllib.request.urlopen(f"{base}/api/v1/incidents", timeout=10)
        except urllib.error.HTTPError as exc:  # 401
            headers.append(exc.headers.get("Server"))
    finally:
        server.shutdown()
        thread.join(timeout=5)
    assert headers == ["GridCommand", "GridCommand"]


def test_serve_runs_with_the_quiet_request_handler(app, monkeypatch):
    """`gridcommand serve` starts the web server through `socketio.run`: it must use the quiet handler."""
    from dashboard.hardening import QuietRequestHandler
    from dashboard.pages import mount_dash
    from dashboard.realtime import socketio

    mount_dash(app, runtime_of(app).settings)
    started = {}
    monkeypatch.setattr(app, "run", lambda **options: started.update(options))
    socketio.run(app, host="127.0.0.1", port=8050, allow_unsafe_werkzeug=True, use_reloader=False, log_output=False)
    assert started["request_handler"] is QuietRequestHandler
