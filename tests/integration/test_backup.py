"""Backup and restore drill: `gridcommand backup` / `restore` on SQLite and on PostgreSQL+PostGIS, media included,
the audit chain verified after the restore; a damaged archive or a broken chain is refused, loudly."""

from __future__ import annotations

import io
import tarfile

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from dashboard.cli import main
from dispatcher.settings import get_settings
from tests.conftest import PG_URL, _ensure_pg_database

PG_BACKUP_URL = sa.make_url(PG_URL).set(database=f"{sa.make_url(PG_URL).database}_backup").render_as_string(False)


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path, monkeypatch):
    """A migrated, empty GridCommand database of each backend, with a media folder, seen by the CLI: its URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'live.sqlite'}"
    else:
        request.getfixturevalue("pg_url")  # PostgreSQL must answer (a failure in CI, a skip elsewhere)
        url = PG_BACKUP_URL
        _ensure_pg_database(url)
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
        engine.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("GRIDCOMMAND_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    assert run("db", "upgrade").exit_code == 0
    yield url
    get_settings.cache_clear()


def usernames(url: str) -> set[str]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        names = set(conn.scalars(sa.text("SELECT username FROM account")))
    engine.dispose()
    return names


def create_account(name: str) -> None:
    result = run("accounts", "create", name, "--name", name, "--role", "dispatcher", "--region", "330199")
    assert result.exit_code == 0, result.output


def test_a_restore_brings_back_the_database_and_the_evidence_with_an_intact_audit_trail(database, tmp_path):
    create_account("before")  # an audited change
    photo = tmp_path / "media" / "ab" / "photo.jpg"
    photo.parent.mkdir(parents=True)
    photo.write_bytes(b"\xff\xd8 evidence")
    archive = tmp_path / "nightly.tar"

    made = run("backup", str(archive))
    assert made.exit_code == 0 and archive.exists(), made.output
    assert run("backup", str(archive)).exit_code != 0  # never overwrites an earlier backup

    create_account("after")  # life goes on after the backup, then the disk is lost
    photo.unlink()
    assert usernames(database) >= {"before", "after"}

    restored = run("restore", str(archive), "--yes")
    assert restored.exit_code == 0, restored.output
    assert "audit trail intact" in restored.output
    assert "before" in usernames(database) and "after" not in usernames(database)
    assert photo.read_bytes() == b"\xff\xd8 evidence"
    assert run("audit", "verify").exit_code == 0


def test_a_damaged_archive_is_refused_before_anything_is_touched(database, tmp_path):
    create_account("kept")
    archive = tmp_path / "b.tar"
    assert run("backup", str(archive)).exit_code == 0
    damaged = tmp_path / "damaged.tar"
    with tarfile.open(archive) as source, tarfile.open(damaged, "w") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()
            if member.name.startswith("database."):
                data = data[:100] + bytes(b ^ 0xFF for b in data[100:116]) + data[116:]  # bits rot in storage
            member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    create_account("newer")

    refused = run("restore", str(damaged), "--yes")
    assert refused.exit_code != 0
    assert "does not match its SHA-256" in refused.output and "database." in refused.output
    assert {"kept", "newer"} <= usernames(database)  # the live database was not touched


def test_a_restored_trail_that_was_tampered_with_exits_3(database, tmp_path):
    create_account("victim")
    engine = sa.create_engine(database)
    with engine.begin() as conn:  # someone with DDL rights edited an audit record before the backup was taken
        if database.startswith("postgresql"):
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
        else:
            conn.exec_driver_sql("DROP TRIGGER audit_log_no_update")
        conn.execute(sa.text("UPDATE audit_log SET actor = 'nobody' WHERE id = (SELECT MIN(id) FROM audit_log)"))
    engine.dispose()
    archive = tmp_path / "c.tar"
    assert run("backup", str(archive)).exit_code == 0

    restored = run("restore", str(archive), "--yes")
    assert restored.exit_code == 3
    assert "BROKEN" in restored.output
