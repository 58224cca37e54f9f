"""Rotating the PII key: every encrypted column re-encrypted from the old key to the new one (and the lookup
hashes that depend on the key rebuilt), in batches that each commit on their own.

Resumable by construction: a value that the new key already opens is left alone, so a run that stops half way
(crash, Ctrl-C) is finished by running it again. A value that neither key opens stops the run, naming table, row
and column, with everything before it committed and nothing after it touched. Run it with the product stopped:
a process still holding the old key cannot read rows that were already rotated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from dispatcher.store.cipher import Cipher, PiiKeyError, is_encrypted
from dispatcher.store.columns import EncryptedJSON, EncryptedText


@dataclass(frozen=True)
class Rehash:
    """A keyed lookup hash to rebuild: `hash_column` = fn(plain value of `source_column`, new cipher)."""

    table: str
    hash_column: str
    source_column: str
    fn: Callable[[str | None, Cipher], str | None]


class RotationStopped(RuntimeError):
    """A stored value opens with neither key; the rows before it are rotated, the rest untouched."""


def encrypted_columns(metadata: sa.MetaData) -> dict[str, list[str]]:
    """Table name → its encrypted columns, for every table that has any."""
    found = {
        table.name: [c.name for c in table.columns if isinstance(c.type, EncryptedText | EncryptedJSON)]
        for table in metadata.sorted_tables
    }
    return {name: columns for name, columns in found.items() if columns}


def rekeyed(stored: str, old: Cipher, new: Cipher) -> str:
    """`stored` under the new key: unchanged if the new key already opens it, else opened with the old one."""
    if is_encrypted(stored):
        try:
            new.decrypt(stored)
            return stored
        except PiiKeyError:
            return new.encrypt(old.decrypt(stored))
    return new.encrypt(stored)  # written before encryption existed


def rotate(
    engine: sa.Engine,
    metadata: sa.MetaData,
    old: Cipher,
    new: Cipher,
    *,
    rehash: Sequence[Rehash] = (),
    batch_size: int = 500,
    on_batch: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Re-encrypt every encrypted column of every table; returns table → rows changed. `on_batch(table, rows)`
    is called after each committed batch."""
    changed: dict[str, int] = {}
    for table_name, columns in encrypted_columns(metadata).items():
        table = metadata.tables[table_name]
        hashes = [r for r in rehash if r.table == table_name]
        changed[table_name] = _rotate_table(engine, table, columns, hashes, old, new, batch_size, on_batch)
    return changed


def _rotate_table(
    engine: sa.Engine,
    table: sa.Table,
    columns: list[str],
    hashes: list[Rehash],
    old: Cipher,
    new: Cipher,
    batch_size: int,
    on_batch: Callable[[str, int], None] | None,
) -> int:
    (key,) = [c.name for c in table.primary_key.columns]
    # Untyped columns: the stored text as it is, without the EncryptedText type opening it with the installed key.
    raw = sa.table(table.name, *(sa.column(name) for name in {key, *columns, *(h.hash_column for h in hashes)}))
    pk, total, last = raw.c[key], 0, None
    while True:
        with engine.begin() as conn:
            query = sa.select(raw).order_by(pk).limit(batch_size)
            rows = conn.execute(query if last is None else query.where(pk > last)).mappings().all()
            if not rows:
                return total
            for row in rows:
                values = _new_values(table.name, key, row, columns, hashes, old, new)
                if values:
                    conn.execute(sa.update(raw).where(pk == row[key]).values(**values))
                    total += 1
            last = rows[-1][key]
        if on_batch is not None:
            on_batch(table.name, len(rows))


def _new_values(
    table: str,
    key: str,
    row: sa.RowMapping,
    columns: list[str],
    hashes: list[Rehash],
    old: Cipher,
    new: Cipher,
) -> dict[str, str | None]:
    values: dict[str, str | None] = {}
    for column in columns:
        stored = row[column]
        if stored is None:
            continue
        try:
            fresh = rekeyed(stored, old, new)
        except PiiKeyError:
            raise RotationStopped(
                f"{table} {row[key]}: column {column} opens with neither the old nor the new key"
            ) from None
        if fresh != stored:
            values[column] = fresh
    for h in hashes:
        source = values.get(h.source_column, row[h.source_column])
        digest = h.fn(None if source is None else new.decrypt(source), new)
        if digest != row[h.hash_column]:
            values[h.hash_column] = digest
    return values
