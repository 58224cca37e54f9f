"""The audit trail: who did what, when, from where, with what result; append-only, keyed and checkpointed.

Every record's `hash` is an HMAC-SHA256, under the audit key (kept out of the database, see audit_keys.py), of a
canonical JSON of its fields and `prev_hash`, the previous record's hash (the first record's `prev_hash` is 64
zeros). Editing a record breaks its own MAC; deleting one breaks the link of the record after it; reordering
breaks the links; and without the key nobody can recompute MACs to re-chain the trail after an edit. A one-row
`audit_head` table (updated in the same transaction as each append) holds the last id and MAC, so deleting the
newest records is caught too unless the head is rolled back with them: that is what the signed checkpoints
outside the database are for (audit_checkpoints.py). `audit_verify.verify` walks the chain and names the first
broken record.

Appends are serialised so the chain never forks: on PostgreSQL by a transaction-scoped advisory lock
(`AUDIT_LOCK_KEY`, taken after the outbox's so lock order is always the same) plus the head row's lock,
on SQLite by the write lock every transaction takes at BEGIN.
Migration 0004 makes `audit_log` append-only in the database itself (triggers refuse UPDATE, DELETE and
TRUNCATE, even for the table's owner; PUBLIC has no UPDATE/DELETE/TRUNCATE grant).

Pure SQLAlchemy: no Flask. The caller commits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    DDL,
    JSON,
    BigInteger,
    Index,
    Integer,
    String,
    Table,
    event,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.access import audit_checkpoints, audit_keys
from dispatcher.access.audit_keys import GENESIS, HASHED_FIELDS, legacy_hash
from dispatcher.access.audit_keys import canonical as canonical  # re-exported: the trail's canonical form
from dispatcher.access.audit_keys import record_mac as record_mac  # re-exported: a record's MAC, installed key
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime
from dispatcher.store.outbox import AUDIT_LOCK_KEY as AUDIT_LOCK_KEY  # orders audit appends on PostgreSQL
from dispatcher.store.outbox import OUTBOX_LOCK_KEY as OUTBOX_LOCK_KEY  # taken first: outbox → audit, always
from dispatcher.store.outbox import lock_outbox

HEAD_ID = 1
SYSTEM = "system"

RecordId = BigInteger().with_variant(Integer(), "sqlite")

# Column widths; values are cut to fit *before* hashing, so the stored row and its hash always agree.
WIDTHS = {"actor": 64, "role": 32, "ip": 64, "action": 64, "target": 128, "result": 16}


def install_audit_key(secret: str, checkpoint_file: Path | None = None) -> None:
    """At start-up: chain and verify under `secret` (settings.audit_key), and after every commit that appended
    records write a signed checkpoint line to `checkpoint_file` (settings.audit_checkpoint_file; None: none)."""
    audit_keys.install(secret)
    audit_checkpoints.configure(checkpoint_file)


class AuditRecord(Base):
    """One audited event: who (actor, role, ip), when (UTC), what (action, target, detail), result."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(RecordId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(WIDTHS["actor"]))  # a username, or "system"
    role: Mapped[str | None] = mapped_column(String(WIDTHS["role"]))
    ip: Mapped[str | None] = mapped_column(String(WIDTHS["ip"]))
    action: Mapped[str] = mapped_column(
        String(WIDTHS["action"])
    )  # incident.dispatch, login, login_failed, unmask, export...
    target: Mapped[str | None] = mapped_column(String(WIDTHS["target"]))  # incident:<id>, account:<username>, ...
    result: Mapped[str] = mapped_column(String(WIDTHS["result"]))  # ok | denied | failed
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_actor_at", "actor", "at"),
        Index("ix_audit_log_action_at", "action", "at"),
        Index("ix_audit_log_target", "target"),
        {"sqlite_autoincrement": True},  # never reuse an id, so a gap always means a deleted record
    )

    def fields(self) -> dict[str, Any]:
        """The hashed fields of this record."""
        return {name: getattr(self, name) for name in HASHED_FIELDS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            **self.fields(),
            "at": self.at.isoformat(),
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


class AuditHead(Base):
    """One row: the id and hash of the newest audit record (so deleting the newest records is detected)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_id: Mapped[int] = mapped_column(RecordId)
    last_hash: Mapped[str] = mapped_column(String(64))


HEAD_TABLE: Table = Base.metadata.tables[AuditHead.__tablename__]  # the Table (`__table__` is typed FromClause)

# Tables made by `Base.metadata.create_all` (unit tests) get the same append-only guard as the migration's.
_SQLITE_GUARDS = tuple(
    f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for op in ("UPDATE", "DELETE")
)
for _ddl in _SQLITE_GUARDS:
    event.listen(AuditRecord.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))


@dataclass(frozen=True)
class Entry:
    """What one audit record says (before it is chained)."""

    actor: str
    action: str
    result: str = "ok"
    role: str | None = None
    ip: str | None = None
    target: str | None = None
    detail: dict[str, Any] | None = None


def append(
    session: Session,
    *,
    actor: str | None,
    role: str | None = None,
    ip: str | None = None,
    action: str,
    target: str | None = None,
    result: str = "ok",
    detail: dict[str, Any] | None = None,
    now: datetime,
) -> AuditRecord:
    """Add one record to the chain in the session's transaction (the caller commits)."""
    return append_many(
        session,
        [Entry(actor=actor or SYSTEM, role=role, ip=ip, action=action, target=target, result=result, detail=detail)],
        now=now,
    )[0]


def append_many(session: Session, entries: Iterable[Entry], *, now: datetime) -> list[AuditRecord]:
    """Add several records, in order, under one lock and one head update (the caller commits)."""
    entries = list(entries)
    if not entries:
        return []
    key = audit_keys.installed()
    last_id, prev = _lock_head(session)
    records = []
    for entry in entries:
        fields = _normalised(entry, now)
        record = AuditRecord(**fields, prev_hash=prev, hash=key.record_mac(fields, prev))
        prev = record.hash
        records.append(record)
    if last_id is not None and len(records) == 1 and session.get_bind().dialect.name == "postgresql":
        _append_one(session, records[0])
    else:
        session.add_all(records)
        session.flush()
        head = HEAD_TABLE
        if last_id is None:
            session.execute(head.insert().values(id=HEAD_ID, last_id=records[-1].id, last_hash=prev))
        else:
            session.execute(update(head).where(head.c.id == HEAD_ID).values(last_id=records[-1].id, last_hash=prev))
    if audit_checkpoints.enabled():
        newest = records[-1].id
        count = _count_through(session, newest, after=(last_id, len(records)))
        checkpoint = audit_checkpoints.Checkpoint(
            count=count, last_id=newest, head=prev, at=audit_checkpoints.at_text(now)
        )
        audit_checkpoints.expect(session, checkpoint)
    return records


def _append_one(session: Session, record: AuditRecord) -> None:
    """PostgreSQL: insert one record and move the head to it in one statement (the record stays out of the
    session; it gets its id)."""
    head = HEAD_TABLE
    values = {**record.fields(), "prev_hash": record.prev_hash, "hash": record.hash}
    appended = insert(AuditRecord).values(**values).returning(AuditRecord.id).cte("appended")
    move = (
        update(head)
        .where(head.c.id == HEAD_ID)
        .values(last_id=select(appended.c.id).scalar_subquery(), last_hash=record.hash)
        .returning(head.c.last_id)
    )
    record.id = session.execute(move).scalar_one()


def _count_through(session: Session, last_id: int, *, after: tuple[int | None, int] = (None, 0)) -> int:
    """How many records the trail holds up to `last_id` (under the append lock): counted once per process and
    database, then from the last checkpoint this process wrote (records are never deleted, ids never reused).
    `after` is (the head's last id before this append, how many records it added): when the head still named this
    process's last checkpoint, nobody appended in between and nothing needs counting."""
    known = audit_checkpoints.known(session)
    head_before, appended = after
    if known is not None and head_before is not None and known[0] == head_before:
        return known[1] + appended
    counted = select(func.count()).select_from(AuditRecord)
    if known is not None and known[0] <= last_id:
        since = session.scalar(counted.where(AuditRecord.id > known[0], AuditRecord.id <= last_id))
        return known[1] + (since or 0)
    return session.scalar(counted.where(AuditRecord.id <= last_id)) or 0


def seal(session: Session, *, now: datetime) -> AuditRecord | None:
    """If the newest record predates the audit key (a plain SHA-256 chain), append a keyed `audit.sealed` record
    after it, so the unkeyed records before it can no longer be rewritten undetected (the caller commits)."""
    newest = session.scalars(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).first()
    if newest is None or newest.hash != legacy_hash(newest.fields(), newest.prev_hash):
        return None  # nothing to seal: empty, already keyed (or broken, which verify reports)
    return append(session, actor=SYSTEM, action="audit.sealed", target=f"audit_log:{newest.id}", now=now)


def _lock_head(session: Session) -> tuple[int | None, str]:
    """Serialise appenders, then read the newest (id, hash); (None, GENESIS-or-last) when there is no head row."""
    # Always the outbox's lock first, then the audit lock (both re-entrant within a transaction, PostgreSQL only):
    # a transaction that appends a record and then commits incident events through UnitOfWork.commit takes them
    # in the same order as every other one, so no two can deadlock.
    lock_outbox(session, with_audit=True)
    head = HEAD_TABLE
    row = session.execute(
        select(head.c.last_id, head.c.last_hash).where(head.c.id == HEAD_ID).with_for_update()
    ).first()
    if row is not None:
        return row.last_id, row.last_hash
    # No head row (a schema made by create_all, not the migration): start from the newest record, if any.
    last = session.execute(select(AuditRecord.hash).order_by(AuditRecord.id.desc()).limit(1)).scalar()
    return None, last or GENESIS


def _normalised(entry: Entry, now: datetime) -> dict[str, Any]:
    """The fields as they will read back from the database: cut to width, detail through a JSON round trip."""
    cut = lambda name, value: None if value is None else str(value)[: WIDTHS[name]]
    detail = json.loads(json.dumps(entry.detail or {}, default=str, ensure_ascii=False))
    if not isinstance(detail, dict):
        detail = {"value": detail}
    return {
        "at": now.astimezone(UTC),
        "actor": cut("actor", entry.actor or SYSTEM),
        "role": cut("role", entry.role),
        "ip": cut("ip", entry.ip),
        "action": cut("action", entry.action),
        "target": cut("target", entry.target),
        "result": cut("result", entry.result),
        "detail": detail,
    }


@dataclass(frozen=True)
class AuditFilter:
    """What an auditor searches by; every field is optional."""

    actor: str | None = None
    action: str | None = None
    target: str | None = None
    result: str | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive


def search(session: Session, f: AuditFilter, *, offset: int = 0, limit: int = 50) -> tuple[list[AuditRecord], int]:
    """One page of matching records, newest first, and the total count.

    actor and result match exactly; action matches a prefix ("incident." finds every incident action);
    target matches a prefix too ("incident:1234" or "account:").
    """
    query = select(AuditRecord)
    if f.actor:
        query = query.where(AuditRecord.actor == f.actor.strip())
    if f.action:
        query = query.where(AuditRecord.action.startswith(f.action.strip(), autoescape=True))
    if f.target:
        query = query.where(AuditRecord.target.startswith(f.target.strip(), autoescape=True))
    if f.result:
        query = query.where(AuditRecord.result == f.result)
    if f.since:
        query = query.where(AuditRecord.at >= f.since)
    if f.until:
        query = query.where(AuditRecord.at < f.until)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    page = query.order_by(AuditRecord.id.desc()).offset(max(offset, 0)).limit(limit)
    return list(session.scalars(page)), total or 0
