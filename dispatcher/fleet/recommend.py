"""Which officers to send: the nearest available ones, lighter load first among equals."""

from __future__ import annotations

from dataclasses import dataclass

from dispatcher.fleet.officers import OfficerStatus

AVAILABLE = {OfficerStatus.ON_DUTY, OfficerStatus.BUSY}
LOAD_PENALTY_M = 300.0  # one open case weighs like 300 m of extra distance


@dataclass(frozen=True)
class Candidate:
    officer_id: str
    distance_m: float
    load: int
    status: OfficerStatus


def rank(candidates: list[Candidate], limit: int) -> list[Candidate]:
    """Available officers ordered by distance plus a penalty per open case, then id for a stable order."""
    usable = [c for c in candidates if c.status in AVAILABLE]
    return sorted(usable, key=lambda c: (c.distance_m + LOAD_PENALTY_M * c.load, c.officer_id))[:limit]
