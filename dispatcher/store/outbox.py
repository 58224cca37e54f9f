"""The transactional outbox: events written with the change that caused them, relayed after commit."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, Label, String, func, literal, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

EventId = BigInteger().with_variant(Integer(), "sqlite")
OUTBOX_LOCK_KEY = 0x67726964  # "grid": the advisory lock that orders outbox commits on PostgreSQL
AUDIT_LOCK_KEY = 0x61756474  # "audt": orders audit appends (dispatcher/access/audit.py), always after the outbox's
HELD = "gridcommand.advisory_locks"  # session.info: (root transaction, advisory lock keys it holds)


def lock_outbox(session: Session, *, with_audit: bool = False) -> None:
    """On PostgreSQL, hold the outbox lock until commit (re-entrant), so that events become visible in sequence
    order: a client reading "everything after seq N" can never skip one committed later. `with_audit` takes the
    audit lock after it in the same round trip (the lock order is always outbox, then audit)."""
    hold_locks(session, OUTBOX_LOCK_KEY, *((AUDIT_LOCK_KEY,) if with_audit else ()))


def hold_locks(session: Session, *keys: int) -> None:
    """On PostgreSQL, take these transaction-scoped advisory locks in order, in one statement, skipping those this
    transaction took already (they are re-entrant and held until it ends: asking again only costs a round trip)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    wanted = [key for key in keys if key not in _held(session)]
    if wanted:
        session.execute(select(*_lock_calls(wanted)))
        _remember(session, wanted)


def _lock_calls(keys: list[int]) -> list[Label[Any]]:
    return [func.pg_advisory_xact_lock(literal(key, BigInteger)).label(f"lock{n}") for n, key in enumerate(keys)]


def _held(session: Session) -> frozenset[int]:
    held_by, held = session.info.get(HELD, (None, frozenset()))
    return held if held_by is not None and held_by is session.get_transaction() else frozenset()


def _remember(session: Session, keys: list[int]) -> None:
    session.info[HELD] = (session.get_transaction(), _held(session) | set(keys))


class OutboxEvent(Base):
    """One domain event waiting to be (or already) published; `id` is the push sequence number."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(EventId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[str | None] = mapped_column(String(36))
    scope: Mapped[list[str]] = mapped_column(JSON, default=list)  # grid codes + department: the rooms
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)

    __table_args__ = (Index("ix_outbox_pending", "published_at", "id"),)

    def as_message(self) -> dict[str, Any]:
        """The wire form pushed to clients."""
        return {"seq": self.id, "name": self.name, "incident_id": self.incident_id, "data": self.payload}


def pending(session: Session, limit: int) -> list[OutboxEvent]:
    """The oldest unpublished events, locked so that two relays never take the same row."""
    query = select(OutboxEvent).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(limit)
    return list(session.scalars(query.with_for_update(skip_locked=True)))


def count_pending(session: Session) -> int:
    """How many events have not been published yet."""
    query = select(func.count()).select_from(OutboxEvent).where(OutboxEvent.published_at.is_(None))
    return session.execute(query).scalar_one()


def since(session: Session, after_seq: int, limit: int) -> list[OutboxEvent]:
    """Events after a sequence number, oldest first: what a reconnecting client replays."""
    query = select(OutboxEvent).where(OutboxEvent.id > after_seq).order_by(OutboxEvent.id).limit(limit)
    return list(session.scalars(query))


def head(session: Session) -> int:
    """The newest sequence number (0 for an empty outbox): where a starting web process begins delivering."""
    return session.execute(select(func.coalesce(func.max(OutboxEvent.id), 0))).scalar_one()


def created_after(session: Session, after_seq: int) -> datetime | None:
    """When the first event after `after_seq` was committed (None when there is none): how far behind a cursor is."""
    query = select(OutboxEvent.created_at).where(OutboxEvent.id > after_seq).order_by(OutboxEvent.id).limit(1)
    return session.execute(query).scalar_one_or_none()


def oldest_pending_at(session: Session) -> datetime | None:
    """When the oldest event the worker has not handled yet was committed (None when there is none)."""
    query = select(OutboxEvent.created_at).where(OutboxEvent.published_at.is_(None)).order_by(OutboxEvent.id).limit(1)
    return session.execute(query).scalar_one_or_none()
