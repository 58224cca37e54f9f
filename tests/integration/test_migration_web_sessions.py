"""Migration 0009 on a database that already has accounts: TOTP secrets become ciphertext (and plain again on the
way down), nothing else of the account or its tokens is lost, and the web_session table comes and goes."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from dispatcher.store import cipher
from dispatcher.store.db import make_engine
from dispatcher.store.migrate import downgrade, upgrade
from tests.conftest import T0, _ensure_pg_database

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture(params=["sqlite", "postgres"])
def engine(request, tmp_path):
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'm0009.sqlite'}")
    else:
        pg_url = request.getfixturevalue("pg_url")
        url = sa.make_url(pg_url).set(database=f"{sa.make_url(pg_url).database}_m0009")
        _ensure_pg_database(url.render_as_string(hide_password=False))
        engine = make_engine(url.render_as_string(hide_password=False))
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    yield engine
    engine.dispose()


def _columns(engine, table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(engine).get_columns(table)}


def test_0009_encrypts_totp_secrets_in_place_and_keeps_tokens(engine):
    upgrade(engine, "0008")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO account (id, username, display_name, role, password_hash, totp_secret, disabled, "
                "failed_logins, session_epoch, created_at) VALUES ('u-1', 'boss', '领导', 'leader', 'x', :s, false, "
                "3, 2, :t)"
            ),
            {"s": SECRET, "t": T0.replace(tzinfo=None)},
        )
        conn.execute(
            sa.text(
                "INSERT INTO api_token (id, account_id, name, kind, token_hash, created_at) "
                "VALUES ('t-1', 'u-1', 'phone', 'app', :h, :t)"
            ),
            {"h": "ab" * 32, "t": T0.replace(tzinfo=None)},
        )

    upgrade(engine, "0009")
    with engine.connect() as conn:
        stored = conn.scalar(sa.text("SELECT totp_secret FROM account WHERE id = 'u-1'"))
        assert conn.scalar(sa.text("SELECT count(*) FROM api_token WHERE account_id = 'u-1'")) == 1
        assert conn.scalar(sa.text("SELECT username FROM account WHERE id = 'u-1'")) == "boss"
    assert cipher.is_encrypted(stored) and SECRET not in stored and cipher.decrypt(stored) == SECRET
    assert {"totp_last_step"} <= _columns(engine, "account")
    assert not {"failed_logins", "locked_until", "session_epoch"} & _columns(engine, "account")
    assert "web_session" in sa.inspect(engine).get_table_names()
    upgrade(engine, "0009")  # idempotent: nothing is encrypted twice
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT totp_secret FROM account WHERE id = 'u-1'")) == stored

    downgrade(engine, "0008")
    with engine.connect() as conn:
        assert conn.scalar(sa.text("SELECT totp_secret FROM account WHERE id = 'u-1'")) == SECRET
        assert conn.scalar(sa.text("SELECT count(*) FROM api_token")) == 1
    assert {"failed_logins", "locked_until", "session_epoch"} <= _columns(engine, "account")
    assert "web_session" not in sa.inspect(engine).get_table_names()
