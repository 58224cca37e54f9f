"""The web application factory: Flask server with the REST API; the Dash command center mounts on it."""

from __future__ import annotations

import logging

from flask import Flask, Request, Response, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from flask_compress import Compress
from itsdangerous import URLSafeTimedSerializer
from werkzeug.middleware.proxy_fix import ProxyFix

from dashboard.api import init_api
from dashboard.auth import init_auth
from dashboard.hardening import init_hardening
from dashboard.open311 import open311_bp
from dashboard.runtime import Runtime, build_runtime, current_runtime, install_runtime
from dashboard.strict_json import StrictJSONProvider
from dashboard.tiles import tiles_bp
from dispatcher.access.audit import install_audit_key
from dispatcher.settings import Settings
from dispatcher.store import cipher

log = logging.getLogger(__name__)
IMPORT_ENDPOINT = "api.import_grids"
SESSIONLESS_PREFIXES = ("/osmand",)  # device protocol: authenticated by the device identifier, never by a cookie
# what is worth compressing: text, JSON (API answers, Dash layouts and callbacks), GeoJSON, scripts and styles; never
# images, video, audio, archives or spreadsheets (already compressed: ranged media is left alone in any case)
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/plain",
    "text/csv",
    "text/xml",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/geo+json",
    "application/problem+json",
    "application/xml",
    "image/svg+xml",
]


def create_server(settings: Settings, runtime: Runtime | None = None, *, behind_proxies: bool = True) -> Flask:
    """The Flask server of one web process, wired to its runtime (database, city, Redis). With `behind_proxies`
    (and GRIDCOMMAND_TRUSTED_PROXIES > 0) the forwarded headers of that many proxies are believed; `create_app`
    passes False and installs it itself, outside Socket.IO's middleware."""
    settings.require_keys()  # no default or published secret: refuse to start
    cipher.install_key(settings.key("pii_key"))  # before anything reads or writes personal data
    install_audit_key(settings.key("audit_key"), settings.audit_checkpoint_file)  # before anything is audited
    server = Flask("gridcommand")
    server.config.update(
        SECRET_KEY=settings.key("secret_key"),
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        JSON_AS_ASCII=False,
    )
    server.json = StrictJSONProvider(server)  # request bodies: no NaN/Infinity, no absurd nesting (a 400)
    server.json.ensure_ascii = False
    server.json.sort_keys = False
    server.session_interface = LeanSessionInterface()
    install_runtime(server, runtime or build_runtime(settings))

    @server.before_request
    def _bigger_limit_for_grid_import():
        if request.endpoint == IMPORT_ENDPOINT:
            request.max_content_length = settings.max_import_bytes

    init_auth(server)
    init_api(server)
    server.register_blueprint(open311_bp)  # Open311 GeoReport v2 at /open311/v2
    server.register_blueprint(tiles_bp)  # the offline base map and MBTiles tiles (dashboard/tiles.py)
    init_hardening(server, settings)
    init_compression(server)
    if behind_proxies:
        trust_proxies(server, settings)
    return server


class LeanSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session with its signer built once per key (not per request), and no session at all on
    the device protocol paths (a cookie sent there is ignored: trackers authenticate by their identifier)."""

    def __init__(self) -> None:
        self._signers: dict[tuple, URLSafeTimedSerializer | None] = {}

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        """The signer of the app's current secret key (and its fallbacks), made once."""
        key = (app.secret_key, tuple(app.config["SECRET_KEY_FALLBACKS"] or ()))
        if key not in self._signers:
            self._signers[key] = super().get_signing_serializer(app)
        return self._signers[key]

    def open_session(self, app: Flask, request: Request) -> SecureCookieSession | None:
        """A null session (never read, never written back) on /osmand; else the signed cookie's session."""
        if request.path.startswith(SESSIONLESS_PREFIXES):
            return self.make_null_session(app)
        return super().open_session(app, request)


def init_compression(server: Flask) -> None:
    """Compress every answer that gains from it (Flask-Compress: zstd, brotli or gzip, as the client accepts), with
    ETags suffixed per encoding so that 304s keep working. Socket.IO never reaches Flask (its middleware answers
    first); partial (ranged) and streamed answers are sent as they are; files (Dash's assets) are read into memory
    first (they are small: only the text types above are compressed)."""
    server.config.update(COMPRESS_MIMETYPES=COMPRESSED_TYPES, COMPRESS_REGISTER=False, COMPRESS_STREAMS=False)
    compress = Compress(server)

    @server.after_request
    def _compress(response: Response) -> Response:
        if _ranged(response) or "Content-Encoding" in response.headers:
            return response
        if response.direct_passthrough and response.mimetype in compress.compress_mimetypes_set:
            response.direct_passthrough = False  # a file (send_file): read it, then compress it whole
            response.make_sequence()
        response = compress.after_request(response)
        if "Content-Encoding" in response.headers:
            response.headers.pop("Accept-Ranges", None)  # no byte ranges of an encoded body
        return response


def _ranged(response: Response) -> bool:
    """A partial answer, or one to a request for a part: media players seek in these; never re-encoded."""
    return response.status_code == 206 or "Content-Range" in response.headers or "Range" in request.headers


def trust_proxies(server: Flask, settings: Settings) -> None:
    """Believe X-Forwarded-For/-Proto/-Host/-Port for `settings.trusted_proxies` hops (werkzeug ProxyFix), as the
    outermost WSGI layer so that Socket.IO's origin check, CSRF, rate limits, audit addresses and `request.is_secure`
    all see the client's address and the public scheme and host. 0 (the default): nothing forwarded is believed."""
    hops = settings.trusted_proxies
    if hops:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)  # type: ignore[method-assign]


def preload_command_center(server: Flask) -> None:
    """The command center's page (/) names what its first paint needs (dashboard/pages/command.py: preload_links), so
    that the browser fetches it while it parses Dash's scripts."""
    from dashboard.pages import command

    @server.after_request
    def _preload(response: Response) -> Response:
        if request.path == "/" and response.status_code == 200 and response.mimetype == "text/html":
            response.headers["Link"] = command.preload_links(str(current_runtime().city.grids.version))
        return response


def wsgi() -> Flask:
    """The WSGI application of one production web process (`python -m gunicorn 'dashboard.app:wsgi()'`, which
    `gridcommand serve` runs): settings from the environment, keys required, Dash and Socket.IO mounted."""
    from dashboard.hardening import quiet_gunicorn
    from dispatcher.settings import get_settings

    quiet_gunicorn()
    return create_app(get_settings()).server


def create_app(settings: Settings, runtime: Runtime | None = None):
    """The full web app: the Flask server plus the Dash pages (the Dash app's `.server` is the Flask app)."""
    from dashboard.pages import mount_dash

    server = create_server(settings, runtime, behind_proxies=False)
    app = mount_dash(server, settings)
    preload_command_center(server)
    trust_proxies(server, settings)  # outside Socket.IO's middleware, which mount_dash installed
    return app
