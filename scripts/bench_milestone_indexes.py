#!/usr/bin/env python
"""Which indexes on the milestone columns help the indicator engine's typical count, on PostgreSQL (issue 14).

    python scripts/bench_milestone_indexes.py [--cases 1000000] [--runs 5]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/gc_e1a_bench]

Recreates the database (127.0.0.1 only), applies the migrations (0017: single-column indexes on filed_at,
dispatched_at, handled_at, closed_at) and writes `--cases` incident rows in one set-based INSERT (14 months of
filings in about the order they were written, as in production, 7 streets, ~70 communities, some handling late),
then VACUUM ANALYZE. Times, median of `--runs`, the typical statement (a month, and a day) `SELECT grid_street, count(*) FILTER (…) … WHERE filed_at >= $1 AND filed_at < $2
GROUP BY grid_street` with:
- the naive baseline in the same run: no index on filed_at (sequential scan),
- the shipped single-column index on filed_at,
- composite (filed_at, grid_street) and (grid_street, filed_at),
and prints each index's size. The database is dropped at the end. A script, not a test: figures never fail it.
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime

import sqlalchemy as sa

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/gc_e1a_bench"
START = datetime(2025, 10, 1, tzinfo=UTC)  # filings run ~14 months from here
MONTH = (datetime(2026, 10, 31, 16, 0, tzinfo=UTC), datetime(2026, 11, 30, 16, 0, tzinfo=UTC))  # November, local
DAY = (datetime(2026, 11, 17, 16, 0, tzinfo=UTC), datetime(2026, 11, 18, 16, 0, tzinfo=UTC))

FILL = """
INSERT INTO incident (id, version, channel, status, category_code, description, urgency, rework_count,
    return_count, escalation_count, grid_unit, grid_community, grid_street, grid_district, department_code,
    created_at, updated_at, reported_by, filed_at, filed_by, dispatched_at, dispatched_by, handled_at,
    handle_due_at, verified_at, closed_at, extension_count)
SELECT 'c-' || g, 8, 'hotline', 'closed', '0103' || lpad((g % 4 + 1)::text, 2, '0'), '路面垃圾堆放，影响通行 ' || g, 1,
    (g % 17 = 0)::int, (g % 25 = 0)::int, 0, street || lpad((g % 10)::text, 3, '0') || '001',
    street || lpad((g % 10)::text, 3, '0'), street, '330199', (ARRAY['HW','SW','CGZF','SZ'])[g % 4 + 1],
    filed - interval '20 minutes', filed + interval '2 days', 'hotline-' || (g % 40), filed, 'leader-' || (g % 9),
    filed + interval '30 minutes', 'leader-' || (g % 9), filed + (g % 97) * interval '6 minutes',
    filed + interval '8 hours', filed + interval '1 day', filed + interval '2 days', (g % 33 = 0)::int
FROM (
    SELECT g, '33019900' || (g % 7 + 1) AS street,
        CAST(:start AS timestamptz) + (g * 425.0 / :n + random() * 0.5) * interval '1 day' AS filed
    FROM generate_series(1, :n) AS g
) AS drawn
"""
TYPICAL = """
SELECT grid_street,
    count(*) AS filed,
    count(*) FILTER (WHERE handled_at IS NOT NULL) AS handled,
    count(*) FILTER (WHERE handled_at <= handle_due_at OR handle_due_at IS NULL) AS handled_on_time,
    count(*) FILTER (WHERE rework_count > 0) AS reworked
FROM incident WHERE filed_at >= :start AND filed_at < :end GROUP BY grid_street
"""
VARIANTS = {
    "no index on filed_at (naive baseline)": [],
    "ix(filed_at) — shipped": ["CREATE INDEX bench_ix ON incident (filed_at)"],
    "ix(filed_at, grid_street)": ["CREATE INDEX bench_ix ON incident (filed_at, grid_street)"],
    "ix(grid_street, filed_at)": ["CREATE INDEX bench_ix ON incident (grid_street, filed_at)"],
}


def recreate(url: str) -> sa.Engine:
    """A fresh database at `url` (refused unless on 127.0.0.1), migrated to head."""
    from dispatcher.store.db import make_engine
    from dispatcher.store.migrate import upgrade

    target = sa.make_url(url)
    if target.host != "127.0.0.1":
        raise SystemExit(f"refusing to recreate a database on {target.host}: 127.0.0.1 only")
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}"'))
        conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    admin.dispose()
    engine = make_engine(url)
    upgrade(engine)
    return engine


def drop(url: str) -> None:
    from dispatcher.store.db import make_engine

    target = sa.make_url(url)
    admin = make_engine(target.set(database="postgres").render_as_string(hide_password=False))
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{target.database}"'))
    admin.dispose()


def timed(engine: sa.Engine, window: tuple[datetime, datetime], runs: int) -> tuple[float, int, str]:
    """Median seconds of the typical statement over `window`, the rows it counted, and the plan's top node."""
    seconds, counted = [], 0
    params = {"start": window[0], "end": window[1]}
    with engine.connect() as conn:
        plan = conn.execute(sa.text("EXPLAIN " + TYPICAL), params).scalars().all()
        scan = next((line.strip() for line in plan if "Scan" in line), plan[0])
        for _ in range(runs):
            began = time.perf_counter()
            rows = conn.execute(sa.text(TYPICAL), params).all()
            seconds.append(time.perf_counter() - began)
            counted = sum(row.filed for row in rows)
    return statistics.median(seconds), counted, scan.removeprefix("->").strip().split("  (")[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args()
    engine = recreate(args.url)
    try:
        began = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(sa.text("DROP INDEX ix_incident_filed_at"))
            conn.execute(sa.text(FILL), {"start": START, "n": args.cases})
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE incident"))
        print(f"{args.cases:,} cases written in {time.perf_counter() - began:.1f} s")
        for name, ddl in VARIANTS.items():
            with engine.begin() as conn:
                conn.execute(sa.text("DROP INDEX IF EXISTS bench_ix"))
                for statement in ddl:
                    conn.execute(sa.text(statement))
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(sa.text("ANALYZE incident"))
                size = conn.scalar(sa.text("SELECT pg_size_pretty(pg_relation_size('bench_ix'))")) if ddl else "-"
            print(f"\n{name}   (index size {size})")
            for label, window in (("month", MONTH), ("day", DAY)):
                median, counted, scan = timed(engine, window, args.runs)
                print(f"  {label:<5} {median * 1000:8.1f} ms median of {args.runs}  ({counted:,} cases; {scan})")
    finally:
        engine.dispose()
        drop(args.url)


if __name__ == "__main__":
    main()
