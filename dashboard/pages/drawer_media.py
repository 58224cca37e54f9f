"""The drawer's evidence section: thumbnails and links to the originals with step, uploader, time and SHA-256, and
an upload control that adds evidence through the same code path as POST /incidents/{id}/media."""

from __future__ import annotations

import base64
import binascii
import io

import dash
from dash import Input, Output, State, dcc, html, no_update
from sqlalchemy import select

from dashboard.api.evidence import IMAGE_TYPES, add_evidence, evidence_note
from dashboard.api.uploads import MAX_FILES, Upload, check_file
from dashboard.pages import i18n_evidence  # noqa: F401  (merges the section's strings into i18n)
from dashboard.pages.components import local_time, outcome, viewer
from dashboard.pages.i18n import t
from dashboard.runtime import current_runtime
from dispatcher.cases.actions import get_incident
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import EngineError, Invalid
from dispatcher.handling.evidence import ADDABLE, FINISHED, may_add_evidence
from dispatcher.intake.media import Media

SHA_SHOWN = 12
PARTS = {"image": "photo", "audio": "voice", "video": "video"}  # the browser's type decides the part; sniffing checks


def stage_label(stage: str | None, lang: str) -> str:
    return t(f"ev_stage_{stage or 'intake'}", lang)


def item(media: Media, lang: str, tz: str) -> html.Div:
    """One file: its thumbnail (images) or kind, a link to the verified original, step, uploader, time, SHA-256."""
    original = f"/api/v1/media/{media.id}"
    if media.content_type in IMAGE_TYPES:
        preview = html.Img(
            src=f"{original}/thumbnail",
            alt=media.original_name or media.id,
        )
    else:
        preview = html.Span(t(f"ev_kind_{media.kind}", lang))
    return html.Div(
        [
            html.A(preview, href=original, target="_blank", rel="noopener", title=t("ev_open", lang)),
            html.Div(
                [
                    html.B(f"{stage_label(media.stage, lang)} · {t(f'ev_kind_{media.kind}', lang)}"),
                    html.Div(f"{media.uploaded_by} · {local_time(media.created_at, tz)}"),
                    html.Code(media.sha256[:SHA_SHOWN] + "…", title=f"SHA-256 {media.sha256}"),
                ],
                className="gc-ev-cap",
            ),
        ],
        className="gc-ev-item",
    )


def media_section(incident_id: str, lang: str) -> list:
    """The evidence of one case as the signed-in user sees it, with the upload control when they may add some."""
    rt = current_runtime()
    principal = viewer()
    try:
        with UnitOfWork(rt.sessions) as uow:
            incident = get_incident(uow, incident_id, principal=principal)
            rows = list(
                uow.session.scalars(
                    select(Media).where(Media.incident_id == incident.id).order_by(Media.created_at, Media.id)
                )
            )
            may_add = may_add_evidence(principal, incident) is None and incident.state not in FINISHED
            items = [item(m, lang, rt.settings.timezone) for m in rows]  # while the rows are loaded
    except EngineError:
        return []
    items = items or [html.Div(t("ev_none", lang), className="gc-hint")]
    parts: list = [html.Div(t("ev_title", lang), className="gc-sec"), html.Div(items, className="gc-ev")]
    if may_add:
        parts.append(upload_control(lang, rt.settings.max_media_bytes))
    return parts


def upload_control(lang: str, max_bytes: int) -> html.Div:
    """Step, note and the drop zone; dropping files adds them at once (see `register`)."""
    stages = [{"label": stage_label(s, lang), "value": str(s)} for s in sorted(ADDABLE)]
    return html.Div(
        [
            html.Label(t("ev_add", lang)),
            dcc.Dropdown(id="cc-ev-stage", options=stages, value="handle", clearable=False, className="gc-dd"),
            dcc.Input(id="cc-ev-note", placeholder=t("ev_note", lang), maxLength=4000, className="gc-note"),
            dcc.Upload(
                id="cc-ev-upload",
                children=html.Div(t("ev_drop", lang)),
                multiple=True,
                max_size=max_bytes,
                accept="image/jpeg,image/png,image/webp,audio/*,video/*",
                className="gc-hint",
                style={"border": "1px dashed", "borderRadius": "4px", "padding": "10px", "textAlign": "center"},
            ),
        ],
        className="gc-ev-add",
    )


def decoded(contents: list[str], names: list[str] | None, max_bytes: int) -> list[Upload]:
    """The dropped files (data: URLs), checked exactly as the API checks multipart parts."""
    if len(contents) > MAX_FILES:
        raise Invalid(f"at most {MAX_FILES} files at once", field="files")
    uploads = []
    for index, content in enumerate(contents):
        name = (names or [None] * len(contents))[index]
        header, _, payload = (content or "").partition(",")
        declared = header.removeprefix("data:").split(";")[0] or None
        part = PARTS.get((declared or "").split("/")[0], "photo")
        try:
            data = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"file {name or index + 1} could not be read", field=part) from None
        uploads.append(check_file(part, io.BytesIO(data), name, declared, max_bytes))
    return uploads


def register(app: dash.Dash) -> None:
    """Dropping files in the drawer adds them as evidence of the chosen step (one transaction, as the API does)."""

    @app.callback(
        Output("cc-toast", "children", allow_duplicate=True),
        Output("cc-act-result", "data", allow_duplicate=True),
        Input("cc-ev-upload", "contents"),
        State("cc-ev-upload", "filename"),
        State("cc-ev-stage", "value"),
        State("cc-ev-note", "value"),
        State("cc-selected", "data"),
        State("cc-act-result", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def upload(contents, names, stage, note, incident_id, count, lang):
        if not contents or not incident_id or not isinstance(incident_id, str):
            return no_update, no_update
        principal = viewer()

        def step() -> str:
            uploads = decoded(contents, names, current_runtime().settings.max_media_bytes)
            body = add_evidence(principal, incident_id, uploads, stage=stage, note=evidence_note(note))
            return t("ev_added", lang, n=len(body["media"]))

        return outcome(step, lang, count)
