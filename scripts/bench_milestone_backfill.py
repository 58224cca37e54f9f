#!/usr/bin/env python
"""How long migration 0017 takes to fill the milestones of existing cases from their timeline, on PostgreSQL.

    python scripts/bench_milestone_backfill.py [--cases 200000] [--sample 2000]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/gc_e1a_backfill]

Recreates the database (127.0.0.1 only) at revision 0016, writes `--cases` closed cases with 10 timeline rows each
(report, file, dispatch, claim, extend, handle, reject, claim, handle, verify) set-based, then times `upgrade` to
0017 (its set-based backfill and the four indexes). Naive baseline in the same run: a Python loop reading each
case's timeline and updating its row, timed over `--sample` cases (after a downgrade) and scaled to all of them.
The database is dropped at the end. A script, not a test: figures never fail it.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

import sqlalchemy as sa
from bench_milestone_indexes import drop

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gc_e1a_backfill"
START = datetime(2025, 10, 1, tzinfo=UTC)
STEPS = ("report", "file", "dispatch", "claim", "extend", "handle", "reject", "claim", "handle", "verify")
CASES = """
INSERT INTO incident (id, version, channel, status, description, urgency, rework_count, return_count,
    escalation_count, created_at, updated_at)
SELECT 'c-' || g, 11, 'hotline', 'verified', '路面垃圾堆放', 1, 1, 0, 0,
    CAST(:start AS timestamptz) + g * interval '30 seconds', CAST(:start AS timestamptz) + g * interval '30 seconds'
FROM generate_series(1, :n) AS g
"""
ROWS = """
INSERT INTO timeline (incident_id, seq, at, actor, action, to_status, data)
SELECT 'c-' || g, s, CAST(:start AS timestamptz) + g * interval '30 seconds' + s * interval '1 hour',
    'person-' || (g % 50), (CAST(:steps AS text[]))[s], 'x', '{}'
FROM generate_series(1, :n) AS g, generate_series(1, 10) AS s
"""


def naive(conn: sa.Connection, ids: list[str]) -> None:
    """One case at a time: read its timeline, work the milestones out in Python, update its row."""
    for case_id in ids:
        rows = conn.execute(
            sa.text("SELECT at, actor, action FROM timeline WHERE incident_id = :i ORDER BY seq"), {"i": case_id}
        ).all()
        last = {row.action: row for row in rows}  # the last row of each action
        first_dispatch = next((r for r in rows if r.action == "dispatch"), None)
        filed, handled, verified = last.get("file"), last.get("handle"), last.get("verify")
        conn.execute(
            sa.text(
                "UPDATE incident SET reported_by = :r, filed_at = :fa, filed_by = :fb, dispatched_at = :da, "
                "dispatched_by = :db, handled_at = :ha, verified_at = :va, extension_count = :x WHERE id = :i"
            ),
            {
                "i": case_id,
                "r": rows[0].actor if rows else None,
                "fa": filed.at if filed else None,
                "fb": filed.actor if filed else None,
                "da": first_dispatch.at if first_dispatch else None,
                "db": first_dispatch.actor if first_dispatch else None,
                "ha": handled.at if handled else None,
                "va": verified.at if verified else None,
                "x": sum(r.action == "extend" for r in rows),
            },
        )


def main() -> None:
    from dispatcher.store.db import make_engine
    from dispatcher.store.migrate import downgrade, upgrade

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=200_000)
    parser.add_argument("--sample", type=int, default=2_000)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    target = sa.make_url(args.url)
    if target.host != "127.0.0.1":
        raise SystemExit(f"refusing to recreate a database on {target.host}: 127.0.0.1 only")
    drop(args.url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = make_engine(args.url)
    try:
        upgrade(engine, "0016")
        with engine.begin() as conn:
            conn.execute(sa.text(CASES), {"start": START, "n": args.cases})
            conn.execute(sa.text(ROWS), {"start": START, "n": args.cases, "steps": list(STEPS)})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        print(f"{args.cases:,} cases, {args.cases * len(STEPS):,} timeline rows at 0016")
        began = time.perf_counter()
        upgrade(engine, "0017")
        product = time.perf_counter() - began
        with engine.connect() as conn:
            filled = conn.scalar(sa.text("SELECT count(*) FROM incident WHERE handled_at IS NOT NULL"))
        print(f"migration 0017 (set-based backfill + indexes): {product:.1f} s ({filled:,} cases filled)")
        downgrade(engine, "0016")
        upgrade(engine, "0017")  # the columns, then the naive loop over a sample overwrites them
        with engine.begin() as conn:
            ids = list(conn.scalars(sa.text("SELECT id FROM incident ORDER BY id LIMIT :n"), {"n": args.sample}))
            began = time.perf_counter()
            naive(conn, ids)
            sample = time.perf_counter() - began
        scaled = sample / len(ids) * args.cases
        print(f"naive baseline (Python loop per case): {sample:.1f} s for {len(ids):,} → ~{scaled:.0f} s for all")
    finally:
        engine.dispose()
        drop(args.url)


if __name__ == "__main__":
    main()
