"""Open311 GeoReport v2 at /open311/v2: public reports from partner apps, in JSON and XML.

GET discovery, services, services/{code}, requests, requests/{id}, tokens/{token} are public (the spec's
reads). requests and tokens show only the cases the city publishes (data/open311_public.yaml, see
dispatcher/intake/publication.py): any other case is left out of lists and is a 404 like an unknown id; an
unreadable rules file publishes nothing (503). POST requests takes form fields (the spec's encoding) and an
`api_key`: an ApiToken of kind "open311" whose account may take reports; the incident is reported by that
account through the open311 channel. Errors are `[{"code", "description"}]` (XML: <errors><error>…) with 400
(missing/invalid field, named), 403 (api_key) and 404 (unknown service, request or path).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Response, current_app, request
from flask_limiter import RateLimitExceeded
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.exceptions import NotFound as RouteNotFound

from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Account, ApiToken, hash_secret
from dispatcher.access.roles import REPORTERS, Role
from dispatcher.cases.incident import Channel, Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import EngineError
from dispatcher.intake import open311 as o311
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.open311_xml import to_xml
from dispatcher.intake.publication import PUBLICATION_FILE, Publication, check_publication, load_publication
from dispatcher.intake.reports import create_incident

log = logging.getLogger(__name__)

open311_bp = Blueprint("open311", __name__, url_prefix="/open311/v2")
FMT = "<any(json, xml):fmt>"
TOKEN_KIND = "open311"
CATALOGUE_FILES = ("categories.yaml", "departments.yaml", "routing.yaml")
BAD_KEY = "Invalid api_key received -- can't proceed with create_request."


def _lang() -> str:
    return o311.language(request.args.get("locale") or request.form.get("locale"))


def _format() -> str:
    fmt = (request.view_args or {}).get("fmt")
    if fmt in o311.FORMATS:
        return fmt
    return "xml" if request.path.lower().endswith(".xml") else "json"


def answer(kind: str, payload, status: int = 200, fmt: str | None = None) -> Response:
    """The payload as JSON or as the spec's XML, UTF-8."""
    fmt = fmt or _format()
    if fmt == "xml":
        body = to_xml(kind, payload)
    else:
        body = current_app.json.dumps(payload)
    return Response(body, status=status, content_type=f"{o311.FORMATS[fmt]}; charset=utf-8")


def fail(status: int, description: str) -> Response:
    return answer("errors", o311.error_payload(status, description), status)


# --- errors: always the spec's shape, never a 5xx for bad input --------------------------------------


@open311_bp.errorhandler(o311.Open311Error)
def _open311_error(exc: o311.Open311Error):
    return fail(exc.status, exc.description)


@open311_bp.errorhandler(EngineError)
def _engine_error(exc: EngineError):
    status = exc.status if exc.status in (403, 404) else 400
    return fail(status, exc.message)


@open311_bp.errorhandler(DataError)
def _unstorable(exc: DataError):
    log.warning("open311: database refused a value: %s", exc.orig)
    return fail(400, "a value cannot be stored (out of range or invalid characters)")


@open311_bp.errorhandler(OperationalError)
def _database_down(exc: OperationalError):
    log.error("open311: database unavailable: %s", exc.orig)
    return fail(503, "the service is temporarily unavailable; retry shortly")


@open311_bp.errorhandler(RateLimitExceeded)
def _too_many(exc: RateLimitExceeded):
    return fail(429, f"too many requests from this address: at most {exc.description}; retry later")


@open311_bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return fail(exc.code or 400, exc.description or exc.name)


@open311_bp.before_request
def _reject_nul():
    """NUL cannot be stored as text: a 400 naming the field."""
    for name, value in [*request.args.items(multi=True), *request.form.items(multi=True)]:
        if "\x00" in name or "\x00" in value:
            return fail(400, f"{name.replace(chr(0), '')} contains a NUL character")
    if "\x00" in request.path:
        return fail(400, "the path contains a NUL character")
    return None


# --- discovery and services --------------------------------------------------------------------------


def _changeset() -> datetime:
    """When the service list last changed: the newest catalogue file."""
    data_dir = current_runtime().settings.data_dir
    stamps = [(data_dir / name).stat().st_mtime for name in CATALOGUE_FILES if (data_dir / name).exists()]
    return (
        datetime.fromtimestamp(max(stamps), UTC).replace(microsecond=0) if stamps else datetime(2026, 1, 1, tzinfo=UTC)
    )


@open311_bp.get(f"/discovery.{FMT}")
def discovery(fmt: str):
    endpoint = request.url_root.rstrip("/") + open311_bp.url_prefix + "/"
    body = o311.discovery(
        endpoint,
        _changeset(),
        contact="GridCommand command center (指挥中心)",
        key_service="Ask the command center's administrator for an api_key "
        "(gridcommand accounts token USER --kind open311).",
    )
    return answer("discovery", body)


@open311_bp.get(f"/services.{FMT}")
def services(fmt: str):
    return answer("services", o311.services(current_runtime().city.catalogue, _lang()))


@open311_bp.get(f"/services/<code>.{FMT}")
def service_definition(code: str, fmt: str):
    category = current_runtime().city.catalogue.find_category(code)
    if category is None:
        return fail(404, f"service_code {code!r} is not a service here")
    return answer("service_definition", o311.service_definition(category, _lang()))


# --- POST requests -----------------------------------------------------------------------------------


def _fields() -> dict[str, str]:
    """Form fields, with query-string fields as a fallback (some clients send api_key there)."""
    return {**request.args.to_dict(), **request.form.to_dict()}


def _reporter(session, api_key: str | None) -> Account:
    """The account behind an open311 api_key that may take reports; 403 otherwise."""
    if not api_key:
        raise o311.Open311Error(403, "api_key is required to create a service request")
    account = session.execute(
        select(Account)
        .join(ApiToken, ApiToken.account_id == Account.id)
        .where(
            ApiToken.token_hash == hash_secret(api_key),
            ApiToken.kind == TOKEN_KIND,
            ApiToken.revoked_at.is_(None),
            Account.disabled.is_(False),
        )
    ).scalar_one_or_none()
    if account is None:
        raise o311.Open311Error(403, BAD_KEY)
    if Role(account.role) not in REPORTERS:
        raise o311.Open311Error(403, f"the account of this api_key (role {account.role}) may not create requests")
    return account


def _text(fields: dict[str, str], name: str, limit: int) -> str | None:
    value = (fields.get(name) or "").strip()
    if len(value) > limit:
        raise o311.Open311Error(400, f"{name} is {len(value)} characters long; at most {limit} are allowed")
    return value or None


def _command(fields: dict[str, str], lang: str) -> tuple[CreateIncident, str | None]:
    """Read the spec's fields into our command; 400 naming the field at fault."""
    catalogue = current_runtime().city.catalogue
    code = (fields.get("service_code") or "").strip()
    if not code:
        raise o311.Open311Error(400, "service_code is required")
    category = catalogue.find_category(code)
    if category is None:
        raise o311.Open311Error(400, f"service_code {code!r} is not a service here (see services.json)")
    lon, lat = o311.parse_location(fields.get("lat"), fields.get("long"))
    address = _text(fields, "address_string", o311.MAX_ADDRESS)
    address_id = _text(fields, "address_id", 64)
    if address is None and address_id is not None:
        address = f"address_id {address_id}"
    if lon is None and address is None:
        raise o311.Open311Error(400, "a location is required: lat and long, address_string or address_id")
    description = (
        _text(fields, "description", o311.MAX_DESCRIPTION) or o311.service(catalogue, category, lang)["service_name"]
    )
    media = o311.parse_media_url(fields.get("media_url"))
    name = o311.reporter_name(_text(fields, "first_name", 64), _text(fields, "last_name", 64))
    if name is not None and len(name) > 64:
        raise o311.Open311Error(400, "first_name and last_name together are longer than 64 characters")
    phone = _text(fields, "phone", 32)
    attributes = o311.parse_attributes(category, fields)
    try:
        command = CreateIncident(
            channel=Channel.OPEN311,
            category_code=category.code,
            description=description,
            lon=lon,
            lat=lat,
            address=address,
            reporter_name=name,
            reporter_phone=phone,
            urgency=attributes.get(o311.URGENCY),
        )
    except ValidationError as exc:
        raise o311.Open311Error(400, _describe(exc)) from None
    return command, media


OUR_FIELDS = {
    "reporter_phone": "phone",
    "reporter_name": "first_name/last_name",
    "lon": "long",
    "address": "address_string",
    "category_code": "service_code",
    "urgency": "attribute[urgency]",
}


def _describe(exc: ValidationError) -> str:
    parts = []
    for problem in exc.errors(include_url=False, include_input=False):
        field = ".".join(str(p) for p in problem.get("loc", ()))
        parts.append(
            f"{OUR_FIELDS.get(field, field)}: {problem.get('msg', 'invalid')}"
            if field
            else problem.get("msg", "invalid")
        )
    return "; ".join(parts) or "invalid request"


@open311_bp.post(f"/requests.{FMT}")
def create_request(fmt: str):
    """Create a service request (realtime: the id comes back at once)."""
    rt = current_runtime()
    rt.refresh_grids()
    fields = _fields()
    lang = _lang()
    now = rt.clock()
    with UnitOfWork(rt.sessions) as uow:
        account = _reporter(uow.session, fields.get("api_key"))
        command, media = _command(fields, lang)
        uow.actor_role, uow.ip = account.role, request.remote_addr
        incident = create_incident(uow, rt.city, command, actor=account.username, now=now)
        if media:
            report = incident.timeline[0]
            report.data = {**(report.data or {}), "media_url": media}
        uow.session.flush()
        body = [o311.created(incident, rt.city.catalogue, lang)]
        uow.commit(now)
    rt.after_commit()
    return answer("requests", body, 201)


# --- GET requests ------------------------------------------------------------------------------------


def _publication() -> Publication:
    """The city's publication rules; 503 (nothing published) when the file is missing, invalid or names codes
    the catalogue does not have."""
    rt = current_runtime()
    try:
        publication = load_publication(rt.settings.data_dir / PUBLICATION_FILE)
        problems = check_publication(publication, rt.city.catalogue)
    except ValueError as exc:
        problems = [str(exc)]
    if problems:
        log.error("open311: nothing is published until %s is fixed: %s", PUBLICATION_FILE, "; ".join(problems))
        raise o311.Open311Error(
            503, f"requests are unavailable: the publication rules ({PUBLICATION_FILE}) are invalid"
        )
    return publication


def _present(incidents, publication: Publication) -> list[dict]:
    rt = current_runtime()
    tz, lang = rt.city.calendar.tz, _lang()
    return [o311.service_request(i, rt.city.catalogue, publication, tz=tz, lang=lang) for i in incidents]


def _published(session, incident_id: str) -> Incident | None:
    """The case with this id if the city publishes it; None for an unknown id and a case that is not public alike."""
    if len(incident_id) > 36:
        return None
    query = select(Incident).where(Incident.id == incident_id, _publication().published())
    return session.execute(query).scalar_one_or_none()


@open311_bp.get(f"/requests.{FMT}")
def list_requests(fmt: str):
    """Published service requests, newest first: by ids, or by service, status and a ≤ 90-day window (default the
    last 90)."""
    rt = current_runtime()
    args = request.args
    wanted = o311.ids(o311.parse_list(args.get("service_request_id"), "service_request_id"))
    publication = _publication()
    query = select(Incident).where(publication.published())
    if wanted:  # the spec: with ids, every other filter is ignored
        query = query.where(Incident.id.in_(wanted))
    else:
        codes = o311.parse_list(args.get("service_code"), "service_code")
        unknown = [c for c in codes if rt.city.catalogue.find_category(c) is None]
        if unknown:
            raise o311.Open311Error(400, f"service_code {', '.join(unknown)} is not a service here")
        statuses = o311.parse_statuses(args.get("status"))
        start, end = o311.date_window(args.get("start_date"), args.get("end_date"), rt.clock())
        query = query.where(Incident.created_at >= start, Incident.created_at <= end)
        if codes:
            query = query.where(Incident.category_code.in_(codes))
        if statuses == {"open"}:
            query = query.where(Incident.status.in_([str(s) for s in OPEN_STATUSES]))
        elif statuses == {"closed"}:
            query = query.where(Incident.status.not_in([str(s) for s in OPEN_STATUSES]))
    query = query.order_by(Incident.created_at.desc(), Incident.id).limit(o311.MAX_RESULTS)
    with rt.sessions() as session:
        body = _present(session.execute(query).scalars().all(), publication)
    return answer("requests", body)


@open311_bp.get(f"/requests/<request_id>.{FMT}")
def read_request(request_id: str, fmt: str):
    """One published service request; 404 for an unknown id and an unpublished case alike."""
    with current_runtime().sessions() as session:
        incident = _published(session, request_id)
        if incident is None:
            return fail(404, f"service_request_id {request_id!r} does not exist")
        body = _present([incident], _publication())
    return answer("requests", body)


@open311_bp.get(f"/tokens/<token>.{FMT}")
def read_token(token: str, fmt: str):
    """Requests are created synchronously, so a token is the request id itself."""
    with current_runtime().sessions() as session:
        incident = _published(session, token)
        if incident is None:
            return fail(404, f"token {token!r} does not exist")
        return answer("requests", [o311.token_answer(incident.id, token)])


# --- everything else under /open311/v2 ---------------------------------------------------------------


@open311_bp.route("/", defaults={"rest": ""}, methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
@open311_bp.route("/<path:rest>", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
def unknown(rest: str):
    """404 (or 405 for a known resource with the wrong method) in the spec's error shape."""
    adapter = current_app.url_map.bind(request.host)
    for method in ("GET", "POST"):
        if method == request.method:
            continue
        try:
            endpoint, _ = adapter.match(request.path, method=method)
        except (RouteNotFound, MethodNotAllowed, HTTPException):
            continue
        if endpoint != "open311.unknown":
            return fail(405, f"{request.method} is not allowed on {request.path}")
    return fail(
        404,
        f"{request.path} is not an Open311 GeoReport v2 resource here "
        "(discovery, services, services/{code}, requests, requests/{id}, tokens/{token}; "
        ".json or .xml)",
    )
