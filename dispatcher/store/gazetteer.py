"""The city's address gazetteer in the database: roads and landmarks replaced all at once on import (like the
grids), and loaded back as geo.gazetteer entries."""

from __future__ import annotations

from datetime import datetime

import shapely
from sqlalchemy import JSON, Integer, String, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.store.base import Base
from dispatcher.store.columns import Geometry, UTCDateTime
from geo.gazetteer import Entry


class AddressRow(Base):
    """One road (a line with its house-number range) or landmark (a point) of the current address version."""

    __tablename__ = "address"

    id: Mapped[int] = mapped_column(
        Integer, primary_key=True, autoincrement=False
    )  # the feature's index in the imported file
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), index=True)
    name_en: Mapped[str] = mapped_column(String(128), default="")
    aliases: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(32))
    number_first: Mapped[int | None] = mapped_column(Integer)
    number_last: Mapped[int | None] = mapped_column(Integer)
    geometry = mapped_column(Geometry("GEOMETRY"), nullable=False)
    version: Mapped[int] = mapped_column(Integer)


class AddressImport(Base):
    """One accepted address import."""

    __tablename__ = "address_import"

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(255))
    entry_count: Mapped[int] = mapped_column(Integer)
    actor: Mapped[str] = mapped_column(String(64))


def current_address_version(session: Session) -> int | None:
    """The version of the addresses now in force, None before the first import."""
    return session.scalar(select(func.max(AddressImport.version)))


def replace_addresses(session: Session, entries: list[Entry], *, source: str, actor: str, now: datetime) -> int:
    """Make `entries` the city's addresses as a new version, replacing every earlier one (the caller commits)."""
    version = (current_address_version(session) or 0) + 1
    session.execute(delete(AddressRow))
    session.add(
        AddressImport(version=version, imported_at=now, source=source[:255], entry_count=len(entries), actor=actor)
    )
    for index, e in enumerate(entries):
        geometry = shapely.LineString(e.coords) if e.kind == "road" else shapely.Point(e.coords[0])
        first, last = e.numbers if e.numbers else (None, None)
        session.add(
            AddressRow(
                id=index,
                kind=e.kind,
                name=e.name,
                name_en=e.name_en,
                aliases=list(e.aliases),
                category=e.category,
                number_first=first,
                number_last=last,
                geometry=geometry,
                version=version,
            )
        )
    return version


def load_addresses(session: Session) -> list[Entry]:
    """The stored roads and landmarks as gazetteer entries, in file order."""
    out = []
    for row in session.scalars(select(AddressRow).order_by(AddressRow.id)):
        numbers = (row.number_first, row.number_last) if row.number_first and row.number_last else None
        coords = tuple((float(x), float(y)) for x, y, *_ in row.geometry.coords)
        out.append(
            Entry(row.kind, row.name, row.name_en or "", tuple(row.aliases or ()), coords, numbers, row.category)
        )
    return out
