"""Signed audit checkpoints outside the database: written after each commit that appended records (never for a
rolled-back one), created 0600, and what `verify(checkpoints=...)` catches that the database alone cannot."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from dispatcher.access import audit, audit_checkpoints, audit_keys
from dispatcher.access.audit import AuditRecord, append
from dispatcher.access.audit_verify import VerifyResult, verify
from dispatcher.settings import Settings

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


@pytest.fixture
def checkpoint_file(tmp_path):
    """Checkpoints go to a fresh file for this test (in a folder that does not exist yet), none afterwards."""
    path = tmp_path / "var" / "audit-checkpoints.log"
    audit.install_audit_key(Settings().key("audit_key"), path)
    yield path
    audit.install_audit_key(Settings().key("audit_key"), None)


def add(sessions, n: int, *, start: int = 0) -> list[int]:
    ids = []
    for i in range(start, start + n):
        with sessions.begin() as session:
            ids.append(
                append(session, actor="zhang", action="unmask", target=f"incident:{i}", now=T0 + timedelta(i)).id
            )
    return ids


def lines(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def check(sessions, path) -> VerifyResult:
    with sessions() as session:
        return verify(session, checkpoints=path)


def tamper(engine, *statements: str, **params) -> None:
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_delete")
        for sql in statements:
            conn.execute(sa.text(sql), params)


def roll_back_head(engine, to_id: int) -> None:
    """What someone with write access does after deleting the newest records: point the head at the survivor."""
    with engine.begin() as conn:
        last = conn.scalar(sa.text("SELECT hash FROM audit_log WHERE id = :id"), {"id": to_id})
        conn.execute(sa.text("UPDATE audit_head SET last_id = :id, last_hash = :h"), {"id": to_id, "h": last})


# --- writing -------------------------------------------------------------------------------------------------------


def test_each_commit_that_appended_records_writes_one_signed_line_0600(sessions, checkpoint_file):
    ids = add(sessions, 3)
    with sessions.begin() as session:  # several records in one transaction: one line, for the newest
        more = audit.append_many(session, [audit.Entry(actor="li", action="login")] * 2, now=T0)
    written = lines(checkpoint_file)
    assert [(c["count"], c["last_id"]) for c in written] == [(1, ids[0]), (2, ids[1]), (3, ids[2]), (5, more[-1].id)]
    with sessions() as session:
        head = session.get(audit.AuditHead, audit.HEAD_ID)
        assert written[-1]["head"] == head.last_hash == more[-1].hash
    assert written[0]["at"] == "2026-12-02T02:00:00.000000Z"
    key = audit_keys.installed()
    assert all(audit_checkpoints.parse(n, json.dumps(c), key).last_id == c["last_id"] for n, c in enumerate(written))
    assert stat.S_IMODE(checkpoint_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(checkpoint_file.parent.stat().st_mode) == 0o700


def test_a_rolled_back_transaction_writes_no_checkpoint(sessions, checkpoint_file):
    add(sessions, 1)
    with sessions() as session:
        append(session, actor="zhang", action="login", now=T0)
        session.rollback()
    with pytest.raises(RuntimeError), sessions.begin() as session:
        append(session, actor="zhang", action="login", now=T0)
        raise RuntimeError("the request failed after auditing")
    with sessions() as session:  # closed without committing
        append(session, actor="zhang", action="login", now=T0)
    assert len(lines(checkpoint_file)) == 1
    add(sessions, 1, start=1)
    assert [c["count"] for c in lines(checkpoint_file)] == [1, 2]
    assert check(sessions, checkpoint_file) == VerifyResult(True, 2, checkpoints=2)


def test_a_savepoint_writes_nothing_until_the_transaction_commits_and_a_rolled_back_one_drops_it(
    sessions, checkpoint_file
):
    with sessions() as session:
        with session.begin_nested():
            append(session, actor="zhang", action="login", now=T0)
        assert lines(checkpoint_file) == []  # released, not committed
        session.commit()
    assert len(lines(checkpoint_file)) == 1
    with sessions() as session:
        savepoint = session.begin_nested()
        append(session, actor="zhang", action="login", now=T0)
        savepoint.rollback()
        session.commit()
    assert len(lines(checkpoint_file)) == 1
    assert check(sessions, checkpoint_file).ok


def test_counts_include_records_committed_by_other_processes(sessions, checkpoint_file, monkeypatch):
    add(sessions, 2)
    monkeypatch.setattr(audit_checkpoints, "_file", None)  # another process, writing no checkpoints here
    add(sessions, 3, start=2)
    monkeypatch.setattr(audit_checkpoints, "_file", checkpoint_file)
    add(sessions, 1, start=5)
    assert [c["count"] for c in lines(checkpoint_file)] == [1, 2, 6]
    assert check(sessions, checkpoint_file) == VerifyResult(True, 6, checkpoints=3)


def test_a_checkpoint_that_cannot_be_written_does_not_undo_the_commit(sessions, tmp_path, caplog):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    audit.install_audit_key(Settings().key("audit_key"), blocked / "audit-checkpoints.log")
    try:
        [record_id] = add(sessions, 1)
    finally:
        audit.install_audit_key(Settings().key("audit_key"), None)
    assert f"audit checkpoint for record {record_id} NOT written" in caplog.text
    with sessions() as session:
        assert session.get(AuditRecord, record_id) is not None


# --- verifying -----------------------------------------------------------------------------------------------------


def test_an_intact_trail_matches_every_checkpoint(sessions, checkpoint_file):
    add(sessions, 4)
    assert check(sessions, checkpoint_file) == VerifyResult(True, 4, checkpoints=4)


def test_deleting_the_tail_and_rolling_back_the_head_passes_the_database_but_not_the_checkpoints(
    engine, sessions, checkpoint_file
):
    ids = add(sessions, 5)
    tamper(engine, "DELETE FROM audit_log WHERE id > :id", id=ids[2])
    roll_back_head(engine, ids[2])
    assert check(sessions, None) == VerifyResult(True, 3)  # the chain links and the head agrees
    result = check(sessions, checkpoint_file)
    assert (result.ok, result.kind, result.broken_id, result.checkpoint_line) == (False, "truncated", ids[2], 4)
    assert f"the trail ends at record {ids[2]} after 3 records" in result.reason
    assert f"signed 4 records up to record {ids[3]}" in result.reason


def test_deleted_newest_records_stay_detected_after_new_appends(engine, sessions, checkpoint_file):
    ids = add(sessions, 4)
    tamper(engine, "DELETE FROM audit_log WHERE id > :id", id=ids[1])
    roll_back_head(engine, ids[1])
    new = add(sessions, 2, start=10)  # the application carries on; ids are never reused
    assert check(sessions, None).ok
    result = check(sessions, checkpoint_file)
    assert (result.ok, result.kind, result.broken_id, result.checkpoint_line) == (False, "truncated", ids[2], 3)
    assert f"record {ids[2]}, signed by checkpoint line 3" in result.reason and "was deleted" in result.reason
    assert new[0] > ids[-1]


def test_reused_ids_after_a_truncation_show_as_a_mac_that_differs_from_the_checkpoint(
    engine, sessions, checkpoint_file
):
    ids = add(sessions, 4)
    tamper(engine, "DELETE FROM audit_log WHERE id > :id", id=ids[1])
    roll_back_head(engine, ids[1])
    tamper(engine, "UPDATE sqlite_sequence SET seq = :id WHERE name = 'audit_log'", id=ids[1])
    again = add(sessions, 2, start=20)
    assert again == ids[2:]  # the same ids, different records
    assert check(sessions, None).ok
    result = check(sessions, checkpoint_file)
    assert (result.ok, result.kind, result.broken_id, result.checkpoint_line) == (False, "rechained", ids[2], 3)
    assert f"record {ids[2]} is not the one checkpoint line 3" in result.reason


def test_a_forged_or_altered_checkpoint_line_is_named(sessions, checkpoint_file):
    ids = add(sessions, 2)
    good = checkpoint_file.read_text()
    forged = {"at": "2026-12-02T03:00:00.000000Z", "count": 2, "head": "0" * 64, "last_id": ids[1], "sig": "f" * 64}
    checkpoint_file.write_text(good + json.dumps(forged) + "\n")
    result = check(sessions, checkpoint_file)
    assert (result.ok, result.kind, result.checkpoint_line) == (False, "checkpoint", 3)
    assert "checkpoint line 3: not signed by the audit key" in result.reason
    first, second = good.splitlines()
    lowered = json.dumps({**json.loads(second), "count": 1})  # an altered count keeps the old signature
    checkpoint_file.write_text(f"{first}\n{lowered}\n")
    assert (check(sessions, checkpoint_file).kind, check(sessions, checkpoint_file).checkpoint_line) == (
        "checkpoint",
        2,
    )
    checkpoint_file.write_text(f"{first}\nnot json\n")
    assert "checkpoint line 2: unreadable" in check(sessions, checkpoint_file).reason
    other_key = audit_keys.AuditKey("x" * 43)  # signed, but with another secret
    line = audit_checkpoints.Checkpoint(count=2, last_id=ids[1], head="0" * 64, at="x").to_line(other_key)
    checkpoint_file.write_text(first + "\n" + line)
    assert check(sessions, checkpoint_file).kind == "checkpoint"
