"""The audit trail on an in-memory SQLite database: canonical form and keyed MACs, the chain, what verify detects,
records from before the audit key, and the signed checkpoints written after each commit."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from dispatcher.access import audit, audit_keys
from dispatcher.access.audit import (
    GENESIS,
    AuditFilter,
    AuditHead,
    AuditRecord,
    append,
    canonical,
    legacy_hash,
    record_mac,
    search,
)
from dispatcher.access.audit_verify import VerifyResult, verify
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Status
from dispatcher.cases.uow import UnitOfWork

T0 = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def add(sessions, n: int, *, actor: str = "zhang", start: int = 0) -> list[int]:
    """Append n records (one transaction each); their ids."""
    ids = []
    for i in range(start, start + n):
        with sessions.begin() as session:
            record = append(
                session,
                actor=actor,
                role="dispatcher",
                ip="10.0.0.7",
                action="incident.dispatch",
                target=f"incident:{i}",
                result="ok",
                detail={"i": i},
                now=T0 + timedelta(seconds=i),
            )
            ids.append(record.id)
    return ids


def check(sessions) -> VerifyResult:
    with sessions() as session:
        return verify(session)


def tamper(engine, sql: str, **params) -> None:
    """Run SQL against audit_log with the append-only triggers out of the way (as an attacker with DDL rights)."""
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.exec_driver_sql("DROP TRIGGER audit_log_no_delete")
        conn.execute(sa.text(sql), params)


# --- canonical form and hashing ---------------------------------------------------------------------------------

FIELDS = {
    "at": T0,
    "actor": "zhang",
    "role": "dispatcher",
    "ip": "10.0.0.7",
    "action": "incident.dispatch",
    "target": "incident:abc",
    "result": "ok",
    "detail": {"b": 2, "a": "网格"},
}


def test_the_canonical_form_is_fixed_bytes():
    assert (
        canonical(FIELDS, GENESIS)
        == (
            '{"action":"incident.dispatch","actor":"zhang","at":"2026-12-02T02:00:00.000000Z",'
            '"detail":{"a":"网格","b":2},"ip":"10.0.0.7","prev_hash":"' + GENESIS + '","result":"ok",'
            '"role":"dispatcher","target":"incident:abc"}'
        ).encode()
    )
    assert legacy_hash(FIELDS, GENESIS) == hashlib.sha256(canonical(FIELDS, GENESIS)).hexdigest()


def test_the_mac_is_hmac_sha256_under_a_key_derived_from_the_audit_secret_not_the_plain_hash():
    secret = "s" * 43
    key = audit_keys.AuditKey(secret)
    derived = audit_keys._derive(secret, b"gridcommand audit chain v1")
    expected = hmac.new(derived, canonical(FIELDS, GENESIS), hashlib.sha256).hexdigest()
    assert key.record_mac(FIELDS, GENESIS) == expected != legacy_hash(FIELDS, GENESIS)
    assert audit_keys.AuditKey("t" * 43).record_mac(FIELDS, GENESIS) != expected  # another secret, another MAC
    assert key.sign(b"x") != key.record_mac(FIELDS, GENESIS)  # checkpoints are signed under a second key


def test_nothing_is_appended_or_verified_before_an_audit_key_is_installed(sessions, monkeypatch):
    monkeypatch.setattr(audit_keys, "_installed", None)
    with pytest.raises(audit_keys.AuditKeyNotInstalled, match="install_audit_key"), sessions.begin() as session:
        append(session, actor="zhang", action="login", now=T0)
    with pytest.raises(audit_keys.AuditKeyNotInstalled), sessions() as session:
        verify(session)


def test_the_hash_does_not_depend_on_key_order_or_the_time_zone_of_the_same_instant():
    shanghai = timezone(timedelta(hours=8))
    same = {**FIELDS, "at": T0.astimezone(shanghai), "detail": {"a": "网格", "b": 2}}
    assert record_mac(same, GENESIS) == record_mac(FIELDS, GENESIS)


def test_every_field_and_the_link_change_the_hash():
    base = record_mac(FIELDS, GENESIS)
    for name, other in [
        ("at", T0 + timedelta(microseconds=1)),
        ("actor", "li"),
        ("role", None),
        ("ip", "10.0.0.8"),
        ("action", "incident.claim"),
        ("target", "incident:abd"),
        ("result", "denied"),
        ("detail", {"a": "网格", "b": 3}),
    ]:
        assert record_mac({**FIELDS, name: other}, GENESIS) != base, name
    assert record_mac(FIELDS, "1" * 64) != base


def test_a_naive_time_is_refused():
    with pytest.raises(ValueError, match="naive"):
        canonical({**FIELDS, "at": datetime(2026, 1, 1)}, GENESIS)


# --- the chain ----------------------------------------------------------------------------------------------------


def test_records_chain_from_the_genesis_hash_and_the_head_follows(sessions):
    ids = add(sessions, 3)
    with sessions() as session:
        rows = session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id)).all()
        head = session.get(AuditHead, audit.HEAD_ID)
        assert [r.id for r in rows] == ids
        assert rows[0].prev_hash == GENESIS
        assert [r.prev_hash for r in rows[1:]] == [r.hash for r in rows[:-1]]
        for row in rows:
            assert row.hash == record_mac(row.fields(), row.prev_hash) != legacy_hash(row.fields(), row.prev_hash)
        assert (head.last_id, head.last_hash) == (ids[-1], rows[-1].hash)
        assert rows[0].at == T0 and rows[0].detail == {"i": 0} and rows[0].role == "dispatcher"


def test_append_many_chains_in_order_under_one_head_update(sessions):
    with sessions.begin() as session:
        records = audit.append_many(
            session,
            [audit.Entry(actor="a", action="login"), audit.Entry(actor="b", action="login_failed", result="failed")],
            now=T0,
        )
        assert audit.append_many(session, [], now=T0) == []
    assert records[1].prev_hash == records[0].hash
    assert check(sessions) == VerifyResult(True, 2)


def test_values_are_cut_to_their_columns_before_hashing_so_the_stored_row_verifies(sessions):
    with sessions.begin() as session:
        append(session, actor="x" * 200, action="export", target="t" * 500, detail={"when": T0, "ids": (1, 2)}, now=T0)
    with sessions() as session:
        row = session.scalars(sa.select(AuditRecord)).one()
        assert len(row.actor) == 64 and len(row.target) == 128
        assert row.detail == {"when": str(T0), "ids": [1, 2]}
    assert check(sessions).ok


def test_an_actor_of_none_is_the_system(sessions):
    with sessions.begin() as session:
        assert append(session, actor=None, action="incident.overdue", now=T0).actor == "system"


def test_a_rolled_back_append_leaves_chain_and_head_as_they_were(sessions):
    add(sessions, 2)
    with sessions() as session:
        append(session, actor="z", action="login", now=T0)
        session.rollback()
    add(sessions, 1, start=5)
    assert check(sessions) == VerifyResult(True, 3)


# --- verify -------------------------------------------------------------------------------------------------------


def test_an_empty_trail_and_an_intact_trail_verify(sessions):
    assert check(sessions) == VerifyResult(True, 0)
    add(sessions, 5)
    assert check(sessions) == VerifyResult(True, 5)


def test_the_database_refuses_update_and_delete(engine, sessions):
    add(sessions, 2)
    for sql in ("UPDATE audit_log SET actor = 'someone'", "DELETE FROM audit_log"):
        with pytest.raises(IntegrityError, match="append-only"), engine.begin() as conn:
            conn.exec_driver_sql(sql)
    assert check(sessions) == VerifyResult(True, 2)


def test_an_edited_record_is_named(engine, sessions):
    ids = add(sessions, 5)
    tamper(engine, "UPDATE audit_log SET result = 'ok', actor = 'wang' WHERE id = :id", id=ids[2])
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind, result.count) == (False, ids[2], "edited", 2)
    assert "edited" in result.reason and str(ids[2]) in result.reason


def test_an_edited_detail_or_time_is_named(engine, sessions):
    ids = add(sessions, 3)
    tamper(engine, "UPDATE audit_log SET at = :at WHERE id = :id", at="2026-12-02 03:00:00.000000", id=ids[0])
    assert (check(sessions).broken_id, check(sessions).kind) == (ids[0], "edited")


def test_an_edit_with_a_hash_recomputed_without_the_key_is_named_at_the_edited_record(engine, sessions):
    ids = add(sessions, 4)
    with sessions() as session:
        row = session.get(AuditRecord, ids[1])
        guessed = audit_keys.AuditKey("a guessed secret, not the installed one").record_mac(
            {**row.fields(), "actor": "wang"}, row.prev_hash
        )
    tamper(engine, "UPDATE audit_log SET actor = 'wang', hash = :h WHERE id = :id", h=guessed, id=ids[1])
    result = check(sessions)
    assert (result.broken_id, result.kind) == (ids[1], "edited")


def rechain(engine, sessions, ids: list[int], *, edit: int, start: int, stop: int | None = None) -> None:
    """The attack the plain SHA-256 chain let through: edit record ids[edit], then recompute the hash of every
    record from the start-th on (up to the stop-th), and the head row, with SHA-256 as the old code did."""
    with sessions() as session:
        rows = session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id)).all()
    prev = rows[start - 1].hash if start else GENESIS
    rewritten = []
    for row in rows[start:stop]:
        fields = {**row.fields(), "actor": "wang" if row.id == ids[edit] else row.actor}
        rewritten.append({"id": row.id, "a": fields["actor"], "p": prev, "h": legacy_hash(fields, prev)})
        prev = rewritten[-1]["h"]
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP TRIGGER IF EXISTS audit_log_no_update")
        for values in rewritten:
            conn.execute(sa.text("UPDATE audit_log SET actor = :a, prev_hash = :p, hash = :h WHERE id = :id"), values)
        conn.execute(sa.text("UPDATE audit_head SET last_hash = :h"), {"h": prev})


def test_re_chaining_after_an_edit_without_the_key_is_named(engine, sessions):
    ids = add(sessions, 5)
    rechain(engine, sessions, ids, edit=2, start=2)
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, ids[2], "rechained")
    assert f"record {ids[2]} carries a plain SHA-256 hash after keyed record {ids[1]}" in result.reason


def test_re_chaining_the_whole_trail_without_the_key_leaves_it_unsealed(engine, sessions):
    ids = add(sessions, 4)
    rechain(engine, sessions, ids, edit=1, start=0)  # every record now looks like one from before the key
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind, result.legacy) == (False, ids[-1], "unsealed", 4)
    assert "no keyed record follows them" in result.reason


def test_a_deleted_record_is_named_by_the_record_after_the_gap(engine, sessions):
    ids = add(sessions, 5)
    tamper(engine, "DELETE FROM audit_log WHERE id = :id", id=ids[2])
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind, result.count) == (False, ids[3], "deleted", 2)
    assert "a record before it was deleted" in result.reason


def test_deleting_the_first_record_is_detected(engine, sessions):
    ids = add(sessions, 3)
    tamper(engine, "DELETE FROM audit_log WHERE id = :id", id=ids[0])
    assert (check(sessions).broken_id, check(sessions).kind) == (ids[1], "deleted")


def test_a_deleted_tail_is_detected_through_the_head(engine, sessions):
    ids = add(sessions, 5)
    tamper(engine, "DELETE FROM audit_log WHERE id >= :id", id=ids[3])
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind, result.count) == (False, ids[2], "tail_deleted", 3)
    assert f"records after id {ids[2]} were deleted" in result.reason


def test_deleting_everything_is_detected(engine, sessions):
    add(sessions, 2)
    tamper(engine, "DELETE FROM audit_log")
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, 0, "tail_deleted")


def test_a_deleted_tail_stays_detected_after_new_appends(engine, sessions):
    ids = add(sessions, 4)
    tamper(engine, "DELETE FROM audit_log WHERE id = :id", id=ids[-1])
    new = add(sessions, 2, start=10)
    assert new[0] > ids[-1]  # ids are never reused
    result = check(sessions)
    assert (result.broken_id, result.kind) == (new[0], "deleted")


def test_swapped_records_are_reported_as_reordered(engine, sessions):
    ids = add(sessions, 5)
    tamper(engine, "UPDATE audit_log SET id = -1 WHERE id = :a", a=ids[1])
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE audit_log SET id = :a WHERE id = :b"), {"a": ids[1], "b": ids[2]})
        conn.execute(sa.text("UPDATE audit_log SET id = :b WHERE id = -1"), {"b": ids[2]})
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, ids[1], "reordered")


def test_rows_inserted_behind_the_trails_back_are_reported(engine, sessions):
    add(sessions, 2)
    with sessions() as session:
        last = session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id.desc())).first()
        fields = {**last.fields(), "actor": "ghost"}
        forged = AuditRecord(**fields, prev_hash=last.hash, hash=legacy_hash(fields, last.hash))
        session.add(forged)
        session.commit()
    result = check(sessions)
    assert (result.ok, result.kind) == (False, "rechained")  # without the key: a plain hash after keyed ones
    with sessions() as session:  # someone holding the key (but not the head row) is caught by the head
        ghost = session.get(AuditRecord, forged.id)
        keyed = record_mac(ghost.fields(), ghost.prev_hash)
    tamper(engine, "UPDATE audit_log SET hash = :h WHERE id = :id", h=keyed, id=forged.id)
    result = check(sessions)
    assert (result.ok, result.kind) == (False, "head")


def test_verify_walks_in_batches(sessions):
    add(sessions, 7)
    with sessions() as session:
        assert verify(session, batch=2) == VerifyResult(True, 7)


# --- search -------------------------------------------------------------------------------------------------------


def test_search_filters_newest_first_with_paging(sessions):
    add(sessions, 4, actor="zhang")
    add(sessions, 2, actor="li", start=4)
    with sessions.begin() as session:
        append(
            session,
            actor="li",
            action="login_failed",
            result="failed",
            target="account:li",
            now=T0 + timedelta(hours=2),
        )
    with sessions() as session:
        rows, total = search(session, AuditFilter())
        assert total == 7 and [r.id for r in rows] == sorted((r.id for r in rows), reverse=True)
        rows, total = search(session, AuditFilter(actor="li"), offset=0, limit=2)
        assert total == 3 and [r.action for r in rows] == ["login_failed", "incident.dispatch"]
        assert search(session, AuditFilter(action="incident."))[1] == 6
        assert search(session, AuditFilter(result="failed"))[1] == 1
        assert search(session, AuditFilter(target="incident:1"))[1] == 1
        assert search(session, AuditFilter(target="%"))[1] == 0  # no wildcards from the user
        assert search(session, AuditFilter(since=T0 + timedelta(seconds=2), until=T0 + timedelta(seconds=4)))[1] == 2
        assert search(session, AuditFilter(actor="li"), offset=2, limit=2)[0][0].actor == "li"


# --- the unit of work ---------------------------------------------------------------------------------------------


def test_each_committed_domain_event_becomes_one_audit_record(sessions):
    incident = Incident(channel="hotline", status=None, description="井盖缺失", created_at=T0, updated_at=T0)
    incident.record(action="report", actor="hotline-7", now=T0, to=Status.REPORTED)
    incident.record(action="triage", actor="system", now=T0, to=Status.TRIAGE)
    with UnitOfWork(sessions) as uow:
        uow.actor_role, uow.ip = "hotline", "10.1.2.3"
        uow.session.add(incident)
        events = uow.commit(T0)
    with sessions() as session:
        rows = session.scalars(sa.select(AuditRecord).order_by(AuditRecord.id)).all()
    assert [(r.action, r.actor, r.target, r.result, r.role, r.ip) for r in rows] == [
        ("incident.report", "hotline-7", f"incident:{incident.id}", "ok", "hotline", "10.1.2.3"),
        ("incident.triage", "system", f"incident:{incident.id}", "ok", "hotline", "10.1.2.3"),
    ]
    assert [r.detail["outbox"] for r in rows] == [e.id for e in events]
    assert rows[1].detail["from"] == "reported" and rows[1].detail["to"] == "triage"
    assert check(sessions) == VerifyResult(True, 2)


def test_a_unit_of_work_without_events_writes_no_audit_record(sessions):
    with UnitOfWork(sessions) as uow:
        assert uow.actor_role is None and uow.ip is None
        uow.commit(T0)
    with sessions() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AuditRecord)) == 0


def test_the_audit_lock_differs_from_the_outbox_lock_which_it_takes_first():
    from dispatcher.store import outbox

    assert audit.OUTBOX_LOCK_KEY == outbox.OUTBOX_LOCK_KEY != audit.AUDIT_LOCK_KEY


# --- records from before the audit key ------------------------------------------------------------------------------


def add_legacy(sessions, n: int) -> list[int]:
    """n records chained with plain SHA-256, as the version before the audit key wrote them (head row included)."""
    ids = []
    with sessions.begin() as session:
        head = session.get(AuditHead, audit.HEAD_ID)
        prev = head.last_hash if head else GENESIS
        for i in range(n):
            fields = {**FIELDS, "target": f"incident:old-{i}", "at": T0 + timedelta(seconds=i)}
            record = AuditRecord(**fields, prev_hash=prev, hash=legacy_hash(fields, prev))
            session.add(record)
            session.flush()
            prev = record.hash
            ids.append(record.id)
        if head is None:
            session.add(AuditHead(id=audit.HEAD_ID, last_id=ids[-1], last_hash=prev))
        else:
            head.last_id, head.last_hash = ids[-1], prev
    return ids


def test_records_from_before_the_key_still_verify_once_a_keyed_record_follows_them(sessions):
    old = add_legacy(sessions, 3)
    unsealed = check(sessions)
    assert (unsealed.ok, unsealed.kind, unsealed.broken_id, unsealed.legacy) == (False, "unsealed", old[-1], 3)
    new = add(sessions, 2, start=10)  # the first keyed append pins them: its MAC covers the last one's hash
    with sessions() as session:
        assert session.get(AuditRecord, new[0]).prev_hash == session.get(AuditRecord, old[-1]).hash
    assert check(sessions) == VerifyResult(True, 5, legacy=3)


def test_seal_appends_one_keyed_record_after_legacy_ones_and_nothing_otherwise(sessions):
    with sessions.begin() as session:
        assert audit.seal(session, now=T0) is None  # an empty trail
    old = add_legacy(sessions, 2)
    with sessions.begin() as session:
        sealed = audit.seal(session, now=T0)
        assert (sealed.action, sealed.actor, sealed.target) == ("audit.sealed", "system", f"audit_log:{old[-1]}")
    with sessions.begin() as session:
        assert audit.seal(session, now=T0) is None  # already keyed
    assert check(sessions) == VerifyResult(True, 3, legacy=2)


def test_an_edited_legacy_record_is_still_named(engine, sessions):
    old = add_legacy(sessions, 3)
    add(sessions, 1, start=5)
    tamper(engine, "UPDATE audit_log SET actor = 'li' WHERE id = :id", id=old[1])
    assert (check(sessions).broken_id, check(sessions).kind) == (old[1], "edited")


def test_re_chaining_the_legacy_records_is_caught_by_the_keyed_record_after_them(engine, sessions):
    old = add_legacy(sessions, 3)
    new = add(sessions, 2, start=5)
    rechain(engine, sessions, old, edit=1, start=1, stop=3)  # the legacy ones only: the keyed one no longer links
    result = check(sessions)
    assert (result.ok, result.broken_id, result.kind) == (False, old[-1], "edited")
    assert f"record {new[0]} no longer links to it" in result.reason
    rechain(engine, sessions, old, edit=1, start=1)  # and the keyed ones too, in plain SHA-256: nothing keyed is left
    assert (check(sessions).ok, check(sessions).kind) == (False, "unsealed")
