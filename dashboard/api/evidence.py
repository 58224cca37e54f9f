"""Evidence of an incident: the list of its photos, voice notes and videos, and the audited, verified download.

A download is always an attachment with the sniffed type, `nosniff` and a sandbox Content-Security-Policy
(no script, no plugin, no same-origin access even if a browser were talked into rendering it).
"""

from __future__ import annotations

import logging

from flask import Response as FlaskResponse
from flask import jsonify, request
from pydantic import BaseModel
from spectree import Response
from sqlalchemy import select

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.api.reports import TAG, MediaOut
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.cases.actions import get_incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import NotFound
from dispatcher.intake.media import IntegrityFailure, Media, MediaStore

log = logging.getLogger(__name__)
MEDIA_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"


class MediaList(BaseModel):
    incident_id: str
    items: list[MediaOut]


@api.get("/incidents/<incident_id>/media")
@spec.validate(resp=Response(HTTP_200=MediaList, HTTP_404=ErrorResponse), tags=[TAG])
def list_media(incident_id: str):
    """The photos, voice notes and videos of an incident (metadata; download each with GET /media/{id})."""
    with UnitOfWork(current_runtime().sessions) as uow:
        incident = get_incident(uow, incident_id, principal=require_principal())
        rows = uow.session.scalars(
            select(Media).where(Media.incident_id == incident.id).order_by(Media.created_at, Media.id)
        )
        return jsonify(incident_id=incident.id, items=[m.as_dict() for m in rows])


@api.get("/media/<media_id>")
@spec.validate(resp=Response(HTTP_404=ErrorResponse, HTTP_409=ErrorResponse), tags=[TAG])
def download_media(media_id: str):
    """Download one evidence file (always as an attachment), after checking its SHA-256; every download is audited."""
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    store = MediaStore(rt.settings.media_dir)
    with UnitOfWork(rt.sessions) as uow:
        media = uow.session.get(Media, media_id) if len(media_id) <= 36 else None
        if media is None:
            raise NotFound(f"media {media_id} does not exist", field="media_id")

        def record(result: str, **detail):
            audit.append(
                uow.session,
                actor=principal.username,
                role=str(principal.role),
                ip=request.remote_addr,
                action="media.download",
                target=f"media:{media.id}",
                result=result,
                detail={"incident": media.incident_id, "sha256": media.sha256, **detail},
                now=now,
            )
            uow.session.commit()

        try:
            get_incident(uow, media.incident_id, principal=principal)
        except NotFound:
            record("denied", reason="out of scope")
            raise NotFound(f"media {media_id} does not exist", field="media_id") from None
        try:
            data = store.read_verified(media)
        except IntegrityFailure as exc:
            log.error("evidence file %s failed its integrity check", media.id)
            record("failed", reason="integrity")
            return error(409, exc.code, f"evidence file {media.id} failed its integrity check", "media_id")
        record("ok", size=len(data))
        ext = media.path.rsplit(".", 1)[-1]
    response = FlaskResponse(data, mimetype=media.content_type)  # bytes in hand: exactly what was verified
    response.headers.set("Content-Disposition", "attachment", filename=f"{media.id}.{ext}")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-SHA256"] = media.sha256
    return response
