"""Evidence attached to reports: photos, voice and video (QUALITY.md security test 15).

- The type of every upload is *sniffed* from its first bytes (`filetype`, plus Pillow for images); the
  declared Content-Type is only checked against it. HTML, SVG, executables and anything else outside the
  short allow-list of each part are refused, whatever they were declared as.
- Images are never decoded: Pillow reads their header, and one claiming more than `MAX_IMAGE_PIXELS`
  pixels (a decompression bomb: a few hundred KiB that decode to gigabytes) is refused with 413 before
  anything reads further. EXIF is read from headers only (dispatcher/intake/exif.py).
- SHA-256 is computed at upload and stored with the row; `MediaStore.read_verified` checks it before a
  file is handed out.
- Originals live under `settings.media_dir` (var_dir/media by default) (outside any web root) under generated names
  `<sha256[:2]>/<uuid>.<ext>`; files are created exclusively (O_EXCL) and published with a hard link, so an
  existing file is never overwritten. Files are 0600 and folders 0700: only the service's user reads evidence.
- Writing is two-phase: `stage` writes `<sha256[:2]>/.<uuid>.<ext>.part` before the database commit,
  `publish` links it to its final name after the commit, `discard` removes it when the commit failed.
  A crash between commit and publish leaves the staged file, which `read_verified` publishes on first read.

Pure Python + SQLAlchemy + Pillow: no Flask.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import IO, Any

import filetype
from sqlalchemy import Float, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.errors import EngineError
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime


class Kind(StrEnum):
    """What a file is evidence of: the multipart part it came in."""

    PHOTO = "photo"
    VOICE = "voice"
    VIDEO = "video"
    BEFORE = "before"  # 自行处置: photo before the fix
    AFTER = "after"  # 自行处置: photo after the fix


class Media(Base):
    """One stored evidence file of an incident."""

    __tablename__ = "media"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(16))
    # the step it documents: intake, handle, return, verify, callback (dispatcher/handling/evidence.py)
    stage: Mapped[str | None] = mapped_column(String(16), default="intake")
    content_type: Mapped[str] = mapped_column(String(64))  # sniffed, never the declared one
    declared_type: Mapped[str | None] = mapped_column(String(128))
    original_name: Mapped[str | None] = mapped_column(String(255))  # as sent by the client, informational only
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    path: Mapped[str] = mapped_column(String(128))  # relative to media_dir: <sha256[:2]>/<uuid>.<ext>
    exif_taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    exif_lon: Mapped[float | None] = mapped_column(Float)
    exif_lat: Mapped[float | None] = mapped_column(Float)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_media_incident_id", "incident_id"),
        Index("ix_media_sha256", "sha256"),
    )

    def as_dict(self) -> dict[str, Any]:
        iso = lambda t: t.isoformat() if t else None
        return {
            "id": self.id,
            "incident_id": self.incident_id,
            "kind": self.kind,
            "stage": self.stage or "intake",
            "content_type": self.content_type,
            "size": self.size,
            "sha256": self.sha256,
            "exif": {"taken_at": iso(self.exif_taken_at), "lon": self.exif_lon, "lat": self.exif_lat},
            "uploaded_by": self.uploaded_by,
            "created_at": iso(self.created_at),
        }


# --- what is accepted ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    """A sniffed type we accept: its canonical MIME type, the extension we store it under, and the
    Content-Types a client may declare for it (besides the generic application/octet-stream)."""

    mime: str
    ext: str
    aliases: frozenset[str]


def _t(mime: str, ext: str, *aliases: str) -> FileType:
    return FileType(mime, ext, frozenset({mime, *aliases}))


JPEG = _t("image/jpeg", "jpg", "image/jpg", "image/pjpeg")
PNG = _t("image/png", "png", "image/x-png")
WEBP = _t("image/webp", "webp")
AMR = _t("audio/amr", "amr", "audio/amr-wb", "audio/3gpp")
M4A = _t("audio/mp4", "m4a", "audio/x-m4a", "audio/m4a", "audio/aac", "video/mp4")
MP3 = _t("audio/mpeg", "mp3", "audio/mp3", "audio/x-mp3", "audio/mpeg3")
WAV = _t("audio/wav", "wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
OGG = _t("audio/ogg", "ogg", "application/ogg", "audio/opus")
MP4 = _t("video/mp4", "mp4", "video/x-m4v")
MOV = _t("video/quicktime", "mov")
GP3 = _t("video/3gpp", "3gp", "video/3gp", "audio/3gpp")

IMAGES = {"jpg": JPEG, "png": PNG, "webp": WEBP}
ALLOWED: dict[Kind, dict[str, FileType]] = {
    Kind.PHOTO: IMAGES,
    Kind.BEFORE: IMAGES,
    Kind.AFTER: IMAGES,
    # A voice note in an MP4 container ("isom"/"mp42" brand rather than "M4A ") is still a voice note.
    Kind.VOICE: {"amr": AMR, "m4a": M4A, "mp4": M4A, "mp3": MP3, "wav": WAV, "ogg": OGG},
    Kind.VIDEO: {"mp4": MP4, "m4v": MP4, "mov": MOV, "3gp": GP3},
}
GENERIC_TYPES = frozenset({"", "application/octet-stream", "binary/octet-stream"})
SNIFF_BYTES = 8192
MAX_IMAGE_PIXELS = 64_000_000  # above any phone's default photo mode (50 MP); 256 MB once decoded as RGBA
FILE_MODE, FOLDER_MODE = 0o600, 0o700


class UnsupportedMedia(EngineError):
    """An upload whose content is not an accepted type for its part, or does not match its declared type."""

    status, code = 415, "unsupported_media_type"


class MediaTooLarge(EngineError):
    """One uploaded file is larger than the per-file limit."""

    status, code = 413, "file_too_large"


class ImageTooLarge(EngineError):
    """An image whose header claims more pixels than `MAX_IMAGE_PIXELS` (a decompression bomb)."""

    status, code = 413, "image_too_large"


def identify(
    kind: Kind, stream: IO[bytes], declared: str | None, *, part: str, filename: str | None = None
) -> FileType:
    """The accepted type of an uploaded file, sniffed from its content and checked against part and declared type.

    UnsupportedMedia (415) naming the part when the content is not an allowed type for the part (HTML, SVG,
    executables, ... are never recognised as one), or when the declared Content-Type names something else.
    Images are also opened with Pillow (header only), which must agree on the format; ImageTooLarge (413)
    naming the part when the header claims more than MAX_IMAGE_PIXELS pixels.
    """
    label = f"part '{part}'" + (f" ({filename})" if filename else "")
    stream.seek(0)
    head = stream.read(SNIFF_BYTES)
    stream.seek(0)
    guess = filetype.guess(head) if head else None
    found = ALLOWED[kind].get(guess.extension) if guess else None
    if found is None:
        what = f"{guess.mime} content" if guess else "content of no recognised type"
        allowed = ", ".join(sorted({t.mime for t in ALLOWED[kind].values()}))
        raise UnsupportedMedia(f"{label} holds {what}; a {kind} must be one of: {allowed}", field=part)
    declared_type = (declared or "").split(";")[0].strip().lower()
    if declared_type not in GENERIC_TYPES and declared_type not in found.aliases:
        raise UnsupportedMedia(f"{label} is declared as {declared_type} but its content is {found.mime}", field=part)
    if found in IMAGES.values():
        _check_image(found, stream, label, part)
    return found


def _check_image(found: FileType, stream: IO[bytes], label: str, part: str) -> None:
    """Pillow must agree with the magic bytes on the image format, and the header must claim a sane size.

    Only the header is read (`Image.open` is lazy); no pixel is decoded here or anywhere else."""
    from PIL import Image

    try:
        with Image.open(stream) as image:
            fmt, (width, height) = (image.format or "").lower(), image.size
    except Image.DecompressionBombError:  # Pillow's own limit, twice its MAX_IMAGE_PIXELS
        raise _too_large(label, part, None) from None
    except Exception:
        raise UnsupportedMedia(f"{label} is not a readable {found.mime} image", field=part) from None
    finally:
        stream.seek(0)
    if {"jpeg": "jpg"}.get(fmt, fmt) != found.ext:
        raise UnsupportedMedia(f"{label} decodes as {fmt or 'nothing'}, not {found.mime}", field=part)
    if width * height > MAX_IMAGE_PIXELS:
        raise _too_large(label, part, (width, height))


def _too_large(label: str, part: str, size: tuple[int, int] | None) -> ImageTooLarge:
    claimed = f"{size[0]}×{size[1]} pixels" if size else "more pixels than Pillow's decompression-bomb limit"
    return ImageTooLarge(
        f"{label} is an image of {claimed}; at most {MAX_IMAGE_PIXELS // 1_000_000} megapixels are accepted",
        field=part,
    )


# --- the file store ----------------------------------------------------------------------------------------------


def storage_name(sha256: str, media_id: str, ext: str) -> str:
    """The generated, relative name of a stored original."""
    return f"{sha256[:2]}/{media_id}.{ext}"


def staged_name(name: str) -> str:
    folder, base = name.split("/", 1)
    return f"{folder}/.{base}.part"


def new_media_id() -> str:
    return str(uuid.uuid4())


def _create(path: Path) -> IO[bytes]:
    """A new file opened for writing, readable by the service's user only; FileExistsError if it exists."""
    return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE), "wb")


class IntegrityFailure(EngineError):
    """A stored evidence file is missing or no longer has the SHA-256 recorded at upload."""

    status, code = 409, "integrity_check_failed"


class MediaStore:
    """Originals on disk under `root`; names are generated, files are never overwritten."""

    def __init__(self, root: Path | str):
        self.root = Path(root)

    def _path(self, name: str) -> Path:
        path = (self.root / name).resolve()
        if self.root.resolve() not in path.parents:
            raise ValueError(f"media path {name!r} escapes the store")
        return path

    def _folder(self, path: Path) -> None:
        """Create the store and the file's folder, private to the service's user (0700)."""
        for folder in (self.root, path.parent):
            folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            info = folder.stat()
            if info.st_mode & 0o077 and info.st_uid == os.getuid():  # made before, or by a lax umask: tighten
                os.chmod(folder, FOLDER_MODE)

    def stage(self, name: str, stream: IO[bytes], *, chunk: int = 1 << 20) -> Path:
        """Copy `stream` to the staged (temporary) name of `name` (a new 0600 file); fails if that name exists."""
        target = self._path(staged_name(name))
        self._folder(target)
        stream.seek(0)
        try:
            with _create(target) as out:
                while block := stream.read(chunk):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return target

    def publish(self, name: str) -> Path:
        """Give a staged file its final name (a hard link: an existing file is never replaced), drop the temp name."""
        staged, final = self._path(staged_name(name)), self._path(name)
        try:
            os.link(staged, final)
        except FileExistsError:
            raise
        except OSError:  # a file system without hard links: copy into a new file, created exclusively
            with open(staged, "rb") as src, _create(final) as out:
                while block := src.read(1 << 20):
                    out.write(block)
                out.flush()
                os.fsync(out.fileno())
        staged.unlink()
        return final

    def discard(self, name: str) -> None:
        """Remove the staged file of `name` (after a failed commit)."""
        self._path(staged_name(name)).unlink(missing_ok=True)

    def exists(self, name: str) -> bool:
        return self._path(name).exists()

    def read_verified(self, media: Media) -> bytes:
        """The file's bytes, after checking its SHA-256 against the one recorded at upload (IntegrityFailure)."""
        final = self._path(media.path)
        if not final.exists() and self._path(staged_name(media.path)).exists():
            self.publish(media.path)  # the process stopped between commit and publish
        try:
            data = final.read_bytes()
        except OSError:
            raise IntegrityFailure(
                f"evidence file {media.id} failed its integrity check (file missing)", field="media_id"
            ) from None
        if hashlib.sha256(data).hexdigest() != media.sha256:
            raise IntegrityFailure(f"evidence file {media.id} failed its integrity check", field="media_id")
        return data
