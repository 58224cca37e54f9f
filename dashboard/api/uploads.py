"""Evidence files as they arrive, shared by intake (POST /reports) and every later step (POST /incidents/{id}/media).

Each file is size-limited (413), hashed and sniffed against its part and declared type (415) before anything is
written; `staged` writes them under temporary names before the transaction, discards them if it fails and
publishes them under their final names once it committed (dispatcher/intake/media.py has the storage rules).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

from dispatcher.errors import Invalid
from dispatcher.intake.exif import exif_facts
from dispatcher.intake.media import (
    IMAGES,
    FileType,
    Kind,
    Media,
    MediaStore,
    MediaTooLarge,
    identify,
    new_media_id,
    storage_name,
)

log = logging.getLogger(__name__)
MAX_FILES = 20
CHUNK = 1 << 20


@dataclass
class Upload:
    """One file part, checked and hashed, waiting to be staged."""

    part: str
    kind: Kind
    filename: str | None
    declared: str | None
    stream: Any
    size: int
    sha256: str
    type: FileType
    media_id: str
    name: str  # relative storage name


def check_file(part: str, stream: IO[bytes], filename: str | None, declared: str | None, max_bytes: int) -> Upload:
    """One file of part `part`: known part (422), at most `max_bytes` (413), not empty, sniffed type allowed (415)."""
    try:
        kind = Kind(part)
    except ValueError:
        raise Invalid(f"unknown file part '{part}'; known: {', '.join(k.value for k in Kind)}", field=part) from None
    label = f"part '{part}'" + (f" ({filename})" if filename else "")
    digest, size = hashlib.sha256(), 0
    stream.seek(0)
    while block := stream.read(CHUNK):
        size += len(block)
        if size > max_bytes:
            raise MediaTooLarge(f"file {label} is larger than the limit of {max_bytes} bytes", field=part)
        digest.update(block)
    if size == 0:
        raise Invalid(f"file {label} is empty", field=part)
    found = identify(kind, stream, declared, part=part, filename=filename)
    sha, media_id = digest.hexdigest(), new_media_id()
    return Upload(
        part, kind, filename, declared, stream, size, sha, found, media_id, storage_name(sha, media_id, found.ext)
    )


def check_files(files: Iterable[tuple[str, Any]], max_bytes: int, *, skip: tuple[str, ...] = ()) -> list[Upload]:
    """Every file part of a multipart body (werkzeug FileStorage items), at most MAX_FILES, each checked."""
    uploads: list[Upload] = []
    for part, storage in files:
        if part in skip:
            continue
        if len(uploads) >= MAX_FILES:
            raise Invalid(f"at most {MAX_FILES} files per request", field=part)
        uploads.append(check_file(part, storage.stream, storage.filename, storage.content_type, max_bytes))
    return uploads


def media_row(upload: Upload, incident_id: str, actor: str, now: datetime, local_tz: str, stage: str) -> Media:
    """The media row of a checked upload (EXIF facts read from the image header only)."""
    facts = None
    if upload.type in IMAGES.values():
        upload.stream.seek(0)
        facts = exif_facts(upload.stream, local_tz=local_tz)
        upload.stream.seek(0)
    return Media(
        id=upload.media_id,
        incident_id=incident_id,
        kind=str(upload.kind),
        stage=stage,
        content_type=upload.type.mime,
        declared_type=(upload.declared or None) and upload.declared[:128],
        original_name=(upload.filename or None) and upload.filename[:255],
        size=upload.size,
        sha256=upload.sha256,
        path=upload.name,
        exif_taken_at=facts.taken_at if facts else None,
        exif_lon=facts.lon if facts else None,
        exif_lat=facts.lat if facts else None,
        uploaded_by=actor,
        created_at=now,
    )


@contextmanager
def staged(store: MediaStore, uploads: list[Upload]) -> Iterator[list[Upload]]:
    """Stage every file, run the block (the transaction), then publish them; any failure discards them all."""
    done: list[Upload] = []
    try:
        for upload in uploads:
            store.stage(upload.name, upload.stream)
            done.append(upload)
        yield done
    except BaseException:
        discard(store, done)
        raise
    for upload in done:
        try:
            store.publish(upload.name)
        except OSError:  # committed: the staged file stays and is published on its first download
            log.exception("could not publish evidence file %s; it stays staged", upload.media_id)


def discard(store: MediaStore, uploads: list[Upload]) -> None:
    """Remove the staged files of a failed transaction."""
    for upload in uploads:
        try:
            store.discard(upload.name)
        except OSError:
            log.exception("could not remove staged evidence file %s", upload.media_id)
