"""Grid rows in the database: replace them on import (a new grid version), load them into a GridIndex."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import shapely
from sqlalchemy import JSON, Integer, LargeBinary, String, delete, func, select, type_coerce
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.store.base import Base
from dispatcher.store.columns import Geometry, UTCDateTime
from geo.grids import Grid, GridIndex, Level


class GridRow(Base):
    """One grid of the current version: district, street, community or unit grid."""

    __tablename__ = "grid"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[str] = mapped_column(String(16), index=True)
    parent_code: Mapped[str | None] = mapped_column(String(32), index=True)
    properties: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    geometry = mapped_column(Geometry("GEOMETRY"), nullable=False)
    version: Mapped[int] = mapped_column(Integer)


class GridImport(Base):
    """One accepted grid import: the version a case remembers it was routed with."""

    __tablename__ = "grid_import"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(255))
    grid_count: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))


def current_version(session: Session) -> int | None:
    """The version of the grids now in force, None before the first import."""
    return session.scalar(select(func.max(GridImport.version)))


def replace_grids(session: Session, grids: list[Grid], *, source: str, actor: str, now: datetime) -> int:
    """Make `grids` the city's grids as a new version (the caller commits)."""
    version = (current_version(session) or 0) + 1
    session.execute(delete(GridRow))
    session.add(GridImport(version=version, imported_at=now, source=source[:255], grid_count=len(grids), actor=actor))
    session.add_all(
        GridRow(
            code=g.code,
            name=g.name,
            level=str(g.level),
            parent_code=g.parent_code,
            properties=dict(g.properties),
            geometry=g.geometry,
            version=version,
        )
        for g in grids
    )
    return version


def load_index(session: Session) -> GridIndex:
    """Build the in-memory index from the stored grids: plain columns, every geometry decoded in one call (per-row
    ORM loading and WKB decoding took most of a 100,000-grid city's start)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    wkb = (
        func.ST_AsBinary(GridRow.geometry, type_=LargeBinary)
        if postgres
        else type_coerce(GridRow.geometry, LargeBinary)
    )
    rows = session.execute(
        select(GridRow.code, GridRow.name, GridRow.level, GridRow.parent_code, GridRow.properties, wkb)
    ).all()
    geometries = shapely.from_wkb([bytes(row[5]) for row in rows])
    grids = [
        Grid(code, name, Level(level), parent_code, geometry, properties or {})
        for (code, name, level, parent_code, properties, _), geometry in zip(rows, geometries, strict=True)
    ]
    return GridIndex(grids, version=str(current_version(session) or 0))
