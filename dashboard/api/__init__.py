"""The REST API under /api/v1: one blueprint, pydantic validation at the edge, an OpenAPI description."""

from __future__ import annotations

import json
import logging

from flask import Blueprint, Flask, jsonify, request
from pydantic import BaseModel
from spectree import SpecTree
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException

from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dashboard.strict_json import strict_loads
from dispatcher.errors import EngineError

log = logging.getLogger(__name__)

api = Blueprint("api", __name__, url_prefix="/api/v1")
spec = SpecTree(
    "flask",
    title="GridCommand API",
    version="1",
    path="apidoc",  # spectree's own route (it skips documenting routes under this prefix)
    page_templates={},
    mode="strict",
    annotations=True,
    validation_error_status=422,
)


@api.get("/openapi.json")
def openapi():
    """The OpenAPI description of this API."""
    return jsonify(spec.spec)


def error(status: int, code: str, message: str, field: str | None = None, details=None):
    """The one JSON error shape: {"error": {"code", "message", "field", "details"}}."""
    body = {"code": code, "message": message, "field": field}
    if details is not None:
        body["details"] = details
    return jsonify(error=body), status


class ErrorBody(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorResponse(BaseModel):
    """Every 4xx/5xx answer of the API."""

    error: ErrorBody


PUBLIC_ENDPOINTS = {"api.openapi", "api.api_login", "api.api_logout"}
MULTIPART_ENDPOINTS = {"api.create_report", "api.add_media"}  # multipart bodies (dashboard/api/reports.py, evidence.py)


@api.before_request
def _authenticate():
    """Every API call needs a session or a bearer token, except the OpenAPI description and signing in."""
    if request.endpoint not in PUBLIC_ENDPOINTS:
        require_principal()


@api.before_request
def _current_grids():
    """Another web process may have imported new grids: route with the version in force."""
    current_runtime().refresh_grids()


@api.before_request
def _reject_unreadable_bodies():
    """Bodies must be JSON: another media type is a 415, broken JSON a 400 (never read as an empty object), and
    so are NaN, Infinity and absurdly nested JSON (dashboard/strict_json.py)."""
    if request.endpoint in MULTIPART_ENDPOINTS:  # reports with photos, voice, video: checked by the view itself
        request.max_content_length = current_runtime().settings.max_report_bytes
        return None
    if request.method not in ("POST", "PUT", "PATCH") or not request.content_length:
        return None
    if not request.is_json:
        return error(415, "unsupported_media_type", f"send the body as application/json, not {request.mimetype!r}")
    try:
        body = strict_loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError) as exc:  # UnsafeJSON too: NaN, Infinity, nesting deeper than 100
        return error(400, "bad_json", f"request body is not valid JSON: {exc}")
    where = _nul_in(body, "body")
    return error(422, "nul_character", f"{where} contains a NUL character", where) if where else None


@api.before_request
def _reject_nul_characters():
    """NUL (U+0000) cannot be stored as text (PostgreSQL refuses it): a 422 naming where it was."""
    for where, value in [
        ("path", request.path),
        *(("query." + k, v) for k, v in request.args.items(multi=True)),
        *(("header." + k, v) for k, v in request.headers.items()),
    ]:
        if "\x00" in value:
            return error(422, "nul_character", f"{where} contains a NUL character", where)
    return None


def _nul_in(value, where: str) -> str | None:
    """The location of the first NUL character inside a parsed JSON value, if any."""
    if isinstance(value, str):
        return where if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = _nul_in(str(key), where) or _nul_in(item, f"{where}.{key}")
        if found:
            return found
    return None


def _validation_hook(req, resp, req_validation_error, instance, model_adapter=None):
    """Rewrite spectree's validation errors into the API's error shape, naming each field."""
    if req_validation_error is None or resp is None:
        return
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())) or None, "message": e.get("msg", "invalid")}
        for e in req_validation_error.errors(include_url=False, include_input=False)
    ]
    message = "; ".join(f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems)
    body = {
        "error": {
            "code": "validation_error",
            "message": message,
            "field": problems[0]["field"] if problems else None,
            "details": problems,
        }
    }
    resp.set_data(json.dumps(body, ensure_ascii=False))
    resp.mimetype = "application/json"


spec.before = _validation_hook
spec.validation_error_model = ErrorResponse  # our hook rewrites spectree's 422 into this shape


def register_errors(app: Flask) -> None:
    """Engine errors, HTTP errors and database outages all answer in the API's JSON error shape."""

    @app.errorhandler(EngineError)
    def _engine_error(exc: EngineError):
        return error(exc.status, exc.code, exc.message, exc.field)

    @app.errorhandler(DataError)
    def _unstorable(exc: DataError):
        log.warning("database refused a value: %s", exc.orig)
        return error(422, "unstorable_value", "a value cannot be stored (out of range or invalid characters)")

    @app.errorhandler(OperationalError)
    def _database_down(exc: OperationalError):
        log.error("database unavailable: %s", exc.orig)
        return error(503, "database_unavailable", "the database is unavailable; retry shortly")

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        if exc.response is not None:  # spectree's validation answer, already in our shape
            return exc.response
        if not request.path.startswith(("/api/", "/health", "/osmand")):
            return exc
        return error(exc.code or 500, exc.name.lower().replace(" ", "_"), exc.description or exc.name)


def init_api(app: Flask) -> None:
    """Register the API blueprint, its error handlers and its OpenAPI description."""
    from dashboard.api import (  # noqa: F401
        analysis,
        analysis_export,
        boxes,
        catalogue,
        evidence,
        feed,
        field,
        grids,
        health,
        incidents,
        intake,
        ledger,
        machine,
        metrics,
        notifications,
        officers,
        osmand,
        patrols,
        reports,
        session,
        stats,
    )
    from dashboard.field import field_bp

    app.register_blueprint(api)
    app.register_blueprint(health.health_bp)
    app.register_blueprint(metrics.metrics_bp)
    metrics.init_metrics(app)
    app.register_blueprint(osmand.osmand_bp)
    app.register_blueprint(field_bp)  # the field app's page, manifest and service worker at /m (dashboard/field/)
    register_errors(app)
    spec.register(app)
