"""Files only the service's user reads: the SQLite database (and its WAL files) 0600, evidence 0600 in 0700 folders.

Each test runs under the usual umask 022, which by itself would give 0644 files and 0755 folders: another
local account could copy the database (callers' data, audit trail) or the evidence photos.
"""

from __future__ import annotations

import io
import os
import stat

import pytest
import sqlalchemy as sa

from dispatcher.intake.media import MediaStore, staged_name, storage_name
from dispatcher.store.db import make_engine


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture(autouse=True)
def usual_umask():
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_a_new_sqlite_database_and_its_wal_files_are_0600_in_a_0700_folder(tmp_path):
    path = tmp_path / "var" / "gridcommand.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (x INTEGER)"))
        conn.execute(sa.text("INSERT INTO t VALUES (1)"))
        wal = [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm")]
        assert all(p.exists() for p in wal)  # WAL mode: both exist while a connection is open
        assert {p.name: mode(p) for p in wal} == {p.name: 0o600 for p in wal}
    assert mode(path) == 0o600
    assert mode(path.parent) == 0o700
    engine.dispose()


def test_an_existing_world_readable_database_of_ours_is_tightened(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    path = shared / "old.db"
    path.touch()
    os.chmod(path, 0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert mode(path) == 0o600
    assert mode(shared) == 0o755  # a folder that already existed (/var/lib, a volume) is not ours to change


def test_evidence_files_are_0600_and_their_folders_0700(tmp_path):
    root = tmp_path / "media"
    store = MediaStore(root)
    name = storage_name("ab" * 32, "m-1", "jpg")
    staged = store.stage(name, io.BytesIO(b"\xff\xd8\xff evidence"))
    assert mode(staged) == 0o600
    final = store.publish(name)
    assert mode(final) == 0o600 and not (root / staged_name(name)).exists()
    assert mode(root) == 0o700 and mode(final.parent) == 0o700


def test_an_existing_media_folder_of_ours_is_tightened(tmp_path):
    root = tmp_path / "media"
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)
    MediaStore(root).stage(storage_name("cd" * 32, "m-2", "png"), io.BytesIO(b"x"))
    assert mode(root) == 0o700
