"""What a photo says about itself (EXIF): when and where it was taken, read from the headers only.

No pixel is ever decoded here: Pillow's `Image.open` reads headers lazily and `getexif()` of a JPEG or
WebP reads the metadata parsed at open. A PNG may put its `eXIf` chunk after the pixel data, where
Pillow would decode the whole image to reach it (a 335 KiB PNG can decode to hundreds of MB): that chunk
is found by skipping chunk headers instead.

Pure Python + Pillow: no Flask, no database.
"""

from __future__ import annotations

import io
import math
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import IO, Any
from zoneinfo import ZoneInfo

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL, DATETIME = 36867, 36881, 306
GPS_LAT_REF, GPS_LAT, GPS_LON_REF, GPS_LON = 1, 2, 3, 4
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_EXIF_BYTES = 1 << 20  # an eXIf chunk larger than this is not read


@dataclass(frozen=True)
class ExifFacts:
    """What a photo says about itself: when it was taken (UTC) and where (WGS-84)."""

    taken_at: datetime | None = None
    lon: float | None = None
    lat: float | None = None


def exif_facts(data: bytes | IO[bytes], *, local_tz: str = "Asia/Shanghai") -> ExifFacts:
    """DateTimeOriginal (with OffsetTimeOriginal, else the local time zone) and GPS position of a photo.

    Reads headers only, never pixels. Never raises: a photo without (or with broken) EXIF gives empty facts.
    """
    from PIL import Image

    try:
        stream = io.BytesIO(data) if isinstance(data, bytes | bytearray) else data
        with Image.open(stream) as image:
            if image.format == "PNG" and "exif" not in image.info:
                exif = Image.Exif()  # PngImageFile.getexif() would load() the pixels to look further
                if raw := _png_trailing_exif(stream):
                    exif.load(raw)
            else:
                exif = image.getexif()
            sub = exif.get_ifd(EXIF_IFD)
            gps = exif.get_ifd(GPS_IFD)
    except Exception:
        return ExifFacts()
    taken = _taken_at(sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME), sub.get(OFFSET_TIME_ORIGINAL), local_tz)
    lat = _coordinate(gps.get(GPS_LAT), gps.get(GPS_LAT_REF), "S", 90)
    lon = _coordinate(gps.get(GPS_LON), gps.get(GPS_LON_REF), "W", 180)
    if lat is None or lon is None:
        lat = lon = None
    return ExifFacts(taken, lon, lat)


def _png_trailing_exif(stream: IO[bytes]) -> bytes | None:
    """The `eXIf` chunk of a PNG wherever it is, found by seeking from chunk header to chunk header."""
    stream.seek(0)
    if stream.read(8) != PNG_SIGNATURE:
        return None
    while len(head := stream.read(8)) == 8:
        length, kind = struct.unpack(">I4s", head)
        if kind == b"eXIf":
            return stream.read(length) if length <= MAX_EXIF_BYTES else None
        if kind == b"IEND":
            return None
        stream.seek(length + 4, io.SEEK_CUR)  # the chunk's data and its CRC
    return None


def _taken_at(value: Any, offset: Any, local_tz: str) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        naive = datetime.strptime(value.strip("\x00 ")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    tz: Any = ZoneInfo(local_tz)
    if isinstance(offset, str):
        try:
            sign = -1 if offset.strip().startswith("-") else 1
            hours, minutes = offset.strip().lstrip("+-").split(":")
            tz = timezone(sign * timedelta(hours=int(hours), minutes=int(minutes)))
        except ValueError:
            pass
    return naive.replace(tzinfo=tz).astimezone(UTC)


def _coordinate(value: Any, ref: Any, negative: str, limit: float) -> float | None:
    try:
        degrees, minutes, seconds = (float(v) for v in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    if isinstance(ref, bytes):
        ref = ref.decode("ascii", "ignore")
    if isinstance(ref, str) and ref.strip("\x00 ").upper() == negative:
        result = -result
    if not math.isfinite(result) or not -limit <= result <= limit:
        return None
    return round(result, 7)
