"""The unit of work: one transaction per command; rows, timeline and outbox commit together or not at all."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dispatcher.errors import ConcurrentUpdate
from dispatcher.incident import Incident
from dispatcher.outbox import OutboxEvent


OUTBOX_LOCK_KEY = 0x67726964  # "grid": the advisory lock that orders outbox commits on PostgreSQL


class UnitOfWork:
    """`with UnitOfWork(sessions) as uow: ...; uow.commit(now)` — leaving without commit rolls back."""

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions
        self.session: Session

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    def __exit__(self, *exc_info) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self, now: datetime) -> list[OutboxEvent]:
        """Flush the changes, write one outbox row per domain event, and commit it all in one transaction."""
        try:
            self.session.flush()
            events = self._outbox_rows(now)
            self.session.flush()
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrentUpdate(_stale_incident_id(exc)) from exc
        return events

    def _outbox_rows(self, now: datetime) -> list[OutboxEvent]:
        rows = []
        for obj in list(self.session.identity_map.values()):
            if not isinstance(obj, Incident) or not obj.events:
                continue
            snapshot = obj.snapshot()
            for event in obj.events:
                rows.append(OutboxEvent(name=event.name, incident_id=event.incident_id, scope=obj.scope(),
                                        payload={**event.data, "incident": snapshot}, created_at=now))
            obj.events.clear()
        if rows and self.session.get_bind().dialect.name == "postgresql":
            # Hold one lock from taking sequence numbers to commit, so events become visible in sequence
            # order: a client reading "everything after seq N" can never skip one committed later.
            self.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK_KEY})
        self.session.add_all(rows)
        return rows


def _stale_incident_id(exc: StaleDataError) -> str:
    """Best effort: the id in SQLAlchemy's stale-data message, for an error that names it."""
    text = str(exc)
    return text.split("'")[1] if "'" in text else "unknown"


