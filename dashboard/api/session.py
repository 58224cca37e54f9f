"""Sign in and out over the API (the browser login page uses the same functions)."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.auth import SignInThrottled, login, logout, require_principal
from dashboard.runtime import current_runtime

TAG = "auth"


class Credentials(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]
    totp: Annotated[str, Field(pattern=r"^\s*\d{6}\s*$")] | None = Field(
        default=None, description="6-digit code; required for admin, auditor and leader accounts"
    )


class PrincipalOut(BaseModel):
    account_id: str
    username: str
    role: str
    region_code: str | None
    department_code: str | None


def _out(principal) -> dict:
    return {
        "account_id": principal.account_id,
        "username": principal.username,
        "role": str(principal.role),
        "region_code": principal.region_code,
        "department_code": principal.department_code,
    }


@api.post("/auth/login")
@spec.validate(
    json=Credentials,
    resp=Response(HTTP_200=PrincipalOut, HTTP_401=ErrorResponse, HTTP_422=ErrorResponse, HTTP_429=ErrorResponse),
    tags=[TAG],
)
def api_login(json: Credentials):
    """Start a session (cookie). Repeated failures from one address for one username are refused for a while
    (429 with Retry-After), from that address only."""
    try:
        principal = login(json.username, json.password, json.totp, now=current_runtime().clock())
    except SignInThrottled as exc:
        body, status = error(exc.status, exc.code, exc.message, "username")
        return body, status, {"Retry-After": str(exc.retry_after)}
    return jsonify(_out(principal))


@api.post("/auth/logout")
@spec.validate(tags=[TAG])
def api_logout():
    """End this session on the server: its cookie no longer signs anyone in (REST, Dash, Socket.IO)."""
    logout(now=current_runtime().clock())
    return jsonify(ok=True)


@api.get("/auth/me")
@spec.validate(resp=Response(HTTP_200=PrincipalOut, HTTP_401=ErrorResponse), tags=[TAG])
def me():
    """Who this request is signed in as."""
    return jsonify(_out(require_principal()))
