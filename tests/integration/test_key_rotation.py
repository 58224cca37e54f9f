"""Rotating the PII key: every stored personal value moves to the new key, lookups keep working, an interrupted
run finishes when run again, and a value no key opens stops the run without touching the rest."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest
import sqlalchemy as sa

from dispatcher.cases.uow import UnitOfWork
from dispatcher.intake.callers import phone_hash
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident
from dispatcher.schema import Base
from dispatcher.store import cipher
from dispatcher.store.cipher import Cipher
from dispatcher.store.rekey import Rehash, RotationStopped, rotate
from tests.conftest import T0

pytestmark = pytest.mark.db
PHONES = ["13812340001", "13812340002", "13812340003", "13812340004", "13812340005"]
# Only the incident table: the shared test database also holds accounts whose TOTP secrets are under the run's key.
INCIDENTS = sa.MetaData()
Base.metadata.tables["incident"].to_metadata(INCIDENTS)
HASHES = Rehash("incident", "reporter_phone_hash", "reporter_phone", lambda phone, c: phone_hash(phone, c))


@pytest.fixture
def old_key():
    """The process key while the data is written; restored afterwards."""
    saved = cipher._installed
    secret = secrets.token_urlsafe(32)
    cipher.install_key(secret)
    yield secret
    cipher._installed = saved


def _report(db, city, phones):
    _, _, sessions = db
    with UnitOfWork(sessions) as uow:
        for i, phone in enumerate(phones):
            cmd = CreateIncident(
                description=f"占道经营 {i}",
                address="云河区",
                reporter_name="王小明",
                reporter_phone=phone,
                callback_name="李四",
                callback_phone="13900000000",
            )
            create_incident(uow, city, cmd, actor="hotline", now=T0)
        uow.commit(T0)


def _raw(engine):
    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT id, reporter_name, reporter_phone, callback_name, callback_phone, reporter_phone_hash "
                "FROM incident ORDER BY id"
            )
        ).all()


def test_every_value_moves_to_the_new_key_and_caller_lookup_follows(db, city, old_key):
    _, engine, _ = db
    _report(db, city, PHONES)
    before = _raw(engine)
    old, new = Cipher(old_key), Cipher(secrets.token_urlsafe(32))
    changed = rotate(engine, INCIDENTS, old, new, rehash=[HASHES], batch_size=2)
    assert changed["incident"] == len(PHONES)
    after = _raw(engine)
    for was, now in zip(before, after, strict=True):
        for column in (1, 2, 3, 4):
            assert now[column] != was[column] and now[column].startswith("v1:")
            assert new.decrypt(now[column]) == old.decrypt(was[column])
            with pytest.raises(cipher.PiiKeyError):
                old.decrypt(now[column])
        assert now[5] == phone_hash(new.decrypt(now[2]), new) != was[5]


def test_an_interrupted_rotation_finishes_when_run_again(db, city, old_key):
    _, engine, _ = db
    _report(db, city, PHONES)
    old, new = Cipher(old_key), Cipher(secrets.token_urlsafe(32))

    def crash_after_first_batch(table, rows):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        rotate(engine, INCIDENTS, old, new, rehash=[HASHES], batch_size=2, on_batch=crash_after_first_batch)
    half = _raw(engine)
    opened_by_new = sum(1 for row in half if _opens(new, row[2]))
    assert opened_by_new == 2  # the first batch committed, the rest not touched
    assert rotate(engine, INCIDENTS, old, new, rehash=[HASHES], batch_size=2)["incident"] == len(PHONES) - 2
    assert all(_opens(new, row[2]) and row[5] == phone_hash(new.decrypt(row[2]), new) for row in _raw(engine))
    assert rotate(engine, INCIDENTS, old, new, rehash=[HASHES])["incident"] == 0  # nothing left to do


def test_a_value_no_key_opens_stops_the_run_naming_it(db, city, old_key):
    _, engine, _ = db
    _report(db, city, PHONES[:2])
    stranger = Cipher(secrets.token_urlsafe(32))
    victim = _raw(engine)[1][0]
    with engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE incident SET reporter_name = :v WHERE id = :id"),
            {"v": stranger.encrypt("张三"), "id": victim},
        )
    with pytest.raises(RotationStopped, match=f"incident {victim}: column reporter_name"):
        rotate(engine, INCIDENTS, Cipher(old_key), Cipher(secrets.token_urlsafe(32)), batch_size=1)


def _opens(c: Cipher, stored: str) -> bool:
    try:
        c.decrypt(stored)
        return True
    except cipher.PiiKeyError:
        return False


def test_the_command_refuses_a_missing_or_unchanged_new_key():
    env = {k: v for k, v in os.environ.items() if k != "GRIDCOMMAND_NEW_PII_KEY"}
    for new in (None, os.environ["GRIDCOMMAND_PII_KEY"], "short"):
        run_env = env if new is None else {**env, "GRIDCOMMAND_NEW_PII_KEY": new}
        result = subprocess.run(
            [sys.executable, "-m", "dashboard.cli", "keys", "rotate-pii"],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2 and "GRIDCOMMAND_NEW_PII_KEY" in result.stderr


def test_the_command_rotates_a_database_and_the_new_key_reads_it(tmp_path, city):
    from dispatcher.store.db import make_engine, make_sessions
    from dispatcher.store.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'city.sqlite'}"
    engine = make_engine(url)
    upgrade(engine)
    _report((url, engine, make_sessions(engine)), city, PHONES[:3])
    new_secret = secrets.token_urlsafe(32)
    env = {**os.environ, "DATABASE_URL": url, "GRIDCOMMAND_NEW_PII_KEY": new_secret}
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", "keys", "rotate-pii", "--batch-size", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "incident: 3 rows re-encrypted" in result.stdout
    new = Cipher(new_secret)
    assert sorted(new.decrypt(row[2]) for row in _raw(engine)) == PHONES[:3]
    engine.dispose()
