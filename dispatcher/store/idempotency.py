"""Idempotency keys: the same key replays the first response; the same key with another body is refused."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.errors import Conflict
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime


class IdempotencyRecord(Base):
    """The response given to the first request with this key."""

    __tablename__ = "idempotency_key"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


def request_hash(body: Any) -> str:
    """A stable hash of a request body."""
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def replay(session: Session, key: str, digest: str) -> IdempotencyRecord | None:
    """The stored response for `key`, None if unseen; Conflict if the key came with a different body."""
    record = session.get(IdempotencyRecord, key)
    if record is not None and record.request_hash != digest:
        raise Conflict(
            f"Idempotency-Key {key!r} was already used with a different request body", field="Idempotency-Key"
        )
    return record


def remember(
    session: Session, key: str, digest: str, status_code: int, response: dict[str, Any], now: datetime
) -> None:
    """Store the response under `key` in the current transaction."""
    session.add(
        IdempotencyRecord(key=key, request_hash=digest, status_code=status_code, response=response, created_at=now)
    )
