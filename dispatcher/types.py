"""Column types that behave the same on PostgreSQL/PostGIS and on the embedded SQLite default."""
from __future__ import annotations

from datetime import UTC, datetime

import shapely
from geoalchemy2 import Geometry as PostGISGeometry
from sqlalchemy import types


class Geometry(types.TypeDecorator):
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

    def load_dialect_impl(self, dialect):
        if dialect is None or dialect.name == "postgresql":
            return self._postgis() if dialect is None else dialect.type_descriptor(self._postgis())
        return dialect.type_descriptor(types.LargeBinary())

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "postgresql":
            return shapely.to_wkb(shapely.set_srid(value, 4326), hex=True, include_srid=True)
        return shapely.to_wkb(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return shapely.from_wkb(getattr(value, "data", value))


class UTCDateTime(types.TypeDecorator):
    """A timezone-aware UTC datetime on every backend (SQLite stores naive UTC)."""

    impl = types.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass timezone-aware times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
