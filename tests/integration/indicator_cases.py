"""A hand-built month of cases for the indicator engine's worked examples: November 2026 in Shanghai, with October
(环比) and November 2025 (同比) around it, inserted as incident rows with explicit milestones.

Streets S-A and S-B of district D; departments D1 and D2; handlers h1, h2 (D1) and h3 (D2). Each case's comment
says what it is there for; the expected counts are written by hand in the tests, not derived from this table."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from dispatcher.cases.incident import Incident

TZ = "Asia/Shanghai"
SH = ZoneInfo(TZ)
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=SH)  # the evaluation runs on 2 December 2026, 10:00


def at(month: int, day: int, hour: int = 9, minute: int = 0, year: int = 2026, second: int = 0) -> datetime:
    """A local time in Shanghai."""
    return datetime(year, month, day, hour, minute, second, tzinfo=SH)


def case(session, cid: str, *, street: str, created: datetime, status: str = "closed", **fields) -> Incident:
    """One incident row: grid district D, the street given, hotline by default, every milestone explicit."""
    fields.setdefault("channel", "hotline")
    row = Incident(
        id=cid,
        status=status,
        description="测试",
        grid_district="D",
        grid_street=street,
        created_at=created,
        updated_at=created,
        **fields,
    )
    session.add(row)
    return row


def flow(filed, dispatched, handled=None, closed=None, *, file_due=None, dispatch_due=None, handle_due=None,
         total=None) -> dict:  # fmt: skip
    """The milestone columns of one case."""
    return {
        "filed_at": filed,
        "file_due_at": file_due,
        "dispatched_at": dispatched,
        "dispatch_due_at": dispatch_due,
        "handled_at": handled,
        "handle_due_at": handle_due,
        "closed_at": closed,
        "total_deadline": total,
    }


def november(session) -> None:
    """The worked month (27 cases)."""
    A, B = "S-A", "S-B"
    h = lambda d, hh=9, mm=0: at(11, d, hh, mm)
    # c01 all on time in November, grid worker, callback satisfied
    case(session, "c01", street=A, created=h(3), channel="grid_worker", department_code="D1", assignee="h1",
         reported_by="w1", callback_outcome="satisfied",
         **flow(h(3, 9, 30), h(3, 10), h(4, 10), h(4, 12), file_due=h(3, 10), dispatch_due=h(3, 11),
                handle_due=h(5), total=h(6)))  # fmt: skip
    # c02 reported, filed, dispatched on 28 Nov; handled and closed on 1 Dec: its handling and closure are December's
    case(session, "c02", street=A, created=h(28, 9), department_code="D1", assignee="h1",
         **flow(h(28, 10), h(28, 11), at(12, 1, 9), at(12, 1, 15), dispatch_due=h(28, 12), handle_due=at(12, 3),
                total=at(12, 5)))  # fmt: skip
    # c03 reported, filed, dispatched in October; handled and closed on time in November
    case(session, "c03", street=A, created=at(10, 30), department_code="D1", assignee="h1",
         **flow(at(10, 30, 10), at(10, 30, 11), h(2), h(2, 15), dispatch_due=at(10, 30, 12), handle_due=h(3),
                total=h(5)))  # fmt: skip
    # c04 ran late in November at both handling (15th) and closure (20th), finished on 1 Dec: counts against November
    case(session, "c04", street=B, created=h(10), department_code="D2", assignee="h3",
         **flow(h(10, 10), h(10, 11), at(12, 1, 8), at(12, 1, 10), dispatch_due=h(10, 12), handle_due=h(15),
                total=h(20)))  # fmt: skip
    # c05 late at every stage, all inside November: dispatched 2 h late, handled a day late, closed a day late
    case(session, "c05", street=B, created=h(5, 8), department_code="D2", assignee="h3",
         **flow(h(5, 9), h(5, 12), h(8), h(9), dispatch_due=h(5, 10), handle_due=h(7), total=h(8)))  # fmt: skip
    # c06 exactly on each deadline: on time (done ≤ due)
    case(session, "c06", street=A, created=h(12, 8), department_code="D2", assignee="h3",
         **flow(h(12, 9), h(12, 10), h(13, 10), h(14, 10), dispatch_due=h(12, 10), handle_due=h(13, 10),
                total=h(14, 10)))  # fmt: skip
    # c07 no deadline at any stage: on time everywhere
    case(session, "c07", street=B, created=h(18), department_code="D1", assignee="h1",
         **flow(h(18, 10), h(18, 11), h(19), h(20)))  # fmt: skip
    # c08 reworked twice, closed on time; callback unsatisfied; not an accurate dispatch
    case(session, "c08", street=A, created=h(6), department_code="D1", assignee="h2", rework_count=2,
         callback_outcome="unsatisfied",
         **flow(h(6, 10), h(6, 11), h(12), h(13), dispatch_due=h(6, 12), handle_due=h(14), total=h(20)))  # fmt: skip
    # c09 filed then voided: a report, nothing else
    case(session, "c09", street=A, created=h(7), status="voided", department_code="D1",
         **flow(h(7, 10), None, None, h(8)))  # fmt: skip
    # c10 a grid worker's duplicate merged into c01: a report (and a grid report), nothing else
    case(session, "c10", street=A, created=h(8), status="merged", channel="grid_worker", parent_id="c01",
         reported_by="w1", **flow(None, None))  # fmt: skip
    # c11 returned once by D2 and re-dispatched; its first dispatch was on time; handled and closed on time
    case(session, "c11", street=B, created=h(14, 9), department_code="D2", assignee="h3", return_count=1,
         **flow(h(14, 10), h(14, 11), h(18), h(19), dispatch_due=h(14, 12), handle_due=h(20), total=h(25)))  # fmt: skip
    # c12 suspended: its handling deadline moved from the 16th to the 22nd, handled on the 21st; closure not yet due
    case(session, "c12", street=B, created=h(14, 8), status="handled", department_code="D1", assignee="h1",
         **flow(h(14, 9), h(14, 10), h(21), None, dispatch_due=h(14, 11), handle_due=h(22), total=at(12, 10)))  # fmt: skip
    # c13 extended once (延期), then handled and closed on time
    case(session, "c13", street=A, created=h(15), department_code="D2", assignee="h3", extension_count=1,
         **flow(h(15, 10), h(15, 11), h(24), h(26), dispatch_due=h(15, 12), handle_due=h(25), total=h(28)))  # fmt: skip
    # c14 still open, ran out of handling time (23rd) and closure time (27th) in November
    case(session, "c14", street=A, created=h(20), status="claimed", department_code="D1", assignee="h1",
         **flow(h(20, 10), h(20, 11), None, None, dispatch_due=h(20, 12), handle_due=h(23), total=h(27)))  # fmt: skip
    # c15 open, its deadlines after now: nothing due yet
    case(session, "c15", street=B, created=h(29), status="dispatched", department_code="D2", assignee="h3",
         **flow(h(29, 10), h(29, 11), None, None, dispatch_due=h(29, 12), handle_due=at(12, 5), total=at(12, 10)))  # fmt: skip
    # c16 open, ran out of handling time on 1 Dec 08:00 (December's)
    case(session, "c16", street=B, created=h(27), status="claimed", department_code="D2", assignee="h3",
         **flow(h(27, 10), h(27, 11), None, None, dispatch_due=h(27, 12), handle_due=at(12, 1, 8), total=at(12, 9)))  # fmt: skip
    # c18 a grid worker's report rejected (voided): a report and a grid report, not a valid one
    case(session, "c18", street=B, created=h(9), status="voided", channel="grid_worker", reported_by="w2",
         **flow(None, None, None, h(9, 12)))  # fmt: skip
    # c19 a grid worker's report filed at 23:30 on the 30th, waiting for dispatch (due 1 Dec 00:30: December's)
    case(session, "c19", street=A, created=h(30, 23), status="filed", channel="grid_worker", reported_by="w1",
         **flow(h(30, 23, 30), None, dispatch_due=at(12, 1, 0, 30)))  # fmt: skip
    # c20 created at November's first instant; closed at December's first instant, exactly on its limit: December's
    case(session, "c20", street=A, created=h(1, 0), department_code="D1", assignee="h1",
         **flow(h(1, 0, 10), h(1, 0, 20), h(30, 23), at(12, 1, 0), total=at(12, 1, 0)))  # fmt: skip
    # c21 created one second before November: October's report
    case(session, "c21", street=A, created=at(10, 31, 23, 59, second=59), status="reported", **flow(None, None))
    # c24 callback attempted, caller not reached: no callback counted
    case(session, "c24", street=A, created=h(21), department_code="D2", assignee="h3", callback_outcome="not_reached",
         **flow(h(21, 10), h(21, 11), h(22), h(22, 12), total=h(30)))  # fmt: skip
    # October (环比): c26 closed on time, c27 closed after its limit
    case(session, "c26", street=A, created=at(10, 10), department_code="D1", assignee="h1",
         **flow(at(10, 10, 10), at(10, 10, 11), at(10, 12), at(10, 12, 12), total=at(10, 15)))  # fmt: skip
    case(session, "c27", street=B, created=at(10, 11), department_code="D2", assignee="h3",
         **flow(at(10, 11, 10), at(10, 11, 11), at(10, 19), at(10, 20), total=at(10, 18)))  # fmt: skip
    # November 2025 (同比): c22 closed on time in S-A, c23 closed late in S-B
    y = lambda d, hh=9: at(11, d, hh, year=2025)
    case(session, "c22", street=A, created=y(10), department_code="D1", assignee="h1",
         **flow(y(10, 10), y(10, 11), y(11), y(12), handle_due=y(12), total=y(14)))  # fmt: skip
    case(session, "c23", street=B, created=y(10), department_code="D2", assignee="h3",
         **flow(y(10, 10), y(10, 11), y(11), y(20), handle_due=y(12), total=y(14)))  # fmt: skip
