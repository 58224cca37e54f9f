"""One incident being driven through the loop (:class:`Plan`), the turns it takes (:class:`Step`), and the tuning.

Each incident the simulator drives has a :class:`Plan` with a *goal* (where its play stops, so every stage of the
loop shows on the map, drawn by :func:`choose_goal`) and a few memories (a request waiting for the shift leader,
whether it was transferred or supervised already). :class:`LoopConfig` holds how often the city takes each turn of
the loop, and :func:`delay_s` how long a real city waits before each action.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DELAYS_S: dict[str, tuple[float, float]] = {
    "file": (10, 30),
    "dispatch": (10, 60),
    "claim": (5, 40),
    "transfer": (10, 60),
    "part_done": (20, 90),
    "request_extend": (20, 90),
    "request_suspend": (20, 90),
    "extend": (10, 60),
    "suspend": (10, 60),
    "refuse": (10, 60),
    "resume": (60, 180),
    "handle": (20, 120),
    "return": (10, 60),
    "uphold": (10, 60),
    "revoke": (10, 40),
    "assign_verifier": (5, 30),
    "verify": (10, 60),
    "reject": (10, 40),
    "callback": (20, 90),
    "close": (5, 30),
    "archive": (120, 300),
    "escalate": (15, 60),
    "supervise": (5, 30),
    "void": (20, 60),
}

# Where a case's play stops (relative weights): every stage of the loop shows on the map.
#   untouched  left alone: its filing clock runs out (overdue)
#   requested  stops with an extension or suspension request waiting for the shift leader
#   returned   stops returned by the department, waiting for the shift leader's arbitration
#   others     the status it stops in
GOALS: dict[str, float] = {
    "untouched": 12,
    "filed": 5,
    "dispatched": 7,
    "claimed": 7,
    "requested": 4,
    "returned": 4,
    "handled": 7,
    "verified": 5,
    "closed": 19,
    "archived": 30,
}
PLANS = GOALS  # the name older callers use
MAX_RETRIES = 3  # a step met a connection error, a 5xx or a 4xx (a race, a rule): chosen again this many times


@dataclass(frozen=True)
class LoopConfig:
    """How often the city takes each turn of the loop (probabilities per opportunity) and how long pauses last."""

    p_escalate: float = 0.04  # the center escalates a filed case instead of dispatching it
    p_partners: float = 0.12  # a dispatch names a partner department (joint case, 会办)
    p_revoke: float = 0.03  # the center takes back an unclaimed dispatch
    p_return: float = 0.07  # the department returns the case (退单)
    p_transfer: float = 0.08  # the department head hands it to another officer (批转)
    p_request_extend: float = 0.08  # the handler asks for a later deadline
    p_request_suspend: float = 0.05  # the handler asks to pause the clock
    p_approve: float = 0.8  # the shift leader approves a request (else refuses, with a reason)
    arbitration: tuple[float, float, float] = (0.45, 0.45, 0.10)  # a return: uphold, re-dispatch, void
    p_reject: float = 0.12  # the grid worker finds it not fixed (rework)
    p_not_reached: float = 0.12  # the callback does not reach the caller
    p_unsatisfied: float = 0.1  # the caller is not satisfied (rework)
    p_supervise: float = 0.03  # the shift leader flags an open case (督办), once
    p_callback_wanted: float = 0.6  # hotline callers who ask to be called back
    resume_after_s: tuple[float, float] = (60, 180)  # an approved suspension lasts this long
    archive_after_s: tuple[float, float] = (120, 300)  # a closed case is archived this long after
    max_steps: int = 40


@dataclass(frozen=True)
class Evidence:
    """Files to upload before a step: the stage (handle, return, ...) and the multipart parts (one photo each)."""

    stage: str
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Step:
    """One turn of the loop: the action, who takes it (a token key), its body and the evidence uploaded first."""

    action: str
    actor: str
    body: dict[str, Any]
    evidence: tuple[Evidence, ...] = ()


@dataclass
class Plan:
    """One incident being driven through the loop, with what the server last said about it."""

    incident_id: str
    goal: str = "archived"
    category: str | None = None
    department: str | None = None
    handler: str | None = None  # the officer named on the dispatch or the claim (the map shows them busy)
    incident: dict[str, Any] = field(default_factory=dict)  # the latest snapshot
    pending: str | None = None  # "suspend" | "extend": a request waiting for the shift leader
    requested: bool = False
    transferred: bool = False
    supervised: bool = False
    revoked: bool = False
    escalated: bool = False
    verifier_named: bool = False
    next: Step | None = None  # the step scheduled
    steps: int = 0
    retries: int = 0
    actions: list[str] = field(default_factory=list)  # the actions done, in order

    def update(self, incident: Mapping[str, Any]) -> None:
        """Take the server's latest snapshot of the incident."""
        self.incident = dict(incident)
        self.department = incident.get("department_code") or self.department
        self.category = incident.get("category_code") or self.category

    def done(self, step: Step) -> None:
        """Remember what a step that the server accepted changes for the plan."""
        self.steps += 1
        self.retries = 0
        self.actions.append(step.action)
        if step.action == "request_suspend":
            self.pending = "suspend"
        elif step.action == "request_extend":
            self.pending = "extend"
        elif step.action in {"suspend", "extend", "refuse"}:
            self.pending = None
        elif step.action == "return":
            self.handler = None


def choose_goal(rng: random.Random) -> str:
    """Where one incident's play will stop."""
    return rng.choices(list(GOALS), weights=list(GOALS.values()), k=1)[0]


def choose_plan(rng: random.Random) -> str:
    """The goal of a new plan (older name of :func:`choose_goal`)."""
    return choose_goal(rng)


def delay_s(action: str, rng: random.Random, config: LoopConfig | None = None) -> float:
    """Seconds a real city takes before this action (at time scale 1)."""
    if config is not None and action == "resume":
        return rng.uniform(*config.resume_after_s)
    if config is not None and action == "archive":
        return rng.uniform(*config.archive_after_s)
    low, high = DELAYS_S.get(action, (10, 60))
    return rng.uniform(low, high)


def reached_goal(plan: Plan, incident: Mapping[str, Any]) -> bool:
    """Whether the play of this incident stops here."""
    status = incident.get("status")
    if plan.goal == "untouched":
        return True
    if plan.goal == "requested":
        return plan.pending is not None
    return status == plan.goal and plan.pending is None
