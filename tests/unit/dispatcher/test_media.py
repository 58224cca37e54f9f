"""Evidence files: sniffing against part and declared type, EXIF facts, and the never-overwriting store."""

from __future__ import annotations

import hashlib
import io
import wave
from datetime import UTC, datetime

import pytest
from PIL import Image

from dispatcher.intake.exif import exif_facts
from dispatcher.intake.media import (
    IntegrityFailure,
    Kind,
    Media,
    MediaStore,
    UnsupportedMedia,
    identify,
    staged_name,
    storage_name,
)


def jpeg(*, gps: bool = True, taken: str | None = "2026:12:02 09:30:00", offset: str | None = None) -> bytes:
    """A real JPEG made by Pillow, with EXIF DateTimeOriginal and GPS (Hangzhou) unless told otherwise."""
    exif = Image.Exif()
    exif[0x010F] = "GridCommand tests"
    if taken:
        sub = exif.get_ifd(0x8769)
        sub[36867] = taken
        if offset:
            sub[36881] = offset
    if gps:
        ifd = exif.get_ifd(0x8825)
        ifd.update({1: "N", 2: (30.0, 15.0, 36.0), 3: "E", 4: (120.0, 10.0, 12.0)})
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "red").save(buf, "JPEG", exif=exif)
    return buf.getvalue()


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), "blue").save(buf, "PNG")
    return buf.getvalue()


def wav() -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 800)
    return buf.getvalue()


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00" + b"\x00" * 200


def test_a_real_jpeg_is_accepted_as_a_photo():
    assert identify(Kind.PHOTO, io.BytesIO(jpeg()), "image/jpeg", part="photo").ext == "jpg"
    assert identify(Kind.BEFORE, io.BytesIO(png()), "application/octet-stream", part="before").mime == "image/png"


def test_a_wav_is_accepted_as_voice_but_not_as_a_photo():
    assert identify(Kind.VOICE, io.BytesIO(wav()), "audio/wav", part="voice").ext == "wav"
    with pytest.raises(UnsupportedMedia) as exc:
        identify(Kind.PHOTO, io.BytesIO(wav()), "image/jpeg", part="photo")
    assert exc.value.status == 415 and exc.value.field == "photo"


@pytest.mark.parametrize("content", [HTML, SVG, EXE, b"just text"], ids=["html", "svg", "exe", "text"])
def test_content_that_is_not_an_image_is_refused_whatever_it_is_declared_as(content):
    with pytest.raises(UnsupportedMedia) as exc:
        identify(Kind.PHOTO, io.BytesIO(content), "image/jpeg", part="photo", filename="x.jpg")
    assert "part 'photo' (x.jpg)" in exc.value.message


def test_a_declared_type_that_contradicts_the_content_is_refused():
    with pytest.raises(UnsupportedMedia) as exc:
        identify(Kind.PHOTO, io.BytesIO(png()), "image/jpeg", part="photo")
    assert "declared as image/jpeg but its content is image/png" in exc.value.message


def test_jpeg_magic_followed_by_garbage_is_refused_by_pillow():
    with pytest.raises(UnsupportedMedia):
        identify(Kind.PHOTO, io.BytesIO(b"\xff\xd8\xff\xe0" + b"<html>" * 100), "image/jpeg", part="photo")


def test_exif_time_and_gps_are_read():
    facts = exif_facts(jpeg())
    assert facts.taken_at == datetime(2026, 12, 2, 1, 30, tzinfo=UTC)  # 09:30 in Shanghai
    assert facts.lat == pytest.approx(30.26) and facts.lon == pytest.approx(120.17)
    assert exif_facts(jpeg(offset="+00:00")).taken_at == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


def test_missing_or_broken_exif_gives_empty_facts():
    assert exif_facts(jpeg(gps=False, taken=None)).taken_at is None
    assert exif_facts(b"not an image").lon is None


def test_store_stages_publishes_and_never_overwrites(tmp_path):
    store = MediaStore(tmp_path)
    data = jpeg()
    sha = hashlib.sha256(data).hexdigest()
    name = storage_name(sha, "m-1", "jpg")
    assert name == f"{sha[:2]}/m-1.jpg"
    store.stage(name, io.BytesIO(data))
    assert (tmp_path / staged_name(name)).exists() and not store.exists(name)
    store.publish(name)
    assert (tmp_path / name).read_bytes() == data and not (tmp_path / staged_name(name)).exists()
    store.stage(name, io.BytesIO(b"other"))
    with pytest.raises(FileExistsError):
        store.publish(name)
    assert (tmp_path / name).read_bytes() == data
    store.discard(name)
    assert not (tmp_path / staged_name(name)).exists()


def test_read_verified_detects_tampering_and_finishes_an_interrupted_publish(tmp_path):
    store = MediaStore(tmp_path)
    data = wav()
    sha = hashlib.sha256(data).hexdigest()
    media = Media(id="m-2", sha256=sha, path=storage_name(sha, "m-2", "wav"))
    store.stage(media.path, io.BytesIO(data))  # committed, but the process stopped before publishing
    assert store.read_verified(media) == data
    (tmp_path / media.path).write_bytes(data + b"x")
    with pytest.raises(IntegrityFailure) as exc:
        store.read_verified(media)
    assert exc.value.status == 409 and "evidence file m-2 failed its integrity check" in exc.value.message


def test_store_refuses_names_outside_its_root(tmp_path):
    with pytest.raises(ValueError):
        MediaStore(tmp_path).discard("../../etc/passwd")
