"""Column types that behave the same on PostgreSQL/PostGIS and on the embedded SQLite default."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import shapely
from geoalchemy2 import Geometry as PostGISGeometry
from geoalchemy2.elements import WKBElement
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Dialect, types

from dispatcher.store.cipher import decrypt, encrypt


class Geometry(types.TypeDecorator[BaseGeometry]):
    """A shapely geometry in EPSG:4326: PostGIS `geometry` on PostgreSQL, WKB bytes on SQLite."""

    impl = types.LargeBinary
    cache_ok = True
    spatial_index = False  # GeoAlchemy2's DDL hooks ask; indexes are made by the migrations
    use_N_D_index = False

    def __init__(self, geometry_type: str = "GEOMETRY"):
        super().__init__()
        self.geometry_type = geometry_type

    def _postgis(self) -> PostGISGeometry:
        return PostGISGeometry(geometry_type=self.geometry_type, srid=4326, spatial_index=False)

    def load_dialect_impl(self, dialect: Dialect | None) -> types.TypeEngine[Any]:
        if dialect is None or dialect.name == "postgresql":
            return self._postgis() if dialect is None else dialect.type_descriptor(self._postgis())
        return dialect.type_descriptor(types.LargeBinary())

    def process_bind_param(self, value: BaseGeometry | None, dialect: Dialect) -> str | bytes | None:
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, 4326), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value: WKBElement | bytes | None, dialect: Dialect) -> BaseGeometry | None:
        if value is None:
            return None
        return shapely.from_wkb(getattr(value, "data", value))


class UTCDateTime(types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC)."""

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class EncryptedText(types.TypeDecorator[str]):
    """Personal data encrypted at rest (AES-GCM, see dispatcher/store/cipher.py): text in Python, "v1:<base64>" in
    the database. None stays None. The ciphertext is random per write, so the column cannot be searched
    or compared in SQL."""

    impl = types.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return decrypt(value)


class EncryptedJSON(types.TypeDecorator[Any]):
    """A JSON value encrypted at rest like `EncryptedText` (for stored API answers that carry personal data,
    e.g. idempotency replays). Reads plain JSON written before encryption unchanged."""

    impl = types.Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:  # any JSON value
        return None if value is None else encrypt(json.dumps(value, ensure_ascii=False, separators=(",", ":")))

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(decrypt(value))
