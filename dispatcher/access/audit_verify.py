"""Verifying the audit trail: every record's MAC and link, the head row, and the signed checkpoints outside the
database (dispatcher/access/audit_checkpoints.py), naming the first record (or checkpoint line) that is wrong.

Records written before the audit key existed carry a plain SHA-256 hash; they are accepted only as the trail's
first records and only when a keyed record follows them, which pins them: its MAC covers the last one's hash.
A plain hash after a keyed record means someone re-chained the trail without the key. Without checkpoints, the
newest records can still be deleted with the head row rolled back to match; with them (`--checkpoints FILE`),
that shows as a record a checkpoint signed that is gone, a count that shrank, or a MAC that differs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from dispatcher.access.audit import HEAD_ID, HEAD_TABLE, AuditRecord
from dispatcher.access.audit_checkpoints import BadCheckpoint, Checkpoint, read
from dispatcher.access.audit_keys import GENESIS, installed, legacy_hash

KINDS = ("edited", "deleted", "reordered", "tail_deleted", "head", "rechained", "truncated", "unsealed", "checkpoint")


@dataclass(frozen=True)
class VerifyResult:
    """The outcome of walking the chain: `broken_id` and `reason` name the first problem, if any.

    `kind` is one of KINDS (None when intact): "rechained" is a record whose hash is not the one a checkpoint
    signed or a plain hash after keyed records; "truncated" a record count below (or above) a checkpoint's, or
    records a checkpoint signed that are gone; "unsealed" legacy records with no keyed record after them;
    "checkpoint" a line of the checkpoint file that is unreadable or not signed by the audit key.
    For a deleted tail `broken_id` is the newest surviving record (0 when none survives); `count` is the
    number of records checked and found intact before the first problem; `legacy` how many of them predate the
    key; `checkpoints` how many checkpoint lines were read; `checkpoint_line` the line that found the problem.
    """

    ok: bool
    count: int
    broken_id: int | None = None
    reason: str | None = None
    kind: str | None = None
    legacy: int = 0
    checkpoints: int = 0
    checkpoint_line: int | None = None


def verify(session: Session, *, batch: int = 5000, checkpoints: Path | None = None) -> VerifyResult:
    """Walk every record in id order, check each MAC (or legacy hash) and link, then the head, then whatever the
    checkpoints in `checkpoints` (a file) say that the walk did not meet."""
    key = installed()
    try:
        signed = read(checkpoints, key) if checkpoints is not None else []
    except BadCheckpoint as exc:
        return VerifyResult(False, 0, None, f"{exc} (in {checkpoints})", "checkpoint", checkpoint_line=exc.line)
    waiting = sorted(signed, key=lambda c: (c.last_id, c.line))  # met in chain order while walking
    met = 0
    count, legacy, prev_id, prev_hash, after, last_keyed = 0, 0, 0, GENESIS, None, 0
    while True:
        query = select(AuditRecord).order_by(AuditRecord.id).limit(batch)
        if after is not None:
            query = query.where(AuditRecord.id > after)
        rows = list(session.scalars(query))
        if not rows:
            break
        for record in rows:
            fields = record.fields()
            if key.is_keyed(fields, record.prev_hash, record.hash):
                last_keyed = record.id
            elif record.hash != legacy_hash(fields, record.prev_hash):
                reason = f"record {record.id} was edited: its MAC does not match its contents"
                return VerifyResult(False, count, record.id, reason, "edited", legacy)
            elif last_keyed:
                reason = (
                    f"record {record.id} carries a plain SHA-256 hash after keyed record {last_keyed}: the trail was "
                    "re-chained without the audit key"
                )
                return VerifyResult(False, count, record.id, reason, "rechained", legacy)
            else:
                legacy += 1
            if record.prev_hash != prev_hash:
                return replace(_broken_link(session, count, record, prev_id), legacy=legacy)
            if met < len(waiting) and waiting[met].last_id < record.id:  # a record a checkpoint signed is gone
                return replace(
                    _unmet(waiting[met], count, prev_id, ended=False), legacy=legacy, checkpoints=len(signed)
                )
            count += 1
            prev_id, prev_hash = record.id, record.hash
            while met < len(waiting) and waiting[met].last_id == record.id:
                if (problem := _against(waiting[met], record, count)) is not None:
                    return replace(problem, legacy=legacy, checkpoints=len(signed))
                met += 1
        after = rows[-1].id
        for record in rows:
            session.expunge(record)
    result = _check_head(session, count, prev_id, prev_hash)
    if result.ok and met < len(waiting):
        result = _unmet(waiting[met], count, prev_id, ended=True)
    if result.ok and legacy and not last_keyed:
        reason = (
            f"the {legacy} records up to record {prev_id} are chained with plain SHA-256 and no keyed record follows "
            "them: they could be rewritten undetected (`gridcommand db upgrade`, or any audited action, seals them)"
        )
        result = VerifyResult(False, count, prev_id, reason, "unsealed")
    return replace(result, legacy=legacy, checkpoints=len(signed))


def _against(checkpoint: Checkpoint, record: AuditRecord, count: int) -> VerifyResult | None:
    """What is wrong with `record` (the `count`th) according to a checkpoint that signed it as the newest, if any."""
    where = f"checkpoint line {checkpoint.line} ({checkpoint.at})"
    if record.hash != checkpoint.head:
        reason = (
            f"record {record.id} is not the one {where} signed: its MAC is {record.hash[:16]}…, the checkpoint's "
            f"{checkpoint.head[:16]}…; the trail was rewritten after that checkpoint"
        )
        return VerifyResult(False, count, record.id, reason, "rechained", checkpoint_line=checkpoint.line)
    if count != checkpoint.count:
        change = "records before it were deleted" if count < checkpoint.count else "records were inserted before it"
        reason = (
            f"{where} signed {checkpoint.count} records up to record {record.id}, the trail holds {count}: {change}"
        )
        return VerifyResult(False, count, record.id, reason, "truncated", checkpoint_line=checkpoint.line)
    return None


def _unmet(checkpoint: Checkpoint, count: int, last_id: int, *, ended: bool) -> VerifyResult:
    """A checkpoint signed record `checkpoint.last_id` as the newest, and the walk (which `ended` at `last_id`, or
    is past it) never met it: it was deleted."""
    where = f"checkpoint line {checkpoint.line} ({checkpoint.at})"
    if ended:
        reason = (
            f"the trail ends at record {last_id} after {count} records, but {where} signed {checkpoint.count} records "
            f"up to record {checkpoint.last_id}: the records after {last_id} were deleted (and the head rolled back)"
        )
        return VerifyResult(False, count, last_id, reason, "truncated", checkpoint_line=checkpoint.line)
    reason = f"record {checkpoint.last_id}, signed by {where} as the newest of {checkpoint.count}, was deleted"
    return VerifyResult(False, count, checkpoint.last_id, reason, "truncated", checkpoint_line=checkpoint.line)


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
    head = HEAD_TABLE
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
