"""Which officers to send for a case: officers of the department the case goes to, nearest and least loaded first.

`rank` is the whole rule, in this order:

1. **Department — a filter, never a weight.** Only officers whose `department_code` is the case's department (the
   one the case is routed to, or the one the dispatcher picked in the dispatch form) are candidates. An officer of
   another department, or of none (a grid worker), is never recommended, however close.
2. **Status — a tier.** On duty (`on_duty`, tier 0) before busy (`busy`: on duty with open cases, tier 1) before
   stale (`stale`: the last fix is 2–10 minutes old, so the position may be wrong, tier 2). Off duty and offline
   officers (no fix for 10 minutes) are never recommended.
3. **Score — within a tier, in metres:** `distance_m + LOAD_PENALTY_M × load`, i.e. the straight-line (great-circle)
   distance from the officer's last fix to the case plus 300 m per open case assigned to them. So a free officer
   600 m away ranks level with one 300 m away who has one open case.
4. **Officer id** breaks ties, so the order is stable.
"""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.fleet.officers import OfficerStatus
from geo.distance import haversine_m

LOAD_PENALTY_M = 300.0  # one open case weighs like 300 m of extra distance
TIER = {OfficerStatus.ON_DUTY: 0, OfficerStatus.BUSY: 1, OfficerStatus.STALE: 2}  # others are never recommended
AVAILABLE = frozenset(TIER)


@dataclass(frozen=True)
class Candidate:
    officer_id: str
    distance_m: float
    load: int
    status: OfficerStatus
    department_code: str | None = None

    @property
    def score_m(self) -> float:
        """Distance plus the load penalty, in metres."""
        return self.distance_m + LOAD_PENALTY_M * self.load


def candidate(
    officer_id: str,
    case: tuple[float, float],
    fix: tuple[float, float],
    load: int,
    status: OfficerStatus,
    department_code: str | None,
) -> Candidate:
    """An officer as a candidate for a case at `case` (lon, lat), from their last fix (lon, lat)."""
    return Candidate(officer_id, haversine_m(*case, *fix), load, status, department_code)


def rank(candidates: list[Candidate], department: str | None, limit: int) -> list[Candidate]:
    """The officers of `department` worth sending, best first (see the module docstring for the rule).

    No department (a case not routed yet and none chosen) means nobody: recommendations never cross departments."""
    if not department:
        return []
    usable = [c for c in candidates if c.department_code == department and c.status in AVAILABLE]
    return sorted(usable, key=lambda c: (TIER[c.status], c.score_m, c.officer_id))[:limit]
