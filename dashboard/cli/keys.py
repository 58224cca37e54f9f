"""Keys: `gridcommand keys generate`, the demo's own generated keys, and refusing to start without real ones."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

import click

from dashboard.cli.base import main, open_engine
from dispatcher.intake.callers import phone_hash
from dispatcher.schema import Base
from dispatcher.settings import MissingKeys, Settings, get_settings, strong
from dispatcher.store.cipher import Cipher
from dispatcher.store.rekey import Rehash, RotationStopped, rotate

KEY_NAMES = ("GRIDCOMMAND_SECRET_KEY", "GRIDCOMMAND_PII_KEY", "GRIDCOMMAND_AUDIT_KEY")
DEMO_KEYS_FILE = "demo-keys.env"
NEW_PII_KEY = "GRIDCOMMAND_NEW_PII_KEY"


def new_keys() -> dict[str, str]:
    """Fresh random keys (256 bits each), one per required setting."""
    return {name: secrets.token_urlsafe(32) for name in KEY_NAMES}


def write_private(path: Path, text: str) -> None:
    """Create `path` readable by its owner only (0600, its folder 0700); never overwrite an existing file."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)


def env_lines(keys: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in keys.items())


def read_env_file(path: Path) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in path.read_text(encoding="utf-8").splitlines() if "=" in line)
    return {name.strip(): value.strip() for name, value in pairs}


@main.group()
def keys() -> None:
    """The secrets GridCommand needs (session signing, personal data, audit chain)."""


@keys.command("generate")
@click.option("--env-file", type=click.Path(dir_okay=False, path_type=Path), help="Write them to this new file (0600).")
def keys_generate(env_file: Path | None) -> None:
    """Print (or write) fresh random keys as environment lines: GRIDCOMMAND_SECRET_KEY, _PII_KEY, _AUDIT_KEY."""
    text = env_lines(new_keys())
    if env_file is None:
        click.echo(text, nl=False)
        return
    try:
        write_private(env_file, text)
    except FileExistsError:
        click.echo(
            f"{env_file} exists; keys are never overwritten (rotate the PII key with `keys rotate-pii`)", err=True
        )
        sys.exit(2)
    click.echo(f"wrote {env_file} (mode 0600)")


@keys.command("rotate-pii")
@click.option("--batch-size", default=500, show_default=True, help="Rows per transaction.")
def keys_rotate_pii(batch_size: int) -> None:
    """Re-encrypt every stored personal-data value from GRIDCOMMAND_PII_KEY to GRIDCOMMAND_NEW_PII_KEY.

    Stop the web and worker processes first; run again after an interruption (it resumes); then restart
    everything with GRIDCOMMAND_PII_KEY set to the new key. Keys come from the environment, never the command line.
    """
    settings = get_settings()
    new_secret = os.environ.get(NEW_PII_KEY, "")
    if not strong(new_secret) or new_secret == settings.key("pii_key"):
        click.echo(
            f"{NEW_PII_KEY} must hold a new key (at least 32 random characters; `keys generate` makes one)", err=True
        )
        sys.exit(2)
    old, new = Cipher(settings.key("pii_key")), Cipher(new_secret)
    phone_hashes = Rehash("incident", "reporter_phone_hash", "reporter_phone", lambda phone, c: phone_hash(phone, c))
    with open_engine(settings) as engine:
        try:
            changed = rotate(
                engine,
                Base.metadata,
                old,
                new,
                rehash=[phone_hashes],
                batch_size=batch_size,
                on_batch=lambda table, rows: click.echo(f"  {table}: {rows} rows checked"),
            )
        except RotationStopped as exc:
            click.echo(f"stopped: {exc}", err=True)
            sys.exit(3)
    for table, rows in changed.items():
        click.echo(f"{table}: {rows} rows re-encrypted")
    click.echo(f"done: now set GRIDCOMMAND_PII_KEY to the value of {NEW_PII_KEY} everywhere and restart")


def use_demo_keys(settings: Settings) -> Settings:
    """The demo only: keys from the environment, else from var_dir/demo-keys.env, made on the first run."""
    path = settings.var_dir / DEMO_KEYS_FILE
    if settings.missing_keys():
        if not path.exists():
            write_private(path, env_lines(new_keys()))
            click.echo(f"generated demo keys in {path}")
        for name, value in read_env_file(path).items():
            os.environ.setdefault(name, value)  # the worker process inherits them
        get_settings.cache_clear()
        settings = get_settings()
    return settings


def require_keys(settings: Settings) -> None:
    """Exit 2 with how to make them when a required key is unset or weak (everything but the demo)."""
    try:
        settings.require_keys()
    except MissingKeys as exc:
        click.echo(f"refusing to start: {exc}", err=True)
        sys.exit(2)
