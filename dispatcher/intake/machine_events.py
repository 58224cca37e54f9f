"""What cameras and sensors send and what is kept of it: the event-type mapping table
(data/machine_event_types.yaml), the validated input (one event or a batch) and the two tables
(`machine_source`: one row per source and type, the lock that serialises deduplication;
`machine_event`: one row per incident created from detections, with its hits)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from dispatcher.city.loader import City
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

EVENT_TYPES_FILE = "machine_event_types.yaml"  # in settings.data_dir
MAX_BATCH = 500
MAX_SNAPSHOT_BYTES = 256 * 1024
MAX_ATTRIBUTES_BYTES = 8 * 1024
CLOCK_SKEW = timedelta(minutes=10)  # a device clock this far ahead of ours is believed; further is an error
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


# --- the mapping table (data/machine_event_types.yaml) ---------------------------------------------------------


@dataclass(frozen=True)
class EventTypeRule:
    """What one device event type means: its category (None = unknown) and its thresholds."""

    event_type: str
    category_code: str | None
    min_confidence: float
    radius_m: float
    window: timedelta
    known: bool = True


class EventTypes:
    """The event type table; an unknown type gets the defaults and no category."""

    def __init__(self, rules: dict[str, EventTypeRule], default: EventTypeRule):
        self.rules, self.default = rules, default

    def rule(self, event_type: str) -> EventTypeRule:
        found = self.rules.get(event_type)
        if found is not None:
            return found
        d = self.default
        return EventTypeRule(event_type, None, d.min_confidence, d.radius_m, d.window, known=False)


def parse_event_types(raw: dict[str, Any]) -> EventTypes:
    """Build the table from the parsed YAML; ValueError naming the entry on a bad value."""
    defaults = raw.get("defaults") or {}

    def make(name: str, entry: dict[str, Any] | None, base: dict[str, Any]) -> EventTypeRule:
        merged = {**base, **(entry or {})}
        unknown = set(merged) - {"category", "min_confidence", "radius_m", "window_min"}
        if unknown:
            raise ValueError(f"machine event type {name!r}: unknown keys {sorted(unknown)}")
        confidence, radius, window = (
            merged.get("min_confidence", 0.0),
            merged.get("radius_m", 30),
            merged.get("window_min", 30),
        )
        if not 0 <= confidence <= 1 or radius <= 0 or window <= 0:
            raise ValueError(f"machine event type {name!r}: min_confidence 0..1, radius_m and window_min > 0")
        category = merged.get("category")
        return EventTypeRule(
            name,
            str(category) if category is not None else None,
            float(confidence),
            float(radius),
            timedelta(minutes=float(window)),
        )

    rules = {str(name): make(str(name), entry, defaults) for name, entry in (raw.get("types") or {}).items()}
    return EventTypes(rules, make("(default)", {}, defaults))


@lru_cache(maxsize=4)
def load_event_types(path: Path) -> EventTypes:
    """The mapping table in `path` (settings.data_dir / EVENT_TYPES_FILE), read once per path."""
    return parse_event_types(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


def check_event_types(types: EventTypes, city: City) -> list[str]:
    """Problems of the table against the catalogue (a category code that does not exist)."""
    return [
        f"{r.event_type}: category {r.category_code!r} is not in the catalogue"
        for r in types.rules.values()
        if r.category_code and city.catalogue.find_category(r.category_code) is None
    ]


# --- tables ---------------------------------------------------------------------------------------------------


class MachineSource(Base):
    """One row per (device, event type) ever seen: the row every detection of that pair locks first."""

    __tablename__ = "machine_source"

    source_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(31), primary_key=True)
    source_kind: Mapped[str] = mapped_column(String(8))
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MachineDetection(Base):
    """The detections behind one machine-created incident: where it was first seen, how often since."""

    __tablename__ = "machine_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_id: Mapped[str] = mapped_column(String(32))
    source_kind: Mapped[str] = mapped_column(String(8))
    event_type: Mapped[str] = mapped_column(String(31))
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), unique=True)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    first_detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_detected_at: Mapped[datetime] = mapped_column(UTCDateTime)
    confidence: Mapped[float] = mapped_column(Float)  # of the first detection
    max_confidence: Mapped[float] = mapped_column(Float)
    hits: Mapped[int] = mapped_column(Integer, default=1)
    snapshot_url: Mapped[str | None] = mapped_column(String(1000))  # the latest one sent
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary)  # the first detection's JPEG, if sent inline
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_machine_event_source_type", "source_id", "event_type"),)

    def as_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "source_id": self.source_id,
            "source_kind": self.source_kind,
            "event_type": self.event_type,
            "location": {"lon": self.lon, "lat": self.lat},
            "first_detected_at": self.first_detected_at.isoformat(),
            "last_detected_at": self.last_detected_at.isoformat(),
            "confidence": self.confidence,
            "max_confidence": self.max_confidence,
            "hits": self.hits,
            "snapshot_url": self.snapshot_url,
            "has_snapshot": self.snapshot is not None,
            "snapshot_sha256": self.snapshot_sha256,
            "attributes": self.attributes or {},
        }


# --- input ----------------------------------------------------------------------------------------------------

Longitude = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-180, le=180)]
Latitude = Annotated[float, Field(strict=True, allow_inf_nan=False, ge=-90, le=90)]


class MachineEvent(BaseModel):
    """One detection as a camera or sensor gateway sends it; unknown keys are kept as attributes."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True, frozen=True, allow_inf_nan=False)

    source_id: Annotated[
        str,
        Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$", description="the camera's or sensor's id"),
    ]
    source_kind: Literal["camera", "sensor"]
    event_type: Annotated[
        str,
        Field(
            min_length=1,
            max_length=31,
            pattern=r"^[A-Za-z0-9_.\-]+$",
            description="the device's event name, e.g. garbage_overflow",
        ),
    ]
    confidence: Annotated[float, Field(strict=True, ge=0, le=1, allow_inf_nan=False)]
    lon: Longitude = Field(description="WGS-84 longitude (EPSG:4326)")
    lat: Latitude = Field(description="WGS-84 latitude (EPSG:4326)")
    detected_at: AwareDatetime = Field(description="ISO 8601 with a time zone, or unix seconds / milliseconds")
    snapshot_url: Annotated[str, Field(max_length=1000, pattern=r"^https?://\S+$")] | None = None
    snapshot: Annotated[str, Field(max_length=MAX_SNAPSHOT_BYTES * 4 // 3 + 8)] | None = Field(
        default=None, description="a small JPEG, base64 (≤ 256 KB decoded)"
    )
    attributes: dict[str, Any] | None = Field(default=None, description="anything else the device reports")

    @field_validator("detected_at", mode="before")
    @classmethod
    def _unix_time(cls, value: object) -> object:
        if isinstance(value, bool):
            raise ValueError("detected_at must be an ISO 8601 time or unix seconds/milliseconds")
        if isinstance(value, (int, float)):
            seconds = value / 1000 if value > 1e11 else value  # milliseconds
            try:
                return datetime.fromtimestamp(seconds, UTC)
            except (OverflowError, OSError, ValueError):
                raise ValueError(f"unix time {value} is out of range") from None
        return value

    @field_validator("detected_at")
    @classmethod
    def _not_ancient(cls, value: datetime) -> datetime:
        if value < EARLIEST:
            raise ValueError(f"{value.isoformat()} is before 2000 (a device clock that was never set?)")
        return value.astimezone(UTC)

    @field_validator("attributes")
    @classmethod
    def _small(cls, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is not None and json_size(value) > MAX_ATTRIBUTES_BYTES:
            raise ValueError(f"attributes are larger than {MAX_ATTRIBUTES_BYTES} bytes")
        return value

    @field_validator("snapshot")
    @classmethod
    def _jpeg(cls, value: str | None) -> str | None:
        if value is None:
            return None
        data = snapshot_bytes(value)
        if len(data) > MAX_SNAPSHOT_BYTES:
            raise ValueError(f"snapshot is {len(data)} bytes; at most {MAX_SNAPSHOT_BYTES}")
        if not data.startswith(b"\xff\xd8\xff"):
            raise ValueError("snapshot is not a JPEG")
        return value

    @model_validator(mode="after")
    def _checks(self) -> MachineEvent:
        if json_size(self.all_attributes()) > MAX_ATTRIBUTES_BYTES:
            raise ValueError(f"attributes are larger than {MAX_ATTRIBUTES_BYTES} bytes")
        return self

    def all_attributes(self) -> dict[str, Any]:
        """`attributes` plus any unknown top-level keys."""
        return {**(self.model_extra or {}), **(self.attributes or {})}


def json_size(value: Any) -> int:
    """The size of `value` as JSON; ValueError for NaN or Infinity anywhere in it (they are not JSON)."""
    return len(json.dumps(value, ensure_ascii=False, default=str, allow_nan=False))


def snapshot_bytes(value: str) -> bytes:
    if value.startswith("data:"):
        value = value.split(",", 1)[-1]
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("snapshot is not valid base64") from None


class MachineBatch(BaseModel):
    """Several detections at once (a gateway's buffer)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    events: Annotated[list[MachineEvent], Field(min_length=1, max_length=MAX_BATCH)]


def too_far_ahead(event: MachineEvent, now: datetime) -> str | None:
    """A message when the device claims a detection from the future (beyond clock skew)."""
    if event.detected_at > now + CLOCK_SKEW:
        return f"detected_at {event.detected_at.isoformat()} is in the future (server time {now.isoformat()})"
    return None
