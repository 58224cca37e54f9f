"""Returns (退单) counted per returning department and reason code over a period, inside the caller's scope."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident, TimelineEntry
from dispatcher.cases.lifecycle import Action

UNKNOWN = "(unknown)"  # a return recorded without its department or reason code (rows older than issue 10)


def return_counts(
    session: Session,
    *,
    start: datetime,
    end: datetime,
    scope: ColumnElement[bool],
    department: str | None = None,
) -> list[dict[str, Any]]:
    """Returns made in [start, end) on incidents in `scope` (of one returning department if given), counted per
    department and reason code, most first. The JSON `data` is read in Python: SQLite and PostgreSQL query it
    differently."""
    query = (
        select(TimelineEntry.data)
        .join(Incident, Incident.id == TimelineEntry.incident_id)
        .where(TimelineEntry.action == str(Action.RETURN), TimelineEntry.at >= start, TimelineEntry.at < end, scope)
    )
    tally: Counter[tuple[str, str]] = Counter()
    for data in session.scalars(query):
        data = data or {}
        returned_by = data.get("department") or UNKNOWN
        if department is not None and returned_by != department:
            continue
        tally[(returned_by, data.get("reason_code") or UNKNOWN)] += 1
    ordered = sorted(tally.items(), key=lambda item: (-item[1], item[0]))
    return [{"department": d, "reason_code": r, "count": n} for (d, r), n in ordered]
