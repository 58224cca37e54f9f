"""A signed-in user's own notifications: the inbox with its unread count, marking one or all read."""

from __future__ import annotations

from typing import Annotated

from flask import jsonify
from pydantic import BaseModel, ConfigDict, Field
from spectree import Response

from dashboard.api import ErrorResponse, api, spec
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.notify import service

TAG = "notifications"


class InboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    unread: bool = Field(default=False, description="only unread notifications")
    limit: Annotated[int, Field(ge=1, le=200)] = 50


class NotificationOut(BaseModel):
    id: str
    kind: str
    channel: str
    text: str
    incident_id: str | None
    created_at: str
    read_at: str | None
    status: str


class InboxOut(BaseModel):
    items: list[NotificationOut]
    unread: int


class ReadAllOut(BaseModel):
    marked: int
    unread: int


@api.get("/notifications")
@spec.validate(query=InboxQuery, resp=Response(HTTP_200=InboxOut, HTTP_422=ErrorResponse), tags=[TAG])
def list_notifications(query: InboxQuery):
    """The caller's latest in-app notifications, newest first, and how many are unread."""
    username = require_principal().username
    with current_runtime().sessions() as session:
        rows = service.inbox(session, username, unread_only=query.unread, limit=query.limit)
        return jsonify(items=[row.as_dict() for row in rows], unread=service.unread_count(session, username))


@api.post("/notifications/<notification_id>/read")
@spec.validate(resp=Response(HTTP_200=NotificationOut, HTTP_404=ErrorResponse), tags=[TAG])
def read_notification(notification_id: str):
    """Mark one of the caller's notifications read (404 for anyone else's)."""
    username, rt = require_principal().username, current_runtime()
    with rt.sessions.begin() as session:
        return jsonify(service.mark_read(session, username, notification_id, rt.clock()).as_dict())


@api.post("/notifications/read-all")
@spec.validate(resp=Response(HTTP_200=ReadAllOut), tags=[TAG])
def read_all_notifications():
    """Mark every notification of the caller read."""
    username, rt = require_principal().username, current_runtime()
    with rt.sessions.begin() as session:
        marked = service.mark_all_read(session, username, rt.clock())
    return jsonify(marked=marked, unread=0)
