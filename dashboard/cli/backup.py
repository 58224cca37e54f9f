"""`gridcommand backup FILE` / `gridcommand restore FILE`: the database and the evidence files in one archive.

The archive is a tar holding `database.dump` (PostgreSQL: `pg_dump --format=custom`) or `database.sqlite` (SQLite:
the online backup API, consistent while the product runs), `media/…` (report photos, voice, video) and
`manifest.json` with the backend, the time and the SHA-256 of every member. Restore checks every hash before it
touches anything, replaces the database (`pg_restore --clean`, or the SQLite file) and the media, then walks the
audit chain and exits 3 if it is broken — a restore that cannot prove its audit trail is not a restore.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import click
import sqlalchemy as sa

from dashboard.cli.base import main, open_database
from dispatcher.access.audit_verify import verify
from dispatcher.settings import Settings, get_settings

MANIFEST = "manifest.json"
FORMAT = "gridcommand-backup/1"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _pg(url: sa.URL) -> tuple[list[str], dict[str, str]]:
    """libpq connection arguments and environment for pg_dump / pg_restore (the password never on the command line)."""
    args = [
        "--host",
        url.host or "127.0.0.1",
        "--port",
        str(url.port or 5432),
        "--username",
        url.username or "postgres",
    ]
    env = {**os.environ, "PGPASSWORD": url.password or ""} if url.password else dict(os.environ)
    return args, env


def _run(command: list[str], env: dict[str, str]) -> None:
    """Run a PostgreSQL client tool; its own message on failure (exit 2)."""
    if shutil.which(command[0]) is None:
        raise click.ClickException(f"{command[0]} is not installed (apt-get install postgresql-client)")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise click.ClickException(f"{command[0]} failed: {done.stderr.strip() or done.returncode}")


def _sqlite_path(url: sa.URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise click.ClickException("DATABASE_URL names no SQLite file")
    return Path(url.database)


def _dump_database(settings: Settings, into: Path) -> tuple[str, Path]:
    """The database, consistent as of one moment, written into `into`: (backend, file)."""
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() == "postgresql":
        target = into / "database.dump"
        args, env = _pg(url)
        _run(["pg_dump", *args, "--format=custom", "--no-owner", "--file", str(target), url.database or ""], env)
        return "postgresql", target
    source = _sqlite_path(url)
    if not source.exists():
        raise click.ClickException(f"no database at {source}")
    target = into / "database.sqlite"
    with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(target)) as copy:
        live.backup(copy)
    return "sqlite", target


def _restore_database(settings: Settings, backend: str, dump: Path) -> None:
    url = sa.make_url(settings.database_url)
    if url.get_backend_name() != backend:
        raise click.ClickException(
            f"the archive holds a {backend} database but DATABASE_URL is {url.get_backend_name()}"
        )
    if backend == "postgresql":
        args, env = _pg(url)
        command = ["pg_restore", *args, "--clean", "--if-exists", "--no-owner", "--single-transaction"]
        _run([*command, "--dbname", url.database or "", str(dump)], env)
        return
    target = _sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)
    shutil.copyfile(dump, target)


def _media_files(media_dir: Path) -> list[Path]:
    return sorted(p for p in media_dir.rglob("*") if p.is_file()) if media_dir.is_dir() else []


@main.command("backup")
@click.argument("archive", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def backup(archive: Path) -> None:
    """Write the database and the evidence files to ARCHIVE (a tar with a SHA-256 manifest)."""
    settings = get_settings()
    if archive.exists():
        raise click.ClickException(f"{archive} exists: choose a new file name")
    with tempfile.TemporaryDirectory(prefix="gridcommand-backup-") as work:
        backend, dump = _dump_database(settings, Path(work))
        media = _media_files(settings.media_dir)
        members = {dump.name: dump} | {f"media/{p.relative_to(settings.media_dir).as_posix()}": p for p in media}
        manifest = {
            "format": FORMAT,
            "backend": backend,
            "created": datetime.now(UTC).isoformat(),
            "files": {name: _sha256(path) for name, path in members.items()},
        }
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            for name, path in members.items():
                tar.add(path, arcname=name)
            manifest_file = Path(work) / MANIFEST
            manifest_file.write_text(json.dumps(manifest, indent=1, ensure_ascii=False), "utf-8")
            tar.add(manifest_file, arcname=MANIFEST)
        partial.replace(archive)  # a half-written archive never carries the final name
    click.echo(f"backup written: {archive} ({backend}, {len(media)} media files)")


def _unpack(archive: Path, into: Path) -> dict:
    """Extract ARCHIVE into `into` and check every member against the manifest (nothing else may be in it)."""
    try:
        with tarfile.open(archive) as tar:
            tar.extractall(into, filter="data")  # no absolute paths, links out of the tree or devices
    except (tarfile.TarError, OSError) as exc:
        raise click.ClickException(f"{archive} is not a GridCommand backup: {exc}") from exc
    try:
        manifest = json.loads((into / MANIFEST).read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{archive} has no readable {MANIFEST}: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise click.ClickException(f"{archive}: unknown backup format {manifest.get('format')!r}")
    present = {p.relative_to(into).as_posix() for p in into.rglob("*") if p.is_file()} - {MANIFEST}
    if present != set(manifest["files"]):
        raise click.ClickException(
            f"{archive}: files do not match the manifest ({sorted(present ^ set(manifest['files']))})"
        )
    for name, digest in manifest["files"].items():
        if _sha256(into / name) != digest:
            raise click.ClickException(f"{archive}: {name} does not match its SHA-256 in the manifest")
    return manifest


@main.command("restore")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Replace the current database and media without asking.")
def restore(archive: Path, yes: bool) -> None:
    """Replace the database and the evidence files with ARCHIVE's, then verify the audit chain (exit 3 if broken).
    Stop the web processes and workers first."""
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="gridcommand-restore-") as work:
        manifest = _unpack(archive, Path(work))
        if not yes:
            click.confirm(f"Replace {sa.make_url(settings.database_url).render_as_string()} and its media?", abort=True)
        dump = Path(work) / ("database.dump" if manifest["backend"] == "postgresql" else "database.sqlite")
        _restore_database(settings, manifest["backend"], dump)
        if settings.media_dir.exists():
            shutil.rmtree(settings.media_dir)
        if (Path(work) / "media").is_dir():
            shutil.copytree(Path(work) / "media", settings.media_dir)
    with open_database(settings) as session:
        result = verify(session)
    if not result.ok:
        click.echo(f"restored, but the audit trail is BROKEN at record {result.broken_id}: {result.reason}", err=True)
        sys.exit(3)
    click.echo(f"restored {archive} (made {manifest['created']}); audit trail intact: {result.count} records")
