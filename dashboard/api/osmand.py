"""Officer positions in: the OsmAnd / Traccar client protocol at /osmand, and a JSON batch endpoint."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Annotated, Any

from flask import Blueprint, jsonify, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.runtime import current_runtime
from dispatcher.fleet.positions import Fix

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

Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]


class OsmAndParams(BaseModel):
    """The query/form fields of the OsmAnd protocol (speed in knots)."""

    model_config = ConfigDict(extra="ignore")
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
    latitude: Latitude
    longitude: Longitude
    accuracy: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    speed: float | None = Field(default=None, description="m/s")
    heading: float | None = None
    altitude: float | None = None


class Battery(BaseModel):
    level: Annotated[float, Field(ge=-1, le=1)] | None = None
    is_charging: bool | None = None


class Location(BaseModel):
    timestamp: str | float | None = None
    coords: Coords
    is_moving: bool | None = None
    battery: Battery | None = None
    event: str | None = None
    extras: dict[str, Any] | None = None


class OsmAndJson(BaseModel):
    """The JSON form of the OsmAnd / Traccar client protocol (speed in m/s)."""

    device_id: Annotated[str, Field(min_length=1, max_length=64)]
    location: Location


class BatchFix(BaseModel):
    model_config = ConfigDict(extra="forbid")
    device_id: Annotated[str, Field(min_length=1, max_length=64)]
    at: datetime
    lon: Longitude
    lat: Latitude
    speed_mps: Annotated[float, Field(ge=0)] | None = None
    heading: float | None = None
    accuracy_m: Annotated[float, Field(ge=0)] | None = None


class PositionBatch(BaseModel):
    """Many fixes at once (e.g. from a mobile app that buffered while offline)."""

    model_config = ConfigDict(extra="forbid")
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


def fix_from_json(body: Any, now: datetime) -> Fix:
    """A Fix from the JSON form of the protocol."""
    data = OsmAndJson.model_validate(body)
    loc, coords = data.location, data.location.coords
    attributes = {**(loc.extras or {}), **({"event": loc.event} if loc.event else {})}
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


def ingest(fix: Fix):
    """Run one fix through the pipeline: 404 for an unknown device, 200 whether kept or filtered as noise."""
    rt = current_runtime()
    store = rt.positions
    if store is None:
        return error(503, "positions_unavailable", "the position store (Redis) is not configured")
    officer = rt.officer_for_device(fix.device_id)
    if officer is None:
        return error(404, "unknown_device", f"unknown device {fix.device_id!r}", "id")
    result = store.ingest(officer, fix, rt.city.grids, rt.clock())
    return jsonify(accepted=result.accepted, reason=result.reason, events=list(result.events)), 200


@osmand_bp.route("/osmand", methods=["GET", "POST"])
def osmand():
    """OsmAnd / Traccar client: GET query, form POST or JSON POST."""
    now = current_runtime().clock()
    try:
        if request.method == "POST" and request.is_json:
            body = request.get_json(silent=True)
            if body is None:
                raise BadInput("request body is not valid JSON")
            fix = fix_from_json(body, now)
        else:
            fix = fix_from_params({**request.args.to_dict(), **request.form.to_dict()}, now)
    except ValidationError as exc:
        return error(400, "bad_position", _describe(exc))
    except BadInput as exc:
        return error(400, "bad_position", str(exc))
    return ingest(fix)


@api.post("/positions")
@spec.validate(json=PositionBatch, resp=Response(HTTP_200=BatchOut, HTTP_422=ErrorResponse), tags=["officers"])
def positions(json: PositionBatch):
    """A batch of fixes; each result says accepted, filtered (with the reason) or unknown device."""
    rt = current_runtime()
    if rt.positions is None:
        return error(503, "positions_unavailable", "the position store (Redis) is not configured")
    now = rt.clock()
    results: list[dict] = [{} for _ in json.positions]
    for index in sorted(range(len(json.positions)), key=lambda i: json.positions[i].at):  # oldest first
        item = json.positions[index]
        officer = rt.officer_for_device(item.device_id)
        if officer is None:
            results[index] = {"device_id": item.device_id, "accepted": False, "reason": "unknown device"}
            continue
        at = item.at if item.at.tzinfo else item.at.replace(tzinfo=UTC)
        fix = Fix(
            device_id=item.device_id,
            at=at,
            lon=item.lon,
            lat=item.lat,
            speed_mps=item.speed_mps,
            heading=item.heading,
            accuracy_m=item.accuracy_m,
        )
        result = rt.positions.ingest(officer, fix, rt.city.grids, now)
        results[index] = {"device_id": item.device_id, "accepted": result.accepted, "reason": result.reason}
    return jsonify(accepted=sum(r["accepted"] for r in results), results=results)
