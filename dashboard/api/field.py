"""What the field app (/m, dashboard/field/) needs beyond the common API: an officer's own position from the phone,
which officer the signed-in account is, and the actions this person may take on a case.

An account is linked to an officer by its `officer_id` (set by `gridcommand accounts link` or the demo accounts
file); an account without one still counts as the officer whose id is its username, as the simulator's service
accounts do. Only a linked account posts positions, and only its own: the body names no officer or device. Each
fix goes through the trackers' path (the position store's noise filter, grid enter/exit, push, history) and their
per-device rate limit. Patrols (巡查) are in dashboard/api/patrols.py.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import redis
from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.api.metrics import count_fix
from dashboard.api.osmand import Latitude, Longitude, over_device_limit
from dashboard.api.patrols import linked_officer
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.cases.actions import get_incident
from dispatcher.cases.lifecycle import allowed_actions
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Forbidden
from dispatcher.fleet.positions import Fix
from dispatcher.handling.workflow import may_act

TAG = "field"
PHONE_DEVICE = "phone:{officer}"  # the device id a phone's fixes carry (no enrolled tracker has this form)


class MyFix(BaseModel):
    """One fix from the phone's browser (navigator.geolocation), in EPSG:4326."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)
    lon: Longitude
    lat: Latitude
    accuracy_m: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    speed_mps: Annotated[float, Field(ge=0, allow_inf_nan=False)] | None = None
    heading: Annotated[float, Field(allow_inf_nan=False)] | None = None
    at: datetime | None = Field(default=None, description="when the phone took the fix (default: now)")


class FixOut(BaseModel):
    accepted: bool
    reason: str | None
    officer_id: str


class OfficerOut(BaseModel):
    officer_id: str | None
    name: str | None
    on_duty: bool | None


class ActionsOut(BaseModel):
    incident_id: str
    version: int
    actions: list[str]


@api.get("/me/officer")
@spec.validate(resp=Response(HTTP_200=OfficerOut), tags=[TAG])
def my_officer():
    """The officer the signed-in account is linked to (all null when none: it may not share a position)."""
    officer = linked_officer(require_principal())
    if officer is None:
        return jsonify(officer_id=None, name=None, on_duty=None)
    return jsonify(officer_id=officer.id, name=officer.name, on_duty=officer.on_duty)


@api.post("/me/position")
@spec.validate(
    json=MyFix,
    resp=Response(
        HTTP_200=FixOut, HTTP_403=ErrorResponse, HTTP_422=ErrorResponse, HTTP_429=ErrorResponse, HTTP_503=ErrorResponse
    ),
    tags=[TAG],
)
def my_position(json: MyFix):
    """The signed-in officer's own position, shared from the phone with their consent; filtered like a tracker's
    (200 with accepted false and the reason when it is noise). 403 for an account linked to no officer."""
    principal = require_principal()
    officer = linked_officer(principal)
    if officer is None:
        raise Forbidden(
            f"account {principal.username} is not linked to an officer: only officers share their position",
            field="account",
        )
    rt = current_runtime()
    if rt.positions is None:
        return error(503, "positions_unavailable", "the position store (Redis) is not configured")
    device_id = PHONE_DEVICE.format(officer=officer.id)
    limited = over_device_limit(rt, device_id)
    if limited is not None:
        return limited
    now = rt.clock()
    fix = Fix(
        device_id=device_id,
        at=json.at or now,
        lon=json.lon,
        lat=json.lat,
        speed_mps=json.speed_mps,
        heading=json.heading,
        accuracy_m=json.accuracy_m,
    )
    try:
        result = rt.positions.ingest(officer, fix, rt.city.grids, now)
    except redis.RedisError as exc:  # nothing was stored: the phone sends its next fix later
        return error(503, "positions_unavailable", f"the position store (Redis) is unavailable: {type(exc).__name__}")
    count_fix(result.accepted)
    return jsonify(accepted=result.accepted, reason=result.reason, officer_id=officer.id)


@api.get("/me/actions/<incident_id>")
@spec.validate(resp=Response(HTTP_200=ActionsOut, HTTP_404=ErrorResponse), tags=[TAG])
def my_actions(incident_id: str):
    """The actions the signed-in person may take on this case now (its status, their scope and the closing path)."""
    principal = require_principal()
    rt = current_runtime()
    with UnitOfWork(rt.sessions) as uow:
        incident = get_incident(uow, incident_id, principal=principal)
        actions = sorted(str(a) for a in allowed_actions(incident.state) if may_act(rt.city, principal, a, incident))
        return jsonify(incident_id=incident.id, version=incident.version, actions=actions)
