"""Socket.IO room names, in one place: a room per grid (any level), per department, one for unplaced reports,
and one that only in-process listeners (tests, benchmarks) join. The engine labels every outbox event with
the rooms of its scope; the web layer joins each socket to the rooms of its principal's scope."""

from __future__ import annotations

TRIAGE = "triage"  # reports with no grid and no department: the command center's triage desk
ALL = "all"  # every event; never joined by a browser (see dispatcher.cases.scope.rooms)


def grid_room(code: str) -> str:
    """The room of a grid at any level (district, street, community or unit)."""
    return f"grid:{code}"


def department_room(code: str) -> str:
    """The room of a department."""
    return f"dept:{code}"
