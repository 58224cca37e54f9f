"""Officer positions in: the OsmAnd / Traccar client protocol at /osmand, and a JSON batch endpoint.

Trackers authenticate as Traccar's do, by the device identifier they send as `id` — here a random identifier
of an enrolled device (dispatcher/fleet/devices.py, `gridcommand devices add`); an unknown and a revoked
identifier get one and the same answer. Each device has its own rate limit (settings.rate_limit_device) on
top of the per-address one (settings.rate_limit_osmand, counted for every request, known device or not). Both are
counted in the position store's pipeline with the track read (workers/positions.py): a fix costs two Redis round
trips and the device lookup none (the runtime's cache of live devices). The batch endpoint takes only an API token
bound to the device it posts for. NaN and ±Infinity are refused in every number, naming the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

import redis
from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.api.metrics import count_fix
from dashboard.auth import require_principal
from dashboard.runtime import Runtime, current_runtime
from dispatcher.errors import Forbidden
from dispatcher.fleet.devices import Enrolled, device_of_token
from dispatcher.fleet.officers import Officer
from dispatcher.fleet.positions import Fix
from workers.positions import Budget, OverLimit

osmand_bp = Blueprint("osmand", __name__)
KNOT_MPS = 0.514444
KNOWN_KEYS = {
    "id",
    "deviceid",
    "lat",
    "lon",
    "location",
    "timestamp",
    "speed",
    "bearing",
    "heading",
    "altitude",
    "accuracy",
    "batt",
    "charge",
    "hdop",
}

UNKNOWN_DEVICE = (
    "this device identifier is not enrolled, or was revoked: enrol the tracker (`gridcommand devices add OFFICER` "
    "or the admin's device page) and enter the new identifier"
)  # the same words for an unknown and a revoked identifier: the answer tells nothing about which
FINITE = ConfigDict(allow_inf_nan=False)  # NaN and Infinity break every JSON reader downstream
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class OsmAndParams(BaseModel):
    """The query/form fields of the OsmAnd protocol (speed in knots)."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False)
    id: Annotated[str, Field(min_length=1, max_length=64)]
    lat: Latitude
    lon: Longitude
    timestamp: str | None = None
    speed: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    bearing: Annotated[float, Field(allow_inf_nan=False)] | None = None
    altitude: Annotated[float, Field(allow_inf_nan=False)] | None = None
    accuracy: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    batt: Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)] | None = None


class Coords(BaseModel):
    model_config = FINITE
    latitude: Latitude
    longitude: Longitude
    accuracy: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    speed: float | None = Field(default=None, description="m/s")
    heading: float | None = None
    altitude: float | None = None


class Battery(BaseModel):
    model_config = FINITE
    level: Annotated[float, Field(ge=-1, le=1)] | None = None
    is_charging: bool | None = None


class Location(BaseModel):
    model_config = FINITE
    timestamp: str | float | None = None
    coords: Coords
    is_moving: bool | None = None
    battery: Battery | None = None
    event: str | None = None
    extras: dict[str, Any] | None = None


class OsmAndJson(BaseModel):
    """The JSON form of the OsmAnd / Traccar client protocol (speed in m/s)."""

    model_config = FINITE

    device_id: Annotated[str, Field(min_length=1, max_length=64)]
    location: Location


class BatchFix(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    device_id: Annotated[str, Field(min_length=1, max_length=64)] | None = Field(
        default=None, description="the public id (dv-…) of the device the token is bound to; absent means that one"
    )
    at: datetime
    lon: Longitude
    lat: Latitude
    speed_mps: Annotated[float, Field(ge=0)] | None = None
    heading: float | None = None
    accuracy_m: Annotated[float, Field(ge=0)] | None = None


class PositionBatch(BaseModel):
    """Many fixes at once (e.g. from a mobile app that buffered while offline)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    positions: Annotated[list[BatchFix], Field(min_length=1, max_length=1000)]


class BatchOut(BaseModel):
    accepted: int
    results: list[dict]


class BadInput(ValueError):
    """A request that cannot be read as a position."""


def parse_timestamp(value: str | float | None, now: datetime) -> datetime:
    """Unix seconds, unix milliseconds or ISO 8601; missing means now."""
    if value is None or value == "":
        return now
    try:
        number = float(value)
    except (TypeError, ValueError):
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            raise BadInput(f"timestamp {value!r} is neither unix time nor ISO 8601") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    if not math.isfinite(number) or number < 0:
        raise BadInput(f"timestamp {value!r} is not a valid time")
    seconds = number / 1000 if number > 1e11 else number
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        raise BadInput(f"timestamp {value!r} is out of range") from None


def fix_from_params(values: dict[str, str], now: datetime) -> Fix:
    """A Fix from OsmAnd query or form fields."""
    values = dict(values)
    if "id" not in values and "deviceid" in values:
        values["id"] = values["deviceid"]
    if "location" in values and ("lat" not in values or "lon" not in values):
        parts = values["location"].split(",")
        if len(parts) != 2:
            raise BadInput(f"location {values['location']!r} must be 'lat,lon'")
        values["lat"], values["lon"] = parts
    if "bearing" not in values and "heading" in values:
        values["bearing"] = values["heading"]
    params = OsmAndParams.model_validate(values)
    attributes = {k: v for k, v in values.items() if k not in KNOWN_KEYS}
    return Fix(
        device_id=params.id,
        at=parse_timestamp(params.timestamp, now),
        lon=params.lon,
        lat=params.lat,
        speed_mps=None if params.speed is None else params.speed * KNOT_MPS,
        heading=params.bearing,
        accuracy_m=params.accuracy,
        altitude=params.altitude,
        battery=params.batt,
        attributes=attributes,
    )


def json_body() -> Any:
    """The JSON body as Python reads it: NaN and ±Infinity come through, so that the model refuses them naming
    their field (the app's strict JSON reader would only say "NaN"); nesting too deep for the parser is refused."""
    try:
        return json.loads(request.get_data(cache=True))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadInput(f"request body is not valid JSON: {str(exc)[:200]}") from None


def fix_from_json(body: Any, now: datetime) -> Fix:
    """A Fix from the JSON form of the protocol."""
    data = OsmAndJson.model_validate(body)
    loc, coords = data.location, data.location.coords
    extras = {k: v for k, v in (loc.extras or {}).items() if isinstance(v, str | int)}  # no floats: no NaN
    attributes = {**extras, **({"event": loc.event} if loc.event else {})}
    battery = (
        loc.battery.level * 100 if loc.battery and loc.battery.level is not None and loc.battery.level >= 0 else None
    )
    return Fix(
        device_id=data.device_id,
        at=parse_timestamp(loc.timestamp, now),
        lon=coords.longitude,
        lat=coords.latitude,
        speed_mps=coords.speed,
        heading=coords.heading,
        accuracy_m=coords.accuracy,
        altitude=coords.altitude,
        battery=battery,
        attributes=attributes,
    )


def _describe(exc: ValidationError) -> str:
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in exc.errors())


def ingest(fix: Fix, now: datetime):
    """Run one fix through the pipeline: 429 when its address or its device sends too often, 401 for an identifier
    that is not a live device, 200 whether kept or filtered as noise; 503 while the position store is away."""
    rt = current_runtime()
    store = rt.positions
    if store is None:
        return error(503, "positions_unavailable", "the position store (Redis) is not configured")
    device = rt.device_for(fix.device_id)
    per_address = Budget("osmand", request.remote_addr or "-", rt.settings.rate_limit_osmand)
    try:
        if device is None:
            over = store.spend([per_address], now)
            return too_many(over) if over else error(401, "unknown_device", UNKNOWN_DEVICE, "id")
        budgets = [per_address, device_budget(rt, device.device_id)]
        result = store.ingest(device.officer, replace(fix, device_id=device.device_id), rt.city.grids, now, budgets)
    except redis.RedisError as exc:
        return store_away(exc)
    if result.limited is not None:
        return too_many(result.limited)
    count_fix(result.accepted)
    return jsonify(accepted=result.accepted, reason=result.reason, events=list(result.events)), 200


def device_budget(rt: Runtime, device_id: str) -> Budget:
    """One budget per device across /osmand and the batch endpoint (settings.rate_limit_device)."""
    return Budget("device", device_id, rt.settings.rate_limit_device)


def over_device_limit(rt: Runtime, device_id: str):
    """A 429 naming the device when it sent more than settings.rate_limit_device (one round trip), a 503 while Redis
    is away, else None."""
    if rt.positions is None:
        return None
    try:
        over = rt.positions.spend([device_budget(rt, device_id)], rt.clock())
    except redis.RedisError as exc:
        return store_away(exc)
    return too_many(over) if over is not None else None


def too_many(over: OverLimit):
    """A 429 naming the device (or the address's limit) with Retry-After."""
    if over.budget.scope == "device":
        message = f"too many position reports from device {over.budget.who}: at most {over.allowance}; retry later"
    else:
        message = f"too many requests to osmand from this address: at most {over.allowance}; retry later"
    response, status = error(429, "rate_limited", message)
    response.headers["Retry-After"] = str(over.retry_after_s)
    return response, status


def store_away(exc: redis.RedisError):
    """A 503 while Redis is unreachable (the tracker retries; nothing was stored)."""
    return error(503, "positions_unavailable", f"the position store (Redis) is unavailable: {type(exc).__name__}")


@osmand_bp.route("/osmand", methods=["GET", "POST"])
def osmand():
    """OsmAnd / Traccar client: GET query, form POST or JSON POST."""
    now = current_runtime().clock()
    try:
        if request.method == "POST" and request.is_json:
            fix = fix_from_json(json_body(), now)
        else:
            form = request.form.to_dict() if request.method == "POST" else {}  # a GET has no form to parse
            fix = fix_from_params({**request.args.to_dict(), **form}, now)
    except ValidationError as exc:
        return error(400, "bad_position", _describe(exc))
    except BadInput as exc:
        return error(400, "bad_position", str(exc))
    return ingest(fix, now)


def posting_device(rt: Runtime) -> Enrolled:
    """The live device the request's bearer token is bound to; Forbidden for a person or any other token."""
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if token:
        with rt.sessions() as session:
            device = device_of_token(session, token)
            officer = session.get(Officer, device.officer_id) if device is not None else None
            session.expunge_all()
        if device is not None and officer is not None:
            return Enrolled(device.id, officer)
    caller = require_principal()
    raise Forbidden(
        f"positions come from trackers: {caller.username} ({caller.role}) may not post them; send the API token "
        "bound to the device (`gridcommand devices token DEVICE --account USER`)",
        field="Authorization",
    )


@api.post("/positions")
@spec.validate(
    json=PositionBatch,
    resp=Response(HTTP_200=BatchOut, HTTP_403=ErrorResponse, HTTP_422=ErrorResponse, HTTP_429=ErrorResponse),
    tags=["officers"],
)
def positions(json: PositionBatch):
    """A batch of fixes of the one device the bearer token is bound to; each result says accepted or filtered
    (with the reason). People and tokens not bound to that device get 403."""
    rt = current_runtime()
    device = posting_device(rt)
    for index, item in enumerate(json.positions):
        if item.device_id is not None and item.device_id != device.device_id:
            raise Forbidden(
                f"this token is bound to device {device.device_id}; it may not post for device {item.device_id!r}",
                field=f"positions.{index}.device_id",
            )
    if rt.positions is None:
        return error(503, "positions_unavailable", "the position store (Redis) is not configured")
    limited = over_device_limit(rt, device.device_id)
    if limited is not None:
        return limited
    now = rt.clock()
    results: list[dict] = [{} for _ in json.positions]
    for index in sorted(range(len(json.positions)), key=lambda i: json.positions[i].at):  # oldest first
        item = json.positions[index]
        at = item.at if item.at.tzinfo else item.at.replace(tzinfo=UTC)
        fix = Fix(
            device_id=device.device_id,
            at=at,
            lon=item.lon,
            lat=item.lat,
            speed_mps=item.speed_mps,
            heading=item.heading,
            accuracy_m=item.accuracy_m,
        )
        result = rt.positions.ingest(device.officer, fix, rt.city.grids, now)
        count_fix(result.accepted)
        results[index] = {"device_id": device.device_id, "accepted": result.accepted, "reason": result.reason}
    return jsonify(accepted=sum(r["accepted"] for r in results), results=results)
