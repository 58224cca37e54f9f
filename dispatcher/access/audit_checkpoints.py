"""Signed audit checkpoints, written outside the database (settings.audit_checkpoint_file, created 0600).

After each transaction that appended audit records commits, one JSON line is appended to the checkpoint file:
{"at", "count", "head", "last_id", "sig"}: how many records the trail held up to `last_id`, that record's MAC
(`head`), when, and an HMAC-SHA256 signature of the rest under a key derived from the audit secret. The database
cannot vouch for itself: someone who deletes the newest records and rolls the head row back leaves a chain that
links perfectly. A checkpoint written before that still names the record that is gone, or a MAC that differs, and
`gridcommand audit verify --checkpoints FILE` says so. Ship the file to another host (or syslog) to keep it out of
reach of whoever can write the database.

Nothing is written for a transaction that rolls back: the line is remembered on the session when records are
appended and written from SQLAlchemy's `after_commit` event (not a savepoint's), dropped on any rollback.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from dispatcher.access.audit_keys import AuditKey, installed

log = logging.getLogger(__name__)
PENDING = "gridcommand.audit_checkpoint"  # session.info key: the checkpoint to write once the transaction commits
FIELDS = ("at", "count", "head", "last_id")


@dataclass(frozen=True)
class Checkpoint:
    """What the trail looked like after one commit: `count` records up to record `last_id`, whose MAC is `head`."""

    count: int
    last_id: int
    head: str
    at: str  # UTC, ISO 8601
    line: int = 0  # its line number in the file it was read from (0: not read from a file)

    def body(self) -> bytes:
        """The canonical bytes that are signed."""
        fields = {"at": self.at, "count": self.count, "head": self.head, "last_id": self.last_id}
        return json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()

    def to_line(self, key: AuditKey) -> str:
        """The signed line, newline included."""
        fields = json.loads(self.body())
        return json.dumps({**fields, "sig": key.sign(self.body())}, sort_keys=True, separators=(",", ":")) + "\n"


class BadCheckpoint(ValueError):
    """A line of the checkpoint file that is unreadable or not signed by the audit key (forged or altered)."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"checkpoint line {line}: {message}")
        self.line = line


def at_text(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse(number: int, text: str, key: AuditKey) -> Checkpoint:
    """One line of a checkpoint file, its signature checked; BadCheckpoint naming the line otherwise."""
    try:
        raw: Any = json.loads(text)
        checkpoint = Checkpoint(count=raw["count"], last_id=raw["last_id"], head=raw["head"], at=raw["at"], line=number)
        signature = raw["sig"]
        typed = isinstance(checkpoint.count, int) and isinstance(checkpoint.last_id, int)
        if not (typed and isinstance(checkpoint.head, str) and isinstance(checkpoint.at, str)):
            raise TypeError("a field has the wrong type")
        if set(raw) != {*FIELDS, "sig"} or not isinstance(signature, str):
            raise TypeError(f"fields must be exactly {', '.join((*FIELDS, 'sig'))}")
    except (ValueError, KeyError, TypeError) as exc:
        raise BadCheckpoint(number, f"unreadable ({exc})") from None
    if not key.signed(checkpoint.body(), signature):
        raise BadCheckpoint(number, "not signed by the audit key: the line was forged or altered")
    return checkpoint


def read(path: Path, key: AuditKey) -> list[Checkpoint]:
    """Every checkpoint in the file, in file order; BadCheckpoint naming the first bad line."""
    with path.open(encoding="utf-8") as lines:
        return [parse(number, text, key) for number, text in enumerate(lines, start=1) if text.strip()]


def write(path: Path, checkpoint: Checkpoint, key: AuditKey) -> None:
    """Append one signed line (the file is created 0600, its folder 0700; writers lock the file in turn)."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, checkpoint.to_line(key).encode())
    finally:
        os.close(fd)  # closing releases the lock


# --- this process's checkpoint file, and the commits that write to it ----------------------------------------------

_file: Path | None = None
_known: dict[str, tuple[int, int]] = {}  # database → (last id, count) of the last checkpoint this process wrote


def configure(path: Path | None) -> None:
    """Write checkpoints to `path` from now on (None: none); forgets the counts known so far."""
    global _file
    _file = path
    _known.clear()


def enabled() -> bool:
    return _file is not None


def database_of(session: Session) -> str:
    """The database a session writes to (its URL, password hidden): counts are remembered per database."""
    return str(session.get_bind().engine.url)


def known(session: Session) -> tuple[int, int] | None:
    """(last id, count) of the newest checkpoint this process wrote for the session's database, if any."""
    return _known.get(database_of(session))


def expect(session: Session, checkpoint: Checkpoint) -> None:
    """Write `checkpoint` once the session's transaction commits (a later append in it replaces it)."""
    session.info[PENDING] = (database_of(session), checkpoint)


@event.listens_for(Session, "after_commit")
def _committed(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint released: the transaction may still roll back
        return
    pending = session.info.pop(PENDING, None)
    if pending is None or _file is None:
        return
    database, checkpoint = pending
    _known[database] = (checkpoint.last_id, checkpoint.count)
    try:
        write(_file, checkpoint, installed())
    except OSError:  # the records are committed: say so loudly rather than fail a request that succeeded
        log.exception("audit checkpoint for record %s NOT written to %s", checkpoint.last_id, _file)


@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    session.info.pop(PENDING, None)  # any rollback, a savepoint's too: never a checkpoint that may not hold


@event.listens_for(Session, "after_transaction_end")
def _ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # closed without a commit (a commit has written and dropped it already)
        session.info.pop(PENDING, None)
