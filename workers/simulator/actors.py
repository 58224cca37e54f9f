"""Who acts in the simulated city: the token keys that sign each step, and which one acts for a given case.

Token keys (who signs a step), as ``gridcommand demo`` issues them (``dashboard/cli/demo.py``):

* ``leader`` — the shift leader ("sim-center"): files, dispatches (some with partner departments), arbitrates
  returns (uphold, re-dispatch, void), approves or refuses requests, supervises, names verifiers, closes, archives;
* ``dept:<code>`` — that department's head: claims, transfers, returns (with a reason code and, where the code
  needs it, a photo), asks for an extension or a suspension, resumes, feeds back (with before/after photos where
  the category needs them); a partner department's head reports its part (``part_done``);
* ``station:<community>`` — the community workstation: handles and closes the community's own (SQ) cases;
* ``grid:<community>`` — the grid worker of a community: verifies, or rejects (rework);
* ``hotline`` — the call-taker: calls the reporter back (satisfied, unsatisfied → rework, or not reached).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from .catalogue import Catalogue

GRID_PREFIX = "sim-grid-"  # + community code: the simulator's grid worker of that community
STATION_PREFIX = "sim-station-"  # + community code: the simulator's community workstation account
DEPT_PREFIX = "sim-dept-"  # + department code: the simulator's head of that department
SQ = "SQ"  # the community workstation "department"

# Which role each kind of token key stands for (the actions each may take: dispatcher/cases/scope.py ACTIONS).
ACTOR_ROLES = {
    "leader": "shift_leader",
    "dept": "dept_head",
    "station": "dept_handler",
    "grid": "grid_worker",
    "hotline": "hotline",
}


def signer(action: str) -> str:
    """Whose token signs this action without a step's own actor: "dept" (a department) or "leader" (the center)."""
    return "dept" if action in {"claim", "transfer", "return", "handle", "part_done", "resume"} else "leader"


def community_of(incident: Mapping[str, Any]) -> str | None:
    return (incident.get("grid") or {}).get("community")


class Actors:
    """The token keys the simulator holds (None: assume every one), and who acts for whom."""

    def __init__(self, keys: Collection[str] | None = None):
        self.keys = None if keys is None else frozenset(keys)

    def has(self, key: str) -> bool:
        return self.keys is None or key in self.keys or key.split(":", 1)[0] in self.keys

    def handler(self, incident: Mapping[str, Any]) -> str:
        """The department side of a case: its community workstation for SQ cases, else the department's head."""
        department = str(incident.get("department_code") or "")
        community = community_of(incident)
        if department == SQ and community and self.has(f"station:{community}"):
            station = STATION_PREFIX + community
            if incident.get("assignee") in (None, station):
                return f"station:{community}"
        return f"dept:{department}"

    def closer(self, incident: Mapping[str, Any], catalogue: Catalogue) -> str:
        """Who closes and archives: the community workstation for its community-level SQ cases, else the leader."""
        community = community_of(incident)
        if (
            incident.get("level") in catalogue.station_levels
            and incident.get("department_code") == SQ
            and community
            and self.has(f"station:{community}")
            and incident.get("assignee") in (None, STATION_PREFIX + community)
        ):
            return f"station:{community}"
        return "leader"

    def verifier(self, incident: Mapping[str, Any]) -> str | None:
        """The token key of the case's verifier when it is one of the simulator's grid workers."""
        name = str(incident.get("verifier") or "")
        if name.startswith(GRID_PREFIX) and self.has(f"grid:{name[len(GRID_PREFIX) :]}"):
            return f"grid:{name[len(GRID_PREFIX) :]}"
        return None
