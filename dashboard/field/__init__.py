"""The field app at /m (issue 13): one page, vanilla ES modules and a service worker for grid workers, department
handlers and enforcement officers on their phones. No Dash: the page talks to /api/v1 only, with the same session
cookie, CSRF (Origin) rules and scope as every other client. Its strings live in the one catalogue
(dashboard/pages/i18n.py; dashboard/field/strings.py merges them in)."""

from __future__ import annotations

import json
from pathlib import Path

from flask import Blueprint, Response, jsonify, redirect, render_template, send_from_directory

from dashboard.field.strings import catalogue

HERE = Path(__file__).parent
STATIC = HERE / "static"
VENDOR = HERE.parent / "assets" / "vendor"
SHELL_MAX_AGE = 3600
field_bp = Blueprint("field", __name__, url_prefix="/m", template_folder="templates", static_folder="static")
SHELL_CACHE = "no-cache"  # revalidated every time: the service worker serves the cached shell when offline
MANIFEST = {
    "name": "网格指挥 · 移动端",
    "short_name": "网格指挥",
    "description": "GridCommand field app: tasks, reports, feedback, position sharing",
    "lang": "zh-CN",
    "start_url": "/m/",
    "scope": "/m/",
    "display": "standalone",
    "orientation": "portrait",
    "background_color": "#f4f6f8",
    "theme_color": "#0b5cab",
    "icons": [
        {"src": "/m/static/icon-192.png", "sizes": "192x192", "type": "image/png"},
        {"src": "/m/static/icon-512.png", "sizes": "512x512", "type": "image/png"},
        {"src": "/m/static/icon.svg", "sizes": "any", "type": "image/svg+xml"},
    ],
}


@field_bp.get("")
def bare():
    """/m → /m/ (the service worker's scope)."""
    return redirect("/m/", code=308)


@field_bp.get("/")
def shell():
    """The one page of the app; signing in happens inside it (POST /api/v1/auth/login)."""
    strings = json.dumps(catalogue(), ensure_ascii=False, separators=(",", ":"))
    response = Response(render_template("field.html", strings=strings), mimetype="text/html")
    response.headers["Cache-Control"] = SHELL_CACHE
    return response


@field_bp.get("/manifest.webmanifest")
def manifest():
    """The PWA manifest (installable: name, icons, standalone display, scope /m/)."""
    response = jsonify(MANIFEST)
    response.mimetype = "application/manifest+json"
    return response


@field_bp.get("/sw.js")
def service_worker():
    """The service worker, served from /m/ so that its scope is the app's; never cached by HTTP."""
    response = send_from_directory(STATIC, "sw.js", mimetype="text/javascript", max_age=0)
    response.headers["Cache-Control"] = SHELL_CACHE
    response.headers["Service-Worker-Allowed"] = "/m/"
    return response


@field_bp.get("/vendor/socket.io.min.js")
def socket_client():
    """The vendored Socket.IO client (dashboard/assets/vendor), under the app's scope so the worker caches it."""
    return send_from_directory(VENDOR, "socket.io.min.js", mimetype="text/javascript", max_age=SHELL_MAX_AGE)
