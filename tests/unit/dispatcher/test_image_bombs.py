"""Decompression bombs: images are never decoded, and one claiming too many pixels is refused (issue 9, item 11).

Every bomb is built here, at run time: a PNG is a signature and a few chunks (length, type, data, CRC), and
rows of zero bytes compress about a thousandfold, so a PNG of a few hundred KiB decodes to hundreds of MB.
"""

from __future__ import annotations

import io
import struct
import subprocess
import sys
import textwrap
import zlib
from datetime import UTC, datetime

import pytest
from PIL import Image

from dispatcher.intake.exif import exif_facts
from dispatcher.intake.media import MAX_IMAGE_PIXELS, ImageTooLarge, Kind, identify

SIGNATURE = b"\x89PNG\r\n\x1a\n"
RGBA = 6


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def gps_exif() -> bytes:
    """A TIFF-format EXIF block (as a PNG eXIf chunk holds it) with a capture time and a GPS position."""
    exif = Image.Exif()
    exif.get_ifd(0x8769)[36867] = "2026:12:02 09:30:00"
    exif.get_ifd(0x8825).update({1: "N", 2: (30.0, 15.0, 36.0), 3: "E", 4: (120.0, 10.0, 12.0)})
    return exif.tobytes().removeprefix(b"Exif\x00\x00")


def bomb_png(width: int, height: int, *, decodable: bool = True, trailing_exif: bytes | None = None) -> bytes:
    """A PNG claiming width×height RGBA pixels. `decodable`: a complete, valid IDAT of zero rows (tiny once
    compressed, width×height×4 bytes once decoded); otherwise a single compressed row (Pillow reads the header
    anyway). `trailing_exif`: an eXIf chunk after the pixel data, where Pillow's PNG getexif() would load()."""
    header = struct.pack(">IIBBBBB", width, height, 8, RGBA, 0, 0, 0)
    row = b"\x00" * (width * 4 + 1)
    packer = zlib.compressobj(9)
    rows = height if decodable else 1
    block = 256
    data = b"".join(packer.compress(row * min(block, rows - i)) for i in range(0, rows, block)) + packer.flush()
    out = SIGNATURE + chunk(b"IHDR", header) + chunk(b"IDAT", data)
    if trailing_exif is not None:
        out += chunk(b"eXIf", trailing_exif)
    return out + chunk(b"IEND", b"")


def test_a_tiny_png_claiming_20000_by_20000_pixels_is_refused_with_413_naming_the_part():
    bomb = bomb_png(20_000, 20_000, decodable=False)
    assert len(bomb) < 1024
    with pytest.raises(ImageTooLarge) as exc:
        identify(Kind.PHOTO, io.BytesIO(bomb), "image/png", part="photo", filename="bomb.png")
    assert exc.value.status == 413 and exc.value.field == "photo"
    assert "part 'photo' (bomb.png)" in exc.value.message


def test_a_decodable_bomb_under_pillows_own_limit_is_refused_too():
    """10000×8500 RGBA: 85 M pixels, under Pillow's 89 M warning limit, ~340 MB once decoded, ~330 KiB as a file."""
    bomb = bomb_png(10_000, 8_500)
    assert len(bomb) < 400 * 1024 and MAX_IMAGE_PIXELS < 10_000 * 8_500
    with pytest.raises(ImageTooLarge) as exc:
        identify(Kind.BEFORE, io.BytesIO(bomb), "image/png", part="before")
    assert exc.value.status == 413 and exc.value.code == "image_too_large"
    assert "10000×8500 pixels" in exc.value.message and "64 megapixels" in exc.value.message


def test_an_image_at_the_limit_is_accepted():
    side = 7_000  # 49 M pixels: a 50 MP phone's photo size
    assert identify(Kind.PHOTO, io.BytesIO(bomb_png(side, side, decodable=False)), "image/png", part="photo").ext == (
        "png"
    )


def test_exif_after_the_pixel_data_of_a_png_is_read_without_decoding_a_pixel(tmp_path):
    """The memory of reading EXIF does not grow with the pixels: a 7000×7000 RGBA PNG (196 MB decoded) with its
    eXIf chunk after IDAT, read in a fresh interpreter whose peak resident size is compared before and after."""
    side = 7_000
    path = tmp_path / "big.png"
    path.write_bytes(bomb_png(side, side, trailing_exif=gps_exif()))
    probe = textwrap.dedent(
        f"""
        import resource
        from PIL import Image, PngImagePlugin  # imported before the first measurement
        from dispatcher.intake.exif import exif_facts
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        with open({str(path)!r}, "rb") as f:
            facts = exif_facts(f)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) // 1024, facts.lat, facts.lon, facts.taken_at.isoformat())
        """
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True)
    grown_mb, lat, lon, taken = result.stdout.split()
    assert int(grown_mb) < 32, (
        f"reading EXIF grew the process by {grown_mb} MB (the pixels are {side * side * 4 >> 20} MB)"
    )
    assert float(lat) == pytest.approx(30.26) and float(lon) == pytest.approx(120.17)
    assert taken == datetime(2026, 12, 2, 1, 30, tzinfo=UTC).isoformat()


def test_exif_of_a_small_png_is_still_read():
    facts = exif_facts(bomb_png(16, 16, trailing_exif=gps_exif()))
    assert facts.lat == pytest.approx(30.26) and facts.lon == pytest.approx(120.17)
    buf = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "GridCommand tests"
    exif.get_ifd(0x8825).update({1: "S", 2: (10.0, 0.0, 0.0), 3: "W", 4: (20.0, 0.0, 0.0)})
    Image.new("RGB", (8, 8)).save(buf, "PNG", exif=exif)  # Pillow writes eXIf before IDAT
    assert buf.getvalue().index(b"eXIf") < buf.getvalue().index(b"IDAT")
    before_pixels = exif_facts(buf.getvalue())
    assert (before_pixels.lat, before_pixels.lon) == (-10.0, -20.0)
