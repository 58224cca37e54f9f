"""Experiments for scripts/bench_evaluation.py: why an indicator table is slow at a million cases, and what the
alternatives give, measured next to the engine in the same run (`--experiments`).

- split_by_period: the engine's counts for 7 periods in one statement (what `evaluate` does) against one statement
  per period (what an index on every anchor could narrow).
- rollup: a monthly rollup (month × community × department, every count of the region set) refreshed from the
  engine's own conditions, then the street table with its 6-month trend and 同比 read from it; checked equal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # as bench_evaluation.NOW
MONTH_START = datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # November, local
TZ = "Asia/Shanghai"
TARGET_TABLE_S = 2.0


def split_by_period(bench: Any) -> None:
    """Why a table is slow: the engine's one statement over every period at once, against one per period."""
    from sqlalchemy import true

    from dispatcher.cases.incident import Incident
    from dispatcher.evaluation import catalogue as catalogues
    from dispatcher.evaluation import engine, periods
    from dispatcher.evaluation.tables import PeriodKind

    cat = catalogues.load_catalogue()
    month = periods.period_of(PeriodKind.MONTH, MONTH_START.astimezone(ZoneInfo(TZ)).date(), TZ)
    spans = [periods.clipped(p, NOW) for p in periods.back(month, 6)] + [periods.clipped(periods.last_year(month), NOW)]
    names = engine._counted_names(engine.version_of(cat, month).indicator_set("region"))
    label = Incident.grid_street

    def together(s: Any) -> Any:
        return engine.grouped_counts(s, label, true(), spans, names)

    def apart(s: Any) -> Any:
        found = [engine.grouped_counts(s, label, true(), [p], names) for p in spans]
        return {code: [f.get(code, [dict.fromkeys(names, 0)])[0] for f in found] for code in found[0]}

    one = bench.measure(f"exp: street counts, {len(spans)} periods in 1 statement", together, None)
    many = bench.measure(f"exp: street counts, 1 statement per period ({len(spans)})", apart, None)
    print(f"    same counts: {one == many}")


def rollup(bench: Any) -> None:
    """A monthly rollup (month × community × department, every count of the region set): refresh, then a street
    table with its 6-month trend and 同比 read from it — the design the issue measured at 3 ms."""
    from sqlalchemy import func, text, true

    from dispatcher.cases.incident import Incident
    from dispatcher.evaluation import catalogue as catalogues
    from dispatcher.evaluation import engine, periods
    from dispatcher.evaluation.tables import PeriodKind

    cat = catalogues.load_catalogue()
    month = periods.period_of(PeriodKind.MONTH, MONTH_START.astimezone(ZoneInfo(TZ)).date(), TZ)
    wanted = periods.back(month, 6) + [periods.last_year(month)]
    this_month = periods.period_of(PeriodKind.MONTH, NOW.astimezone(ZoneInfo(TZ)).date(), TZ)
    months = [periods.clipped(p, NOW) for p in periods.back(this_month, 14)]
    names = engine._counted_names(engine.version_of(cat, month).indicator_set("region"))
    label = func.concat_ws("|", Incident.grid_community, Incident.department_code)
    columns = ", ".join(f"{n} int" for n in names)

    def refresh(s: Any) -> int:
        s.execute(
            text(
                f"DROP TABLE IF EXISTS bench_rollup; CREATE UNLOGGED TABLE bench_rollup (month text, "
                f"community text, department text, {columns})"
            )
        )
        rows = []
        for p in months:
            for key, (counts,) in engine.grouped_counts(s, label, true(), [p], names).items():
                community, _, department = key.partition("|")
                rows.append({"month": p.key, "community": community, "department": department, **counts})
        binds = ", ".join(f":{n}" for n in names)
        s.execute(text(f"INSERT INTO bench_rollup VALUES (:month, :community, :department, {binds})"), rows)
        s.commit()
        return len(rows)

    sums = ", ".join(f"sum({n})" for n in names)
    query = text(
        f"SELECT left(community, 9) street, month, {sums} FROM bench_rollup WHERE month = ANY(:months) GROUP BY 1, 2"
    )
    n = bench.measure(f"exp: rollup refresh, {len(months)} months × community × department", refresh, None)
    table = bench.measure(
        "exp: street table + trend 6 + 同比 from the rollup",
        lambda s: s.execute(query, {"months": [p.key for p in wanted]}).all(),
        TARGET_TABLE_S,
    )
    with bench.sessions() as s:
        direct = engine.grouped_counts(s, Incident.grid_street, true(), [periods.clipped(month, NOW)], names)
    rolled = {r[0]: dict(zip(names, map(int, r[2:]), strict=True)) for r in table or [] if r[1] == month.key}
    same = rolled == {code: counts[0] for code, counts in direct.items()}
    print(f"    {n} rollup rows; {len(table or [])} street × month rows; {month.key} equals the engine's: {same}")
