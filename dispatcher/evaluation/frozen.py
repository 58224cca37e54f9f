"""Counts of finished periods, computed once and kept (定期考核结果): a month that ended yesterday does not move, so
its counts are stored the first time a table needs them and read back after that — a table with a six-month
sparkline, 环比 and 同比 then scans only the period still running.

A period is finished one day after its end (`SETTLE`: a void or a correction entered the next morning still counts);
a count over a finished period then never changes (dispatcher/evaluation/counts.py: a late case counts against the
period it ran late in). The key is a digest of the query's shape — object label, filters (the caller's scope
included) and count names — so a different scope or indicator set never reads another's numbers.
`gridcommand analysis refreeze` drops the store after a data correction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, ColumnElement, Integer, String, UniqueConstraint, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, mapped_column

from dispatcher.evaluation.periods import Period
from dispatcher.store.base import Base
from dispatcher.store.columns import UTCDateTime

SETTLE = timedelta(days=1)
Counts = dict[str, int]
Grouped = dict[str, list[Counts]]
Compute = Callable[[Sequence[Period]], Grouped]


class FrozenCounts(Base):
    """The counts of every object of one query shape over one finished period."""

    __tablename__ = "evaluation_frozen"
    __table_args__ = (UniqueConstraint("key", "period_start", "period_end", name="uq_evaluation_frozen"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    period_start: Mapped[datetime] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime] = mapped_column(UTCDateTime)
    counts: Mapped[dict[str, Counts]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


def shape_key(session: Session, label: Any, where: ColumnElement[bool], names: Sequence[str]) -> str | None:
    """A digest of the query's shape, or None when a filter cannot be written out (then nothing is kept)."""
    dialect = session.get_bind().dialect
    try:
        parts = [
            "" if label is None else str(label.compile(dialect=dialect, compile_kwargs={"literal_binds": True})),
            str(where.compile(dialect=dialect, compile_kwargs={"literal_binds": True})),
            ",".join(names),
        ]
    except (SQLAlchemyError, NotImplementedError, TypeError):
        return None
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def finished(period: Period, now: datetime) -> bool:
    return period.end + SETTLE <= now


def counts_over(
    session: Session, key: str | None, periods: Sequence[Period], names: Sequence[str], now: datetime, compute: Compute
) -> Grouped:
    """object → one {count: n} per period: finished periods from the store (computed and kept when missing), the
    others computed now by `compute`."""
    if key is None:
        return compute(periods)
    kept = _read(session, key, [p for p in periods if finished(p, now)])
    missing = [p for p in periods if (p.start, p.end) not in kept]
    fresh = compute(missing) if missing else {}
    _keep(session, key, [(i, p) for i, p in enumerate(missing) if finished(p, now)], fresh, now)
    out: Grouped = {}
    for i, p in enumerate(periods):
        found = kept.get((p.start, p.end))
        if found is None:
            found = {obj: series[missing.index(p)] for obj, series in fresh.items()}
        for obj, counts in found.items():
            out.setdefault(obj, [dict.fromkeys(names, 0) for _ in periods])[i] = counts
    return out


def _read(session: Session, key: str, periods: list[Period]) -> dict[tuple[datetime, datetime], dict[str, Counts]]:
    if not periods:
        return {}
    starts = [p.start for p in periods]
    rows = session.execute(
        select(FrozenCounts.period_start, FrozenCounts.period_end, FrozenCounts.counts).where(
            FrozenCounts.key == key, FrozenCounts.period_start.in_(starts)
        )
    )
    wanted = {(p.start, p.end) for p in periods}
    return {(s, e): counts for s, e, counts in rows if (s, e) in wanted}


def _keep(session: Session, key: str, periods: list[tuple[int, Period]], fresh: Grouped, now: datetime) -> None:
    """Add finished periods to the caller's transaction: kept when it commits (the analysis API, the wall and the
    report job open one), dropped with a read-only session; a concurrent writer of the same period wins."""
    if not periods:
        return
    rows = [
        {
            "key": key,
            "period_start": p.start,
            "period_end": p.end,
            "counts": {obj: series[i] for obj, series in fresh.items()},
            "computed_at": now,
        }
        for i, p in periods
    ]
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(FrozenCounts).on_conflict_do_nothing(), rows)


def refreeze(session: Session) -> int:
    """Drop every kept period (after a data correction); returns how many were dropped."""
    result: Any = session.execute(delete(FrozenCounts))
    return int(result.rowcount or 0)
