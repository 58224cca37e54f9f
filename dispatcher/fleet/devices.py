"""Trackers: the devices enrolled for each officer, whose random identifier is the credential (stored hashed).

A tracker (Traccar Client, OsmAnd) sends its identifier as `id` with every fix, as Traccar does; here the
identifier is a random string of 192 bits, shown once when the device is issued and kept only as its
SHA-256. A device has a short public id (`dv-…`) for lists, audit and revocation; the public id is not a
credential. Revoking a device also revokes the API tokens bound to it. Every change is audited.

Pure SQLAlchemy: no Flask. The caller commits.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, String, bindparam, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.access import audit
from dispatcher.access.accounts import ApiToken, hash_secret, live_token
from dispatcher.access.roster import grant_token
from dispatcher.errors import Conflict, Invalid, NotFound
from dispatcher.fleet.officers import Officer
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

IDENTIFIER_BYTES = 24  # 192 random bits: 32 URL-safe characters
LABEL_MAX = 64
POSTING_KINDS = frozenset({"device", "service"})  # token kinds that may post positions (when bound to a device)
OSMAND_PATH = "/osmand"  # where trackers report (dashboard/api/osmand.py)
# OsmAnd's online tracking fills in {0} lat, {1} lon, {2} time (ms), {3} hdop, {4} altitude, {5} speed, {6} bearing
OSMAND_QUERY = "lat={0}&lon={1}&timestamp={2}&hdop={3}&altitude={4}&speed={5}&bearing={6}"


class Device(Base):
    """An enrolled tracker of one officer; only the hash of its identifier is stored."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # public: dv-<10 hex>
    officer_id: Mapped[str] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"), index=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)  # SHA-256 of the identifier
    label: Mapped[str | None] = mapped_column(String(LABEL_MAX))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # time of its latest accepted fix


@dataclass(frozen=True)
class Issued:
    """A new device and its identifier (the only time the identifier exists outside the tracker)."""

    device: Device
    identifier: str


@dataclass(frozen=True)
class Enrolled:
    """A live device as the position pipeline needs it: its public id and its officer."""

    device_id: str
    officer: Officer


def tracker_setup(base_url: str, identifier: str) -> dict[str, str]:
    """What to enter in the tracker apps: Traccar Client's server URL and identifier, OsmAnd's tracking URL."""
    base = base_url.rstrip("/")
    return {
        "server_url": base + OSMAND_PATH,
        "identifier": identifier,
        "osmand_url": f"{base}{OSMAND_PATH}?id={identifier}&{OSMAND_QUERY}",
    }


def issue(
    session: Session,
    officer_id: str,
    *,
    label: str | None = None,
    actor: str,
    role: str | None = None,
    ip: str | None = None,
    now: datetime,
) -> Issued:
    """Enrol a new tracker for an officer: a random identifier, returned once, stored hashed; audited."""
    officer = session.get(Officer, officer_id)
    if officer is None:
        raise NotFound(f"officer {officer_id!r} does not exist", field="officer_id")
    label = (label or "").strip() or None
    if label is not None and len(label) > LABEL_MAX:
        raise Invalid(f"device label for officer {officer_id} is longer than {LABEL_MAX} characters", field="label")
    identifier = secrets.token_urlsafe(IDENTIFIER_BYTES)
    device = Device(
        id="dv-" + secrets.token_hex(5),
        officer_id=officer.id,
        secret_hash=hash_secret(identifier),
        label=label,
        created_at=now,
    )
    session.add(device)
    audit.append(
        session,
        actor=actor,
        role=role,
        ip=ip,
        action="device.issue",
        target=f"device:{device.id}",
        detail={"officer_id": officer.id, "label": label},
        now=now,
    )
    return Issued(device, identifier)


def revoke(
    session: Session, device_id: str, *, actor: str, role: str | None = None, ip: str | None = None, now: datetime
) -> Device:
    """Revoke a device (its identifier stops working within seconds) and every API token bound to it; audited."""
    device = session.get(Device, device_id)
    if device is None:
        raise NotFound(f"device {device_id!r} does not exist", field="device_id")
    if device.revoked_at is not None:
        raise Conflict(f"device {device_id} was already revoked at {device.revoked_at.isoformat()}")
    device.revoked_at = now
    tokens = list(
        session.scalars(select(ApiToken).where(ApiToken.device_id == device_id, ApiToken.revoked_at.is_(None)))
    )
    for token in tokens:
        token.revoked_at = now
    audit.append(
        session,
        actor=actor,
        role=role,
        ip=ip,
        action="device.revoke",
        target=f"device:{device_id}",
        detail={"officer_id": device.officer_id, "tokens_revoked": [t.id for t in tokens]},
        now=now,
    )
    return device


def devices_of(session: Session, officer_id: str | None = None) -> list[Device]:
    """Devices (live and revoked) of one officer or of everyone, by officer then newest first."""
    query = select(Device).order_by(Device.officer_id, Device.created_at.desc(), Device.id)
    if officer_id is not None:
        query = query.where(Device.officer_id == officer_id)
    return list(session.scalars(query))


def enrolled(session: Session) -> dict[str, Enrolled]:
    """Every live (unrevoked) device keyed by the hash of its identifier, with its officer."""
    rows = session.execute(
        select(Device.secret_hash, Device.id, Officer).join(Officer).where(Device.revoked_at.is_(None))
    )
    return {secret_hash: Enrolled(device_id, officer) for secret_hash, device_id, officer in rows}


def mark_seen(session: Session, seen: dict[str, datetime]) -> None:
    """Move each device's `last_seen_at` forward to the time of its latest accepted fix."""
    if not seen:
        return
    statement = (
        update(Device)
        .where(
            Device.id == bindparam("b_id"),
            or_(Device.last_seen_at.is_(None), Device.last_seen_at < bindparam("b_at")),
        )
        .values(last_seen_at=bindparam("b_at"))
    )  # one executemany on the session's connection (the ORM's bulk-by-primary-key form takes no WHERE)
    session.connection().execute(statement, [{"b_id": device, "b_at": at} for device, at in sorted(seen.items())])


def grant_device_token(
    session: Session, device_id: str, username: str, *, kind: str = "device", actor: str, now: datetime
) -> str:
    """An API token of `username` bound to one live device: it may post positions for that device only."""
    if kind not in POSTING_KINDS:
        raise Invalid(
            f"a token bound to device {device_id} must be of kind device or service, not {kind!r}", field="kind"
        )
    device = session.get(Device, device_id)
    if device is None or device.revoked_at is not None:
        raise NotFound(f"device {device_id!r} does not exist or was revoked", field="device_id")
    return grant_token(
        session, username, name=f"device {device_id}", kind=kind, device_id=device_id, actor=actor, now=now
    )


def device_of_token(session: Session, token: str) -> Device | None:
    """The live device a live device or service token is bound to; None for any other token."""
    row = live_token(session, token)
    if row is None or row.device_id is None or row.kind not in POSTING_KINDS:
        return None
    device = session.get(Device, row.device_id)
    return device if device is not None and device.revoked_at is None else None
