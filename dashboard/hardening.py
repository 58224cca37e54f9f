"""Web hardening of the Flask server: security headers, closed CORS, CSRF by origin check, rate limits.

`init_hardening(server, settings)` installs all of it; call it once in `create_server`.

- Session cookies are `Secure` when `settings.public_url` is https (HttpOnly and SameSite=Lax always).
- Headers on every response: a Content-Security-Policy that runs only this origin's scripts (plus the
  hashes of Dash's own inline bootstrap scripts), X-Content-Type-Options, X-Frame-Options,
  Referrer-Policy, Permissions-Policy, Cross-Origin-Opener-Policy; `Cache-Control: no-store` on API
  answers (they carry personal data); HSTS on HTTPS.
- CORS is closed: no Access-Control-* header is ever sent, unless the request's Origin is listed in
  `settings.cors_origins` (then that origin, and only it, is allowed; never with credentials).
- CSRF: a state-changing request (POST/PUT/PATCH/DELETE) that rides on the session cookie, or that
  signs in, must come from this server's own origin (Origin header, else Referer), else 403. The own
  origins are the request's scheme://host and, behind a proxy, the origin of `settings.public_url`.
  Requests signed in by a valid `Authorization: Bearer` token carry no ambient authority and are exempt
  (a junk bearer header is not: the origin check still applies), as are the device endpoints under
  /osmand (no cookies), Open311 under /open311 (api_key in the form, no cookies) and /socket.io
  (Engine.IO checks Origin itself, against the same own origins: dashboard/realtime.py).
- Rate limits per client IP (Flask-Limiter; Redis storage when the runtime has Redis, with an
  in-memory fallback while Redis is down): sign-in, public intake (incl. Open311 POSTs). 429 in the API's
  error shape. /osmand's per-address and per-device limits are counted by the position store in the round trip
  that reads the track (dashboard/api/osmand.py): Flask-Limiter skips /osmand. Failed sign-ins are also throttled per address and username
  (dashboard/throttle.py, on the same storage).
- `QuietRequestHandler` (`serve --dev`) and `quiet_gunicorn` (gunicorn, the production server): the `Server`
  header names no software and no versions.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from functools import lru_cache, partial
from urllib.parse import urlsplit

from flask import Flask, jsonify, request
from flask_limiter import Limiter, RateLimitExceeded
from flask_limiter.util import get_remote_address
from werkzeug.serving import WSGIRequestHandler

from dashboard.auth import THROTTLE, authenticated_by_token, bearer_token
from dashboard.throttle import SignInThrottle
from dispatcher.access import privacy
from dispatcher.settings import Settings
from workers import keys

log = logging.getLogger(__name__)

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOGIN_PATHS = frozenset({"/api/v1/auth/login", "/login"})
INTAKE_PATH = "/api/v1/incidents"
OPEN311_PREFIX = "/open311/"
CSRF_EXEMPT_PREFIXES = ("/osmand", "/socket.io", OPEN311_PREFIX)  # /open311: api_key in the form, no cookies
NO_STORE_PREFIXES = ("/api/", "/osmand", "/login", "/logout")
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Idempotency-Key, X-Actor"
CORS_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
# Dash's bootstrap script (Dash.renderer); the hashes of the running Dash app are used when there is one.
DEFAULT_DASH_RENDERER = "var renderer = new DashRenderer();"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), microphone=(), payment=(), usb=(), magnetometer=(), "
    "gyroscope=(), display-capture=(), geolocation=(self), fullscreen=(self)"
)


def init_hardening(server: Flask, settings: Settings) -> Limiter:
    """Install headers, CORS, CSRF and rate limits on `server`; returns the Flask-Limiter instance. Also
    masks phone numbers in this process's logs."""
    privacy.install_log_redaction()
    server.config["SESSION_COOKIE_SECURE"] = (settings.public_url or "").lower().startswith("https://")
    limiter = _init_rate_limits(server, settings)
    server.extensions[THROTTLE] = SignInThrottle(limiter.storage, prefix=keys.RATE_LIMITS)
    cors_origins = frozenset(o.rstrip("/") for o in settings.cors_origins)
    img_sources = tuple(_tile_sources(settings.tile_url))
    script_hashes: list[str] = []

    @server.before_request
    def _check_origin():
        problem = csrf_problem(server, settings.public_url)
        if problem:
            log.warning("refused %s %s: %s", request.method, request.path, problem)
            return _error(403, "cross_origin_request", problem, "Origin")
        return None

    @server.after_request
    def _security_headers(response):
        headers = response.headers
        if not script_hashes:
            script_hashes.extend(_dash_script_hashes())
        if "Content-Security-Policy" not in headers:  # a view's own (stricter) one stays
            headers["Content-Security-Policy"] = _csp(request.host, tuple(script_hashes), img_sources)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "same-origin"
        headers["Permissions-Policy"] = PERMISSIONS_POLICY
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        if request.is_secure:
            headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        if request.path.startswith(NO_STORE_PREFIXES):
            headers["Cache-Control"] = "no-store"
            headers["Pragma"] = "no-cache"
        _apply_cors(response, cors_origins)
        return response

    return limiter


# --- CSRF --------------------------------------------------------------------------------------------


def own_origin() -> str:
    """scheme://host[:port] of this request as the server sees it (behind a proxy: use ProxyFix)."""
    return f"{request.scheme}://{request.host}".lower()


def own_origins(scheme: str, host: str, public_url: str | None) -> frozenset[str]:
    """The origins of this server: scheme://host as the request reached it, and the public URL's (behind a proxy)."""
    origins = {f"{scheme}://{host}".lower()}
    public = _origin_of(public_url) if public_url else None
    if public:
        origins.add(public)
    return frozenset(origins)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def csrf_problem(server: Flask, public_url: str | None = None) -> str | None:
    """Why this request must be refused as a possible cross-site request forgery, or None."""
    if request.method not in UNSAFE_METHODS or request.path.startswith(CSRF_EXEMPT_PREFIXES):
        return None
    if bearer_token() is not None and authenticated_by_token():
        return None  # a valid token, not the cookie, carries the authority; a junk one exempts nothing
    origin = request.headers.get("Origin")
    uses_cookie = bool(request.cookies.get(server.config.get("SESSION_COOKIE_NAME", "session")))
    if not (uses_cookie or request.path in LOGIN_PATHS or origin is not None):
        return None  # no cookie, no Origin: not a browser acting with the user's authority
    allowed = own_origins(request.scheme, request.host, public_url)
    expected = " or ".join(sorted(allowed))
    if origin is not None:
        if origin.rstrip("/").lower() in allowed:
            return None
        return f"Origin {origin!r} is not this server ({expected}); cross-origin requests must use a bearer token"
    referer = request.headers.get("Referer")
    if referer is None:
        return (
            f"{request.method} {request.path} with a session cookie needs an Origin or Referer header "
            f"naming this server ({expected})"
        )
    if _origin_of(referer) in allowed:
        return None
    return f"Referer origin {_origin_of(referer)!r} is not this server ({expected})"


# --- CORS --------------------------------------------------------------------------------------------


def _apply_cors(response, allowed: frozenset[str]) -> None:
    for name in [h for h in response.headers.keys() if h.lower().startswith("access-control-")]:
        del response.headers[name]
    origin = request.headers.get("Origin")
    if not origin or origin.rstrip("/") not in allowed:
        return
    response.headers["Access-Control-Allow-Origin"] = origin.rstrip("/")
    response.vary.add("Origin")
    if request.method == "OPTIONS" and request.headers.get("Access-Control-Request-Method"):
        response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
        response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
        response.headers["Access-Control-Max-Age"] = "600"


# --- CSP ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=64)
def _csp(host: str, script_hashes: tuple[str, ...], img_sources: tuple[str, ...]) -> str:
    """The policy for pages served as `host`: made once per host (not per request); only Dash's own script hashes."""
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_hashes],
        # Dash components and Leaflet set inline styles and inject <style> elements
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:", *img_sources],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'", f"ws://{host}", f"wss://{host}"],
        "worker-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def _sha256(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _dash_script_hashes() -> list[str]:
    """Hashes of the inline scripts the Dash app writes into its page (its renderer bootstrap and any
    inline clientside callbacks); only Dash's own scripts, never anything computed from a request."""
    try:
        from dash import get_app

        return list(get_app().csp_hashes())
    except Exception:
        return [_sha256(DEFAULT_DASH_RENDERER)]


def _tile_sources(tile_url: str | None) -> list[str]:
    if not tile_url:
        return []
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return []
    return [f"{parts.scheme}://{parts.netloc.replace('{s}', '*')}"]


# --- rate limits -------------------------------------------------------------------------------------


def limit_category() -> str | None:
    """Which of Flask-Limiter's rate limits a request falls under: 'login', 'intake', or None (/osmand counts its
    own: dashboard/api/osmand.py)."""
    path = request.path.rstrip("/") or "/"
    if request.method == "POST" and path in LOGIN_PATHS:
        return "login"
    if request.method == "POST" and (path == INTAKE_PATH or path.startswith(OPEN311_PREFIX)):
        return "intake"
    return None


def _positions_path() -> bool:
    """/osmand: limited per address and per device by the position store, not by Flask-Limiter."""
    return request.path.startswith("/osmand")


def _init_rate_limits(server: Flask, settings: Settings) -> Limiter:
    limits = {"login": settings.rate_limit_login, "intake": settings.rate_limit_intake}

    def limit_for_request() -> str:
        category = limit_category()
        return limits[category] if category else ""

    storage_uri = settings.redis_url or "memory://"
    options = {"socket_connect_timeout": 1, "socket_timeout": 1} if settings.redis_url else {}
    limiter = Limiter(
        key_func=get_remote_address,
        app=server,
        default_limits=[limit_for_request],
        default_limits_exempt_when=lambda: limit_category() is None,
        request_identifier=lambda: f"gc-{limit_category() or request.endpoint or 'none'}",
        strategy="fixed-window",
        storage_uri=storage_uri,
        storage_options=options,
        key_prefix=keys.RATE_LIMITS,
        headers_enabled=True,
        in_memory_fallback_enabled=True,  # Redis down: limit in memory, never fail the request
        swallow_errors=True,
    )
    limiter.request_filter(_positions_path)
    _skip_positions(server, limiter)

    @server.errorhandler(RateLimitExceeded)
    def _too_many(exc: RateLimitExceeded):
        category = limit_category() or "this endpoint"
        return _error(
            429,
            "rate_limited",
            f"too many requests to {category} from this address: at most {exc.description}; retry later",
            None,
        )  # Flask-Limiter adds Retry-After and X-RateLimit-* on the way out

    return limiter


def _skip_positions(server: Flask, limiter: Limiter) -> None:
    """Flask-Limiter's per-request hooks (limit check, header injection) return at once on /osmand: the request filter
    above would exempt it too, but only after the limiter resolved the endpoint and its limits on every fix."""
    hooks = server.before_request_funcs[None]
    for index, hook in enumerate(hooks):
        if hook == limiter._check_request_limit:
            hooks[index] = _unless_positions(hook)
    after = server.after_request_funcs[None]
    for index, hook in enumerate(after):
        if isinstance(hook, partial) and hook.args == (limiter,):
            after[index] = _unless_positions(hook, passes_response=True)


def _unless_positions(hook, *, passes_response: bool = False):
    """`hook`, except on /osmand (a before-request hook then does nothing, an after-request one hands the answer on)."""

    def wrapped(*args):
        if _positions_path():
            return args[0] if passes_response else None
        return hook(*args)

    return wrapped


def _error(status: int, code: str, message: str, field: str | None):
    response = jsonify(error={"code": code, "message": message, "field": field})
    response.status_code = status
    return response


# --- the Server header -------------------------------------------------------------------------------


def quiet_gunicorn() -> None:
    """gunicorn's `Server` header says "GridCommand" instead of "gunicorn" (called in each gunicorn worker)."""
    import gunicorn.http.wsgi

    gunicorn.http.wsgi.SERVER = "GridCommand"  # type: ignore[attr-defined]


class QuietRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, whose `Server` header says "GridCommand" instead of Werkzeug's and Python's
    exact versions."""

    def version_string(self) -> str:
        return "GridCommand"
