"""The named counts indicators are made of: each an anchor (the timestamp that puts a case in a period P = [start,
end)) and a condition, as an SQL condition on the incident row (no timeline, no Python loop over cases).

A stage X has a done time D and a due time U (NULL: no limit). A case is *due* to X in P when min(D, U) ∈ P — it
falls due in the period in which it was done or ran out of time, whichever came first — so a late case counts
against the period it ran late in, and a period never changes once it is over (only moved deadlines move it).
*done* = due and D < P.end; *on time* = done and (U is NULL or D ≤ U). Voided and merged cases are never due and
never counted (except `reported` and `grid_reports`, which count every report received: an invalid or duplicate
report is still a report, and lowers 立案率 and 有效上报率).

| count               | anchor         | condition                                                            |
|---------------------|----------------|----------------------------------------------------------------------|
| reported            | created_at     | every report received in P (上报数)                                  |
| filed               | filed_at       | filed in P (立案数)                                                  |
| dispatched          | dispatched_at  | first dispatched in P (派遣数)                                       |
| closed              | closed_at      | closed in P, status closed or archived (结案, as a flow)             |
| due_file / file_done / file_on_time             | filed_at, file_due_at         | the file stage        |
| due_dispatch / dispatch_done / dispatch_on_time | dispatched_at, dispatch_due_at | 应派遣 / 派遣 / 按期派遣 |
| due_handle / handle_done / handle_on_time       | handled_at, handle_due_at     | 应处置 / 处置 / 按期处置 |
| due_verify / verify_done / verify_on_time       | verified_at, verify_due_at    | 应核查 / 核查 / 按期核查 |
| due_close / close_done / close_on_time          | closed_at, total_deadline     | 应结案 / 结案 / 按期结案 |
| reworked            | close stage    | due to close in P with rework_count > 0 (返工)                       |
| extended            | close stage    | due to close in P with extension_count > 0 (延期)                    |
| escalated           | close stage    | due to close in P with escalation_count > 0                          |
| returned            | dispatched_at  | dispatched in P with return_count > 0 (推诿/回退)                    |
| dispatch_accurate   | dispatched_at  | dispatched in P, never returned nor reworked (准确派遣)              |
| grid_reports        | created_at     | reported in P by a grid worker (channel grid_worker), any status     |
| grid_verified       | created_at     | those of them filed before P.end, not voided nor merged (有效上报)   |
| callbacks_reached   | closed_at      | closed in P, callback outcome satisfied or unsatisfied (回访)        |
| callbacks_satisfied | closed_at      | closed in P, callback outcome satisfied (满意)                       |

Many periods in one pass (`one_pass`): each row's anchors are put in their period once (a bucket index: -1 before
the first period, NULL after the last), the rows are grouped by object and by those few keys, and each count of
each period is a sum over the groups of a plain comparison of keys — the same definitions restated on the keys: with
contiguous periods a stage is due in P_k when min(D, U) falls in P_k, done when D falls there too (D ≥ min(D, U)), on
time when moreover D ≤ U (or no U). The worked examples check both forms against each other (cases_behind uses the
row conditions).

The close stage's done time is `closed_at` of a case closed or archived: 按期结案 means closed by the overall limit
(总时限, moved by approved pauses); a stage that ran late is counted by that stage's own on-time count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from dispatcher.cases.incident import Channel, Incident
from dispatcher.cases.lifecycle import Status
from dispatcher.evaluation.periods import Period

Column = InstrumentedAttribute[datetime | None]
Condition = Callable[[Period], ColumnElement[bool]]
CLOSED = [str(Status.CLOSED), str(Status.ARCHIVED)]
UNCOUNTED = [str(Status.VOIDED), str(Status.MERGED)]
REACHED = ["satisfied", "unsatisfied"]


def counted() -> ColumnElement[bool]:
    """Neither voided nor merged into another case."""
    return and_(Incident.status.not_in(UNCOUNTED), Incident.parent_id.is_(None))


def within(column: InstrumentedAttribute[datetime] | Column, period: Period) -> ColumnElement[bool]:
    return and_(column >= period.start, column < period.end)


def closed_at() -> ColumnElement[bool]:
    """The done time of the close stage exists: the case is closed or archived."""
    return Incident.status.in_(CLOSED)


STAGES: dict[str, tuple[Column, Column, Callable[[], ColumnElement[bool]] | None]] = {
    "file": (Incident.filed_at, Incident.file_due_at, None),
    "dispatch": (Incident.dispatched_at, Incident.dispatch_due_at, None),
    "handle": (Incident.handled_at, Incident.handle_due_at, None),
    "verify": (Incident.verified_at, Incident.verify_due_at, None),
    "close": (Incident.closed_at, Incident.total_deadline, closed_at),
}


def _done_time(stage: str) -> ColumnElement[bool]:
    done, _, extra = STAGES[stage]
    return done.is_not(None) if extra is None else and_(done.is_not(None), extra())


def due(stage: str, period: Period) -> ColumnElement[bool]:
    """min(D, U) ∈ P on a counted case (index-friendly: D in P and first, or U in P and first)."""
    done, limit, _ = STAGES[stage]
    has_done = _done_time(stage)
    done_first = and_(has_done, within(done, period), or_(limit.is_(None), done <= limit))
    limit_first = and_(within(limit, period), or_(~has_done, limit < done))
    return and_(counted(), or_(done_first, limit_first))


def done(stage: str, period: Period) -> ColumnElement[bool]:
    """Due in P and done before P ended."""
    column = STAGES[stage][0]
    return and_(due(stage, period), _done_time(stage), column < period.end)


def on_time(stage: str, period: Period) -> ColumnElement[bool]:
    """Done in P and by its limit (no limit: on time)."""
    column, limit, _ = STAGES[stage]
    return and_(done(stage, period), or_(limit.is_(None), column <= limit))


def _stage_counts() -> dict[str, Condition]:
    out: dict[str, Condition] = {}
    for stage in STAGES:
        out[f"due_{stage}"] = lambda p, s=stage: due(s, p)  # type: ignore[misc]
        out[f"{stage}_done"] = lambda p, s=stage: done(s, p)  # type: ignore[misc]
        out[f"{stage}_on_time"] = lambda p, s=stage: on_time(s, p)  # type: ignore[misc]
    return out


def _dispatched(p: Period) -> ColumnElement[bool]:
    return and_(counted(), within(Incident.dispatched_at, p))


def _grid_reports(p: Period) -> ColumnElement[bool]:
    return and_(within(Incident.created_at, p), Incident.channel == str(Channel.GRID_WORKER))


def _closed(p: Period) -> ColumnElement[bool]:
    return and_(counted(), closed_at(), within(Incident.closed_at, p))


COUNTS: dict[str, Condition] = {
    "reported": lambda p: within(Incident.created_at, p),
    "filed": lambda p: and_(counted(), within(Incident.filed_at, p)),
    "dispatched": _dispatched,
    "closed": _closed,
    **_stage_counts(),
    "reworked": lambda p: and_(due("close", p), Incident.rework_count > 0),
    "extended": lambda p: and_(due("close", p), Incident.extension_count > 0),
    "escalated": lambda p: and_(due("close", p), Incident.escalation_count > 0),
    "returned": lambda p: and_(_dispatched(p), Incident.return_count > 0),
    "dispatch_accurate": lambda p: and_(_dispatched(p), Incident.return_count == 0, Incident.rework_count == 0),
    "grid_reports": _grid_reports,
    "grid_verified": lambda p: and_(
        _grid_reports(p), counted(), Incident.filed_at.is_not(None), Incident.filed_at < p.end
    ),
    "callbacks_reached": lambda p: and_(_closed(p), Incident.callback_outcome.in_(REACHED)),
    "callbacks_satisfied": lambda p: and_(_closed(p), Incident.callback_outcome == "satisfied"),
}


def condition(name: str, period: Period) -> ColumnElement[bool]:
    """The SQL condition of count `name` over `period`; KeyError naming the known counts otherwise."""
    try:
        return COUNTS[name](period)
    except KeyError:
        raise KeyError(f"unknown count {name!r}; known: {', '.join(COUNTS)}") from None


def touched(period: Period) -> ColumnElement[bool]:
    """A superset of every count's rows in `period` (a WHERE that lets the anchor indexes narrow the scan)."""
    anchors: list[Column | InstrumentedAttribute[datetime]] = [Incident.created_at]
    for done_col, limit, _ in STAGES.values():
        anchors += [done_col, limit]
    return or_(*(within(a, period) for a in anchors))


Keys = dict[str, Any]
Rule = tuple[tuple[str, ...], Callable[[Keys, int], ColumnElement[bool]]]


def bucket(value: Any, edges: Sequence[datetime]) -> ColumnElement[int]:
    """-1 before edges[0]; i when edges[i] ≤ value < edges[i + 1]; NULL from the last edge on, or for NULL."""
    whens = [(value < edges[0], -1)] + [(value < edges[i + 1], i) for i in range(len(edges) - 1)]
    return case(*whens, else_=None)


def flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def _has_done(stage: str) -> ColumnElement[bool]:
    done, _, extra = STAGES[stage]
    return done.is_not(None) if extra is None else and_(done.is_not(None), extra())


def key_expressions(edges: Sequence[datetime]) -> dict[str, ColumnElement[int]]:
    """Every key a count may need, over the periods cut at `edges`."""
    keys = {
        "b_created": bucket(Incident.created_at, edges),
        "counted": flag(counted()),
        "b_filed": bucket(Incident.filed_at, edges),
        "b_dispatched": bucket(Incident.dispatched_at, edges),
        "b_closed": bucket(case((Incident.status.in_(CLOSED), Incident.closed_at), else_=None), edges),
        "reworked": flag(Incident.rework_count > 0),
        "returned": flag(Incident.return_count > 0),
        "extended": flag(Incident.extension_count > 0),
        "escalated": flag(Incident.escalation_count > 0),
        "grid": flag(Incident.channel == str(Channel.GRID_WORKER)),
        "callback": case(
            (Incident.callback_outcome == "satisfied", 2), (Incident.callback_outcome.in_(REACHED), 1), else_=0
        ),  # fmt: skip
    }
    for stage, (done, limit, _) in STAGES.items():
        has_done = _has_done(stage)
        first = case((and_(has_done, or_(limit.is_(None), done <= limit)), done), else_=limit)
        keys[f"b_due_{stage}"] = bucket(first, edges)
        keys[f"b_done_{stage}"] = bucket(case((has_done, done), else_=None), edges)
        keys[f"ok_{stage}"] = flag(or_(limit.is_(None), done <= limit))
    return keys


_SAME = -2  # in a rule: this key in the same period as the anchor


def _when(keys: tuple[str, ...], **equal: int) -> Rule:
    """A rule: the anchor key (the first) in the period, and every other named key equal to the value given (_SAME:
    in that period too)."""
    anchor = keys[0]

    def rule(c: Keys, k: int) -> ColumnElement[bool]:
        return and_(c[anchor] == k, *(c[name] == (k if v == _SAME else v) for name, v in equal.items()))

    return keys + tuple(equal), rule


def _stage_rules() -> dict[str, Rule]:
    rules: dict[str, Rule] = {}
    for s in STAGES:
        due, done, ok = f"b_due_{s}", f"b_done_{s}", f"ok_{s}"
        rules[f"due_{s}"] = _when((due,), counted=1)
        rules[f"{s}_done"] = _when((due,), counted=1, **{done: _SAME})
        rules[f"{s}_on_time"] = _when((due,), counted=1, **{done: _SAME, ok: 1})
    return rules


RULES: dict[str, Rule] = {
    "reported": _when(("b_created",)),
    "filed": _when(("b_filed",), counted=1),
    "dispatched": _when(("b_dispatched",), counted=1),
    "closed": _when(("b_closed",), counted=1),
    **_stage_rules(),
    "reworked": _when(("b_due_close",), counted=1, reworked=1),
    "extended": _when(("b_due_close",), counted=1, extended=1),
    "escalated": _when(("b_due_close",), counted=1, escalated=1),
    "returned": _when(("b_dispatched",), counted=1, returned=1),
    "dispatch_accurate": _when(("b_dispatched",), counted=1, returned=0, reworked=0),
    "grid_reports": _when(("b_created",), grid=1),
    "grid_verified": (
        ("b_created", "grid", "counted", "b_filed"),
        lambda c, k: and_(c["b_created"] == k, c["grid"] == 1, c["counted"] == 1, c["b_filed"] <= k),
    ),
    "callbacks_reached": (
        ("b_closed", "counted", "callback"),
        lambda c, k: and_(c["b_closed"] == k, c["counted"] == 1, c["callback"] >= 1),
    ),
    "callbacks_satisfied": _when(("b_closed",), counted=1, callback=2),
}


def runs(periods: Sequence[Period]) -> list[list[Period]]:
    """`periods` split into runs of contiguous ones (each run is one pass)."""
    out: list[list[Period]] = []
    for p in periods:
        if out and out[-1][-1].end == p.start:
            out[-1].append(p)
        else:
            out.append([p])
    return out


def one_pass(
    session: Session, label: Any, where: ColumnElement[bool], periods: Sequence[Period], names: Sequence[str]
) -> list[tuple[Any, list[dict[str, int]]]]:
    """(object, one {count: n} per period) for contiguous `periods`, grouped by `label` (None: one total row)."""
    edges = [periods[0].start] + [p.end for p in periods]
    exprs = key_expressions(edges)
    needed = list(dict.fromkeys(key for name in names for key in RULES[name][0]))
    columns = [exprs[k].label(k) for k in needed]
    group = [label.label("obj")] if label is not None else []
    window = Period(key="window", start=edges[0], end=edges[-1])
    filters = [where, touched(window)] + ([label.is_not(None)] if label is not None else [])
    inner = (
        select(*group, *columns, func.count().label("n")).where(*filters).group_by(*group, *needed).subquery("keyed")
    )
    cols = {k: inner.c[k] for k in needed}
    sums = [
        func.coalesce(func.sum(case((RULES[name][1](cols, i), inner.c.n), else_=0)), 0)
        for i in range(len(periods))
        for name in names
    ]
    if label is None:
        result = [(None, *session.execute(select(*sums)).one())]
    else:
        result = [tuple(r) for r in session.execute(select(inner.c.obj, *sums).group_by(inner.c.obj))]
    width = len(names)
    return [
        (
            obj,
            [
                dict(zip(names, (int(v) for v in values[i * width : (i + 1) * width]), strict=True))
                for i in range(len(periods))
            ],
        )  # fmt: skip
        for obj, *values in result
    ]
