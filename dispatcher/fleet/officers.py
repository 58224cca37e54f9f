"""Officers (grid workers, enforcement officers, department handlers) and their position history."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, cast

import yaml
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CursorResult,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    delete,
    func,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.access import audit
from dispatcher.access.accounts import Account
from dispatcher.access.roles import Role as AccountRole
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import OPEN_STATUSES
from dispatcher.errors import Invalid, NotFound
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

BigId = BigInteger().with_variant(Integer(), "sqlite")
STALE_AFTER_S = 120  # no fix for 2 minutes: the marker greys out
OFFLINE_AFTER_S = 600  # no fix for 10 minutes: offline


class Role(StrEnum):
    GRID_WORKER = "grid_worker"  # 网格员
    ENFORCEMENT = "enforcement"  # 执法队员
    HANDLER = "handler"  # 部门处置人员


class OfficerStatus(StrEnum):
    ON_DUTY = "on_duty"
    BUSY = "busy"
    OFF_DUTY = "off_duty"
    STALE = "stale"
    OFFLINE = "offline"


class Officer(Base):
    """A person in the field (their trackers are `Device`s, dispatcher/fleet/devices.py)."""

    __tablename__ = "officer"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16))
    department_code: Mapped[str | None] = mapped_column(String(32))
    grid_community: Mapped[str | None] = mapped_column(String(32), index=True)
    # The roster's name for the officer's tracker hardware: a plain label, never a credential and never in an API
    # answer. Trackers authenticate with an enrolled device's random identifier (dispatcher/fleet/devices.py).
    device_id: Mapped[str] = mapped_column(String(64), unique=True)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)


class OfficerPosition(Base):
    """One accepted GPS fix (history; the latest fix of each officer also lives in Redis)."""

    __tablename__ = "officer_position"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    speed_mps: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    grid_unit: Mapped[str | None] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))  # "enter:<code>" / "exit:<code>" when the grid changed

    __table_args__ = (
        Index("ix_officer_position_officer_at", "officer_id", "at"),
        Index("ix_officer_position_at", "at"),
    )


class Patrol(Base):
    """A grid worker's patrol (巡查): its track is the officer's position history between start and end."""

    __tablename__ = "patrol"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    officer_id: Mapped[str] = mapped_column(ForeignKey("officer.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None while it goes on
    grid_units: Mapped[list[str]] = mapped_column(JSON, default=list)  # the unit grids passed through (at the end)
    length_m: Mapped[float | None] = mapped_column(Float)  # the track's length (at the end)

    __table_args__ = (
        Index("ix_patrol_officer_started", "officer_id", "started_at"),
        Index("ix_patrol_started_at", "started_at"),
    )


class PatrolReport(Base):
    """A problem reported on the way: the case belongs to the patrol."""

    __tablename__ = "patrol_report"

    patrol_id: Mapped[str] = mapped_column(ForeignKey("patrol.id", ondelete="CASCADE"), primary_key=True)
    incident_id: Mapped[str] = mapped_column(ForeignKey("incident.id", ondelete="CASCADE"), primary_key=True)


# which officer role each field account role may be linked to
LINKABLE = {
    AccountRole.GRID_WORKER: Role.GRID_WORKER,
    AccountRole.ENFORCEMENT: Role.ENFORCEMENT,
    AccountRole.DEPT_HANDLER: Role.HANDLER,
}


def link_account(session: Session, account: Account, officer_id: str | None, *, actor: str, now: datetime) -> None:
    """Make `account` the officer's own (None unlinks): same role and department; one account per officer."""
    if officer_id is not None:
        officer = session.get(Officer, officer_id)
        if officer is None:
            raise NotFound(f"officer {officer_id!r} does not exist", field="officer_id")
        check_link(account, officer)
        taken = session.scalar(select(Account).where(Account.officer_id == officer_id, Account.id != account.id))
        if taken is not None:
            raise Invalid(f"officer {officer_id} is already linked to {taken.username}", field="officer_id")
    account.officer_id = officer_id
    detail = {"officer_id": officer_id}
    target = f"account:{account.username}"
    audit.append(session, actor=actor, action="account.officer", target=target, result="ok", detail=detail, now=now)


def check_link(account: Account, officer: Officer) -> None:
    """Invalid unless the account's role is the officer's and their departments agree."""
    if LINKABLE.get(AccountRole(account.role)) != officer.role:
        raise Invalid(f"a {account.role} account cannot be the {officer.role} {officer.id}", field="officer_id")
    if account.department_code and officer.department_code and account.department_code != officer.department_code:
        raise Invalid(
            f"{officer.id} works for {officer.department_code}, not {account.department_code}", field="officer_id"
        )


def status_of(officer: Officer, last_fix_at: datetime | None, load: int, now: datetime) -> OfficerStatus:
    """Off duty, offline/stale by the age of the last fix, busy with open work, else on duty."""
    if not officer.on_duty:
        return OfficerStatus.OFF_DUTY
    age = None if last_fix_at is None else (now - last_fix_at).total_seconds()
    if age is None or age > OFFLINE_AFTER_S:
        return OfficerStatus.OFFLINE
    if age > STALE_AFTER_S:
        return OfficerStatus.STALE
    return OfficerStatus.BUSY if load > 0 else OfficerStatus.ON_DUTY


def loads(session: Session) -> dict[str, int]:
    """Open incidents assigned to each officer."""
    rows = session.execute(
        select(Incident.assignee, func.count())
        .where(Incident.assignee.is_not(None), Incident.status.in_([str(s) for s in OPEN_STATUSES]))
        .group_by(Incident.assignee)
    )
    return {assignee: n for assignee, n in rows if assignee is not None}  # the query excludes None already


def load_roster(path: Path) -> list[Officer]:
    """Officers from a roster YAML file (list of mappings with the Officer columns)."""
    rows = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [Officer(**row) for row in rows]


def purge_history(session: Session, before: datetime) -> int:
    """Delete position history older than `before` (retention); returns how many rows."""
    # A DELETE without RETURNING gives a CursorResult; SQLAlchemy types Session.execute as a plain Result.
    result = cast("CursorResult[Any]", session.execute(delete(OfficerPosition).where(OfficerPosition.at < before)))
    return result.rowcount
