"""The audit trail: who did what, when, from where, with what result; append-only and hash-chained.

Every record's `hash` is the SHA-256 of a canonical JSON of its fields and `prev_hash`, the previous
record's hash (the first record's `prev_hash` is 64 zeros). Editing a record breaks its own hash;
deleting one breaks the link of the record after it; reordering breaks the links; and a one-row
`audit_head` table (updated in the same transaction as each append) holds the last id and hash, so
deleting the newest records is caught too. `verify` walks the chain and names the first broken record.

Appends are serialised so the chain never forks: on PostgreSQL by a transaction-scoped advisory lock
(`AUDIT_LOCK_KEY`, taken after the outbox's so lock order is always the same) plus the head row's lock,
on SQLite by the write lock every transaction takes at BEGIN.
Migration 0004 makes `audit_log` append-only in the database itself (triggers refuse UPDATE, DELETE and
TRUNCATE, even for the table's owner; PUBLIC has no UPDATE/DELETE/TRUNCATE grant).

Pure SQLAlchemy: no Flask. The caller commits.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
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
    select,
    text,
    update,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

GENESIS = "0" * 64
AUDIT_LOCK_KEY = 0x61756474  # "audt": orders audit appends on PostgreSQL
OUTBOX_LOCK_KEY = 0x67726964  # dispatcher/cases/uow.py's; taken first, so every transaction locks outbox → audit
HEAD_ID = 1
SYSTEM = "system"

RecordId = BigInteger().with_variant(Integer(), "sqlite")

# Column widths; values are cut to fit *before* hashing, so the stored row and its hash always agree.
WIDTHS = {"actor": 64, "role": 32, "ip": 64, "action": 64, "target": 128, "result": 16}
HASHED_FIELDS = ("at", "actor", "role", "ip", "action", "target", "result", "detail")


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


_HEAD_TABLE: Table = Base.metadata.tables[AuditHead.__tablename__]  # the Table (`__table__` is typed FromClause)

# Tables made by `Base.metadata.create_all` (unit tests) get the same append-only guard as the migration's.
_SQLITE_GUARDS = tuple(
    f"CREATE TRIGGER audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
    for op in ("UPDATE", "DELETE")
)
for _ddl in _SQLITE_GUARDS:
    event.listen(AuditRecord.__table__, "after_create", DDL(_ddl).execute_if(dialect="sqlite"))


def _utc_text(at: datetime) -> str:
    if at.tzinfo is None:
        raise ValueError(f"naive datetime {at!r}: pass timezone-aware times")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(fields: dict[str, Any], prev_hash: str) -> bytes:
    """The exact bytes that are hashed: sorted keys, no spaces, UTF-8, the time as UTC to the microsecond."""
    body: dict[str, Any] = {name: fields.get(name) for name in HASHED_FIELDS}
    body["at"] = _utc_text(body["at"])
    body["detail"] = body["detail"] or {}
    body["prev_hash"] = prev_hash
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def record_hash(fields: dict[str, Any], prev_hash: str) -> str:
    """The hex SHA-256 of a record's canonical form."""
    return hashlib.sha256(canonical(fields, prev_hash)).hexdigest()


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
    last_id, prev = _lock_head(session)
    records = []
    for entry in entries:
        fields = _normalised(entry, now)
        record = AuditRecord(**fields, prev_hash=prev, hash=record_hash(fields, prev))
        prev = record.hash
        records.append(record)
    session.add_all(records)
    session.flush()
    head = _HEAD_TABLE
    if last_id is None:
        session.execute(head.insert().values(id=HEAD_ID, last_id=records[-1].id, last_hash=prev))
    else:
        session.execute(update(head).where(head.c.id == HEAD_ID).values(last_id=records[-1].id, last_hash=prev))
    return records


def _lock_head(session: Session) -> tuple[int | None, str]:
    """Serialise appenders, then read the newest (id, hash); (None, GENESIS-or-last) when there is no head row."""
    if session.get_bind().dialect.name == "postgresql":
        # Always the outbox's lock first, then the audit lock (both re-entrant within a transaction): a
        # transaction that appends a record and then commits incident events through UnitOfWork.commit
        # takes them in the same order as every other one, so no two can deadlock.
        session.execute(
            text("SELECT pg_advisory_xact_lock(:a), pg_advisory_xact_lock(:b)"),
            {"a": OUTBOX_LOCK_KEY, "b": AUDIT_LOCK_KEY},
        )
    head = _HEAD_TABLE
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
class VerifyResult:
    """The outcome of walking the chain: `broken_id` and `reason` name the first problem, if any.

    `kind` is one of "edited", "deleted", "reordered", "tail_deleted", "head" (None when intact).
    For a deleted tail `broken_id` is the newest surviving record (0 when none survives); `count` is the
    number of records checked and found intact before the first problem.
    """

    ok: bool
    count: int
    broken_id: int | None = None
    reason: str | None = None
    kind: str | None = None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk every record in id order, recompute each hash, check each link, then check the head."""
    count, prev_id, prev_hash, after = 0, 0, GENESIS, None
    while True:
        query = select(AuditRecord).order_by(AuditRecord.id).limit(batch)
        if after is not None:
            query = query.where(AuditRecord.id > after)
        rows = list(session.scalars(query))
        if not rows:
            break
        for record in rows:
            if record_hash(record.fields(), record.prev_hash) != record.hash:
                return VerifyResult(
                    False,
                    count,
                    record.id,
                    f"record {record.id} was edited: its hash does not match its contents",
                    "edited",
                )
            if record.prev_hash != prev_hash:
                return _broken_link(session, count, record, prev_id)
            count += 1
            prev_id, prev_hash = record.id, record.hash
        after = rows[-1].id
        for record in rows:
            session.expunge(record)
    return _check_head(session, count, prev_id, prev_hash)


def _broken_link(session: Session, count: int, record: AuditRecord, prev_id: int) -> VerifyResult:
    """Record `record` does not link to the record before it (`prev_id`): reordered, deleted, or rewritten."""
    elsewhere = session.execute(select(AuditRecord.id).where(AuditRecord.hash == record.prev_hash).limit(1)).scalar()
    if elsewhere is not None:
        return VerifyResult(
            False,
            count,
            record.id,
            f"record {record.id} was reordered: it follows record {elsewhere}, not record {prev_id}",
            "reordered",
        )
    if prev_id and record.id == prev_id + 1:
        # No id is missing (ids are never reused), so the record before was rewritten with a recomputed hash.
        return VerifyResult(
            False,
            count,
            prev_id,
            f"record {prev_id} was edited (its hash recomputed): record {record.id} no longer links to it",
            "edited",
        )
    return VerifyResult(
        False,
        count,
        record.id,
        f"record {record.id} does not link to the record before it: a record before it was deleted",
        "deleted",
    )


def _check_head(session: Session, count: int, last_id: int, last_hash: str) -> VerifyResult:
    """The chain is whole; does it end where the head says the newest record is?"""
    head = _HEAD_TABLE
    row = session.execute(select(head.c.last_id, head.c.last_hash).where(head.c.id == HEAD_ID)).first()
    if row is None or (row.last_id == last_id and row.last_hash == last_hash):
        return VerifyResult(True, count)
    if row.last_id > last_id:
        return VerifyResult(
            False,
            count,
            last_id,
            f"records after id {last_id} were deleted (the newest record was id {row.last_id})",
            "tail_deleted",
        )
    return VerifyResult(
        False,
        count,
        row.last_id,
        f"the audit head says record {row.last_id} is the newest, but the chain ends at record "
        f"{last_id}: records after {row.last_id} were not written by the audit trail",
        "head",
    )


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
