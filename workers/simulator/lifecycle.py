"""Lifecycle plans: which actions an incident goes through, how long each waits, who signs it and with what text."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .catalogue import Catalogue
from .incidents import UNKNOWN_CATEGORY
from .phrases import ESCALATE_REASONS, HANDLE_RESULTS, REJECT_REASONS, RETURN_REASONS, VOID_REASONS

DELAYS_S = {
    "file": (10, 30),
    "dispatch": (10, 60),
    "claim": (5, 40),
    "handle": (20, 120),
    "verify": (10, 60),
    "close": (5, 30),
    "escalate": (15, 60),
    "return": (10, 60),
    "reject": (10, 40),
    "void": (20, 60),
}
FULL = ["file", "dispatch", "claim", "handle", "verify", "close"]
PLANS: dict[str, tuple[float, list[str]]] = {
    "untouched": (18, []),  # left alone: the filing clock runs out (overdue)
    "filed": (8, FULL[:1]),
    "dispatched": (9, FULL[:2]),
    "claimed": (9, FULL[:3]),
    "handled": (7, FULL[:4]),
    "verified": (4, FULL[:5]),
    "closed": (22, FULL),
    "escalated": (6, ["file", "escalate", "dispatch", "claim"]),
    "returned": (6, ["file", "dispatch", "return", "dispatch", "claim", "handle"]),
    "rework": (5, ["file", "dispatch", "claim", "handle", "reject", "claim", "handle", "verify", "close"]),
}
DEPARTMENT_ACTIONS = frozenset({"claim", "transfer", "return", "handle"})
MAX_RETRIES = 3  # an action that met a connection error or a 5xx is tried again this many times


@dataclass
class Plan:
    """One incident being driven through its actions, with what the server last said about it."""

    incident_id: str
    actions: list[str]
    category: str | None = None
    department: str | None = None
    handler: str | None = None  # the officer who has it, once dispatched to someone or claimed
    retries: int = 0


def choose_plan(rng: random.Random) -> list[str]:
    """The actions (in order) one incident will go through; some stop early so every state shows."""
    name = rng.choices(list(PLANS), weights=[w for w, _ in PLANS.values()], k=1)[0]
    return list(PLANS[name][1])


def triage_plan(incident: Mapping[str, Any], rng: random.Random) -> list[str]:
    """A dispatcher looks at the triage queue: fixes the category and files, or voids what is not ours."""
    reason = (incident.get("triage") or {}).get("reason")
    if reason == "outside_grid":
        return ["void"] if rng.random() < 0.6 else []
    if reason in ("unknown_category", "no_department"):
        return ["file", "dispatch", "claim"] if rng.random() < 0.7 else []
    return []


def delay_s(action: str, rng: random.Random) -> float:
    """Seconds a real city takes before this action (at time scale 1)."""
    low, high = DELAYS_S.get(action, (10, 60))
    return rng.uniform(low, high)


def signer(action: str) -> str:
    """Whose token signs this action in a real city: "dept" (a department) or "leader" (the command center)."""
    return "dept" if action in DEPARTMENT_ACTIONS else "leader"


def action_body(
    action: str,
    plan: Plan,
    rng: random.Random,
    catalogue: Catalogue,
    by_department: Mapping[str, list[str]],
) -> dict[str, Any]:
    """The body of one lifecycle action, with plausible notes, reasons and results (notes the handler on `plan`)."""
    if action == "file":
        body: dict[str, Any] = {"note": rng.choice(["情况属实，予以立案", "经核实符合立案条件", "立案"])}
        if plan.category in (None, UNKNOWN_CATEGORY):
            plan.category = rng.choice(list(catalogue.class_codes.values()))
            body["category_code"] = plan.category
        if plan.category in catalogue.no_department:
            body["department"] = rng.choice(["CGZF", "SQ"])
        return body
    if action == "dispatch":
        body = {"note": rng.choice(["请尽快处置", "请按时限处置并反馈", "派遣至责任单位"])}
        staff = by_department.get(str(plan.department))
        if staff and rng.random() < 0.8:  # a named officer of the department: the map shows them busy
            body["assignee"] = plan.handler = rng.choice(staff)
        return body
    if action == "claim":
        if not plan.handler:
            staff = by_department.get(str(plan.department))
            plan.handler = rng.choice(staff) if staff else None
        return {"note": "已签收"}
    if action == "handle":
        name = catalogue.code_names.get(str(plan.category), "default")
        return {"result": rng.choice(HANDLE_RESULTS.get(name, []) + HANDLE_RESULTS["default"])}
    if action == "verify":
        return {"note": rng.choice(["现场核查，问题已解决", "核查通过"])}
    if action == "close":
        return {"note": "结案"}
    if action == "escalate":
        return {"reason": rng.choice(ESCALATE_REASONS)}
    if action == "return":
        plan.handler = None  # a return frees the handler
        return {"reason": rng.choice(RETURN_REASONS)}
    if action == "reject":
        return {"reason": rng.choice(REJECT_REASONS)}
    if action == "void":
        return {"reason": rng.choice(VOID_REASONS)}
    return {}
