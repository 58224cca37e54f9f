"""The unit of work: one transaction per command; rows, timeline and outbox commit together or not at all."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from dispatcher.access import audit
from dispatcher.access.privacy import present_reporter
from dispatcher.cases.incident import Incident
from dispatcher.errors import ConcurrentUpdate
from dispatcher.store.outbox import OutboxEvent, lock_outbox


class UnitOfWork:
    """`with UnitOfWork(sessions) as uow: ...; uow.commit(now)` — leaving without commit rolls back.

    Every domain event committed also becomes one audit record (dispatcher/access/audit.py) in the same
    transaction; its actor is the timeline entry's. The engine does not know the caller's role or
    address: the web layer sets `uow.actor_role` and `uow.ip` (both default None) before committing.
    """

    def __init__(self, sessions: sessionmaker[Session]):
        self._sessions = sessions
        self.session: Session
        self.actor_role: str | None = None  # the caller's role, for the audit trail (set by the web layer)
        self.ip: str | None = None  # the caller's address, for the audit trail (set by the web layer)

    def __enter__(self) -> UnitOfWork:
        self.session = self._sessions()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.session.rollback()
        self.session.close()

    def commit(self, now: datetime) -> list[OutboxEvent]:
        """Flush the changes, write one outbox row and one audit record per domain event, and commit it all at once."""
        try:
            # Take the incidents that have events before flushing: afterwards the identity map holds them
            # only weakly, and an incident nobody else references would vanish with its events.
            changed = [
                o
                for o in {*self.session.new, *self.session.dirty, *self.session.identity_map.values()}
                if isinstance(o, Incident) and o.events
            ]
            self.session.flush()
            events = self._outbox_rows(changed, now)
            self.session.flush()
            self._audit_rows(events, now)
            self.session.commit()
        except StaleDataError as exc:
            self.session.rollback()
            raise ConcurrentUpdate(_stale_incident_id(exc)) from exc
        return events

    def _outbox_rows(self, changed: list[Incident], now: datetime) -> list[OutboxEvent]:
        rows = []
        for obj in sorted(changed, key=lambda incident: (incident.updated_at, incident.id)):
            snapshot = present_reporter(obj.snapshot(), None)  # pushes and the outbox carry masks only
            for event in obj.events:
                rows.append(
                    OutboxEvent(
                        name=event.name,
                        incident_id=event.incident_id,
                        scope=obj.scope(),
                        payload={**event.data, "incident": snapshot},
                        created_at=now,
                    )
                )
            obj.events.clear()
        if rows:
            lock_outbox(self.session)  # held from taking sequence numbers to commit
        self.session.add_all(rows)
        return rows

    def _audit_rows(self, events: list[OutboxEvent], now: datetime) -> None:
        """One audit record per event (after the outbox lock: lock order is always outbox, then audit)."""
        entries = []
        for event in events:
            entry = (event.payload or {}).get("entry") or {}
            entries.append(
                audit.Entry(
                    actor=entry.get("actor") or audit.SYSTEM,
                    role=self.actor_role,
                    ip=self.ip,
                    action=event.name,
                    target=f"incident:{event.incident_id}",
                    result="ok",
                    detail={
                        "seq": entry.get("seq"),
                        "from": entry.get("from_status"),
                        "to": entry.get("to_status"),
                        "version": (event.payload.get("incident") or {}).get("version"),
                        "outbox": event.id,
                    },
                )
            )
        audit.append_many(self.session, entries, now=now)


def _stale_incident_id(exc: StaleDataError) -> str:
    """Best effort: the id in SQLAlchemy's stale-data message, for an error that names it."""
    text = str(exc)
    return text.split("'")[1] if "'" in text else "unknown"
