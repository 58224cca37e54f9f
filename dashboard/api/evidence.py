"""Evidence of an incident: the list of its photos, voice notes and videos, evidence added at a later step
(handling, return, verification, callback), the audited, verified download and a thumbnail of images.

A download is always an attachment with the sniffed type, `nosniff` and a sandbox Content-Security-Policy
(no script, no plugin, no same-origin access even if a browser were talked into rendering it).
"""

from __future__ import annotations

import io
import logging

from flask import Response as FlaskResponse
from flask import jsonify, request
from pydantic import BaseModel
from spectree import Response
from sqlalchemy import select

from dashboard.api import ErrorResponse, api, error, spec
from dashboard.api.reports import TAG, MediaOut
from dashboard.api.uploads import Upload, check_files, media_row, staged
from dashboard.auth import require_principal
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.access.accounts import Principal
from dispatcher.cases.actions import get_incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import Invalid, NotFound
from dispatcher.handling.evidence import check_evidence, evidence_stage, record_evidence
from dispatcher.intake.media import IMAGES, IntegrityFailure, Media, MediaStore

log = logging.getLogger(__name__)
MEDIA_CSP = "sandbox; default-src 'none'; frame-ancestors 'none'"
MAX_NOTE = 4000
THUMBNAIL_PX = 320
IMAGE_TYPES = frozenset(t.mime for t in IMAGES.values())


class MediaList(BaseModel):
    incident_id: str
    items: list[MediaOut]


class EvidenceOut(BaseModel):
    """The evidence step recorded: the incident's new version, the stage and the files stored."""

    incident_id: str
    version: int
    stage: str
    media: list[MediaOut]


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


def _open_media(uow: UnitOfWork, principal, media_id: str, action: str, now):
    """The evidence row the caller may see, and how to audit what then happens to it: NotFound naming the id for
    an unknown one, and for one outside the caller's scope (that refusal is audited too)."""
    media = uow.session.get(Media, media_id) if len(media_id) <= 36 else None
    if media is None:
        raise NotFound(f"media {media_id} does not exist", field="media_id")

    def record(result: str, **detail) -> None:
        audit.append(
            uow.session,
            actor=principal.username,
            role=str(principal.role),
            ip=request.remote_addr,
            action=action,
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
    return media, record


@api.get("/media/<media_id>")
@spec.validate(resp=Response(HTTP_404=ErrorResponse, HTTP_409=ErrorResponse), tags=[TAG])
def download_media(media_id: str):
    """Download one evidence file (always as an attachment), after checking its SHA-256; every download is audited."""
    principal = require_principal()
    rt = current_runtime()
    now = rt.clock()
    store = MediaStore(rt.settings.media_dir)
    with UnitOfWork(rt.sessions) as uow:
        media, record = _open_media(uow, principal, media_id, "media.download", now)
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


@api.post("/incidents/<incident_id>/media")
@spec.validate(
    resp=Response(
        HTTP_201=EvidenceOut,
        HTTP_403=ErrorResponse,
        HTTP_404=ErrorResponse,
        HTTP_409=ErrorResponse,
        HTTP_413=ErrorResponse,
        HTTP_415=ErrorResponse,
        HTTP_422=ErrorResponse,
    ),
    tags=[TAG],
)
def add_media(incident_id: str):
    """Add evidence to an existing case at handling, return, verification or callback (multipart/form-data).

    Form fields `stage` (handle, return, verify, callback) and optional `note`; files in parts `photo`, `before`,
    `after`, `voice`, `video` (each may repeat), checked exactly as at intake. Those handling the case may add
    evidence: its department or assignee, grid workers in their grid, the command center; never once it is
    closed, archived or voided (409). A 201 means committed: the media rows, the timeline row, its outbox event
    and audit record together, then the files published.
    """
    principal = require_principal()
    if request.mimetype != "multipart/form-data":
        return error(
            415,
            "unsupported_media_type",
            f"send evidence as multipart/form-data, not {request.mimetype or 'no body'!r}",
        )
    stage = evidence_stage(request.form.get("stage"))
    note = evidence_note(request.form.get("note"))
    uploads = check_files(request.files.items(multi=True), current_runtime().settings.max_media_bytes)
    return jsonify(add_evidence(principal, incident_id, uploads, stage=stage, note=note)), 201


def evidence_note(text: str | None) -> str | None:
    """The optional note of an evidence step: trimmed, at most MAX_NOTE characters, no NUL (422 naming `note`)."""
    text = (text or "").strip() or None
    if text is not None and len(text) > MAX_NOTE:
        raise Invalid(f"field 'note' is longer than {MAX_NOTE} characters", field="note")
    if text is not None and "\x00" in text:
        raise Invalid("field 'note' contains a NUL character", field="note")
    return text


def add_evidence(principal: Principal, incident_id: str, uploads: list[Upload], *, stage: str, note: str | None):
    """Store checked files as evidence of one step of a case, for the API and the drawer alike.

    In one transaction: the case is locked and the caller's right checked (404 outside the scope, 403, 409 when
    finished), the files staged, the media rows and the status-preserving timeline row added and committed
    (the unit of work writes the outbox row and audit record); then the files are published. Any failure
    discards the staged files."""
    step = evidence_stage(stage)
    if not uploads:
        raise Invalid(f"evidence for incident {incident_id} needs at least one file", field="photo")
    rt = current_runtime()
    now = rt.clock()
    store = MediaStore(rt.settings.media_dir)
    with UnitOfWork(rt.sessions) as uow:
        uow.actor_role, uow.ip = str(principal.role), request.remote_addr
        incident = get_incident(uow, incident_id, for_update=True, principal=principal)
        check_evidence(principal, incident)
        with staged(store, uploads):
            rows = [media_row(u, incident.id, principal.username, now, rt.settings.timezone, step) for u in uploads]
            uow.session.add_all(rows)
            uow.session.flush()
            media = [m.as_dict() for m in rows]
            record_evidence(incident, media, stage=step, actor=principal.username, now=now, note=note)
            uow.commit(now)
        body = {"incident_id": incident.id, "version": incident.version, "stage": str(step), "media": media}
    rt.after_commit()
    return body


@api.get("/media/<media_id>/thumbnail")
@spec.validate(resp=Response(HTTP_404=ErrorResponse, HTTP_409=ErrorResponse), tags=[TAG])
def media_thumbnail(media_id: str):
    """A small JPEG (at most 320 px) of an evidence photo, made from the verified original.

    Not audited when served (the drawer shows every photo of a case each time it renders; the original's
    download is audited); refusals outside the scope and failed integrity checks are."""
    principal = require_principal()
    rt = current_runtime()
    with UnitOfWork(rt.sessions) as uow:
        media, record = _open_media(uow, principal, media_id, "media.thumbnail", rt.clock())
        if media.content_type not in IMAGE_TYPES:
            raise NotFound(
                f"media {media_id} is {media.content_type}, not an image: it has no thumbnail", field="media_id"
            )
        try:
            data = MediaStore(rt.settings.media_dir).read_verified(media)
        except IntegrityFailure as exc:
            log.error("evidence file %s failed its integrity check", media.id)
            record("failed", reason="integrity")
            return error(409, exc.code, f"evidence file {media.id} failed its integrity check", "media_id")
    try:
        small = thumbnail(data)
    except Exception:  # a decompression bomb (Pillow's own limit) or a file Pillow cannot decode
        log.warning("no thumbnail for evidence file %s", media_id, exc_info=True)
        return error(409, "thumbnail_unavailable", f"media {media_id} cannot be shown as a thumbnail", "media_id")
    response = FlaskResponse(small, mimetype="image/jpeg")
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = MEDIA_CSP
    response.headers["Cache-Control"] = "private, max-age=3600"
    return response


def thumbnail(data: bytes, size: int = THUMBNAIL_PX) -> bytes:
    """A JPEG of at most `size`×`size` pixels, upright (EXIF orientation applied), without metadata.

    Pillow's decompression-bomb limit is left as it is: a header claiming too many pixels raises."""
    from PIL import Image, ImageOps

    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at a reduced scale straight away
        small = ImageOps.exif_transpose(image)
        small.thumbnail((size, size))
        out = io.BytesIO()
        small.convert("RGB").save(out, "JPEG", quality=80, optimize=True)
    return out.getvalue()
