"""`gridcommand import-addresses FILE`: validate an address GeoJSON (roads with house-number ranges, landmarks)
and make it the city's gazetteer, replacing the previous one in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import click

from dashboard.cli.base import main, open_database, reject
from dispatcher.settings import Settings, get_settings
from dispatcher.store.gazetteer import current_address_version, replace_addresses
from geo.gazetteer import AddressImportError, Entry, load_addresses


@main.command("import-addresses")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_addresses(path: Path) -> None:
    """Validate an address GeoJSON file and make it the city's gazetteer (exit 2 naming every problem)."""
    try:
        entries = load_addresses(path)
    except AddressImportError as exc:
        reject(path, exc.problems)
    version = store_addresses(get_settings(), entries, source=str(path))
    roads = sum(e.kind == "road" for e in entries)
    click.echo(
        f"imported {len(entries)} addresses ({roads} roads, {len(entries) - roads} landmarks) from {path} "
        f"as address version {version}"
    )


def store_addresses(settings: Settings, entries: list[Entry], *, source: str) -> int:
    """Replace the stored addresses with `entries` (one transaction); the new version."""
    with open_database(settings, write=True) as session:
        return replace_addresses(session, entries, source=source, actor="cli", now=datetime.now(UTC))


def ensure_addresses(settings: Settings, path: Path) -> int | None:
    """Import `path` when no addresses were ever imported (the demo's first start); the version, or None."""
    with open_database(settings) as session:
        if current_address_version(session) is not None:
            return None
    return store_addresses(settings, load_addresses(path), source=str(path))
