"""The whole loop as a city plays it: for an incident in a given state, who acts next and what they do.

:func:`next_step` looks at the incident as the server last returned it (``plan.incident``) and picks one legal
:class:`~.plans.Step` with one chooser per status: the action, the person who takes it (a token key, see
:mod:`.actors`), the body, and the evidence files to upload first (:mod:`.bodies`). The choices are random (a
seeded RNG) with the probabilities of :class:`~.plans.LoopConfig`, and stop at the plan's goal.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .actors import GRID_PREFIX, SQ, Actors, community_of
from .bodies import dispatch_body, extend_body, file_body, return_step
from .catalogue import Catalogue
from .phrases import (
    APPROVE_NOTES,
    ESCALATE_REASONS,
    HANDLE_RESULTS,
    PART_RESULTS,
    REFUSE_REASONS,
    REJECT_REASONS,
    REVOKE_REASONS,
    SUPERVISE_REASONS,
    SUSPEND_REASONS,
    UPHOLD_REASONS,
    VOID_REASONS,
)
from .plans import Evidence, LoopConfig, Plan, Step, reached_goal

OPEN_STATUSES = frozenset(
    {"reported", "triage", "filed", "dispatched", "claimed", "suspended", "returned", "escalated", "handled"}
    | {"rework", "verified"}
)
MAX_REWORK = 2  # no more rejections or unsatisfied callbacks after this many rounds of rework
MAX_RETURNS = 2


def open_parts(incident: Mapping[str, Any]) -> list[str]:
    """Partner departments whose part of a joint case is not done."""
    return [p["department_code"] for p in incident.get("partners") or [] if not p.get("done_at")]


@dataclass(frozen=True)
class Turn:
    """What every chooser plays with on one turn: the dice, the city's catalogue and staff, the odds, who holds
    which token, and the clock."""

    rng: random.Random
    catalogue: Catalogue
    staff: Mapping[str, list[str]]
    config: LoopConfig
    actors: Actors
    now: datetime


def next_step(
    plan: Plan,
    rng: random.Random,
    catalogue: Catalogue,
    by_department: Mapping[str, list[str]] | None = None,
    *,
    config: LoopConfig | None = None,
    actors: Actors | None = None,
    now: datetime | None = None,
) -> Step | None:
    """The next turn for this incident (as `plan.incident` has it), or None when its play stops here."""
    config = config or LoopConfig()
    actors = actors or Actors()
    staff = by_department or {}
    incident = plan.incident
    status = str(incident.get("status") or "")
    if status not in _CHOOSERS or plan.steps >= config.max_steps or reached_goal(plan, incident):
        return None
    supervisable = status in OPEN_STATUSES and status not in {"reported", "triage"}
    if supervisable and not plan.supervised and rng.random() < config.p_supervise:
        plan.supervised = True
        return Step("supervise", "leader", {"reason": rng.choice(SUPERVISE_REASONS)})
    turn = Turn(rng, catalogue, staff, config, actors, now or datetime.now(UTC))
    return _CHOOSERS[status](plan, incident, turn)


# ----- one chooser per status ----------------------------------------------------------------------------------


def _reported(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    return Step("file", "leader", file_body(plan, turn.rng, turn.catalogue))


def _triage(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    """A dispatcher looks at the triage queue: fixes the category and files, or voids what is not ours."""
    reason = (incident.get("triage") or {}).get("reason")
    if reason == "outside_grid":
        if turn.rng.random() < 0.6:
            return Step("void", "leader", {"reason": turn.rng.choice(VOID_REASONS)})
        plan.goal = "triage"
        return None
    if reason in ("unknown_category", "no_department") and turn.rng.random() < 0.7:
        return Step("file", "leader", file_body(plan, turn.rng, turn.catalogue))
    plan.goal = "triage"
    return None


def _filed(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    if not plan.escalated and turn.rng.random() < turn.config.p_escalate:
        plan.escalated = True
        return Step("escalate", "leader", {"reason": turn.rng.choice(ESCALATE_REASONS)})
    body = dispatch_body(plan, incident, turn.rng, turn.staff)
    partners = [d for d in turn.catalogue.departments if d not in {SQ, incident.get("department_code")}]
    if partners and incident.get("department_code") != SQ and turn.rng.random() < turn.config.p_partners:
        body["partners"] = [turn.rng.choice(partners)]
    return Step("dispatch", "leader", body)


def _escalated(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    return Step("dispatch", "leader", dispatch_body(plan, incident, turn.rng, turn.staff))


def _dispatched(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    handler = turn.actors.handler(incident)
    if _wants_return(plan, incident, turn):
        return return_step(handler, turn.rng, turn.catalogue)
    if not plan.revoked and plan.goal != "dispatched" and turn.rng.random() < turn.config.p_revoke:
        plan.revoked = True
        return Step("revoke", "leader", {"reason": turn.rng.choice(REVOKE_REASONS)})
    body: dict[str, Any] = {"note": turn.rng.choice(["已签收", "收到，马上处理", "已签收，安排人员前往"])}
    if handler.startswith("dept:"):
        people = turn.staff.get(str(incident.get("department_code")))
        assignee = incident.get("assignee") or plan.handler or (turn.rng.choice(people) if people else None)
        if assignee:
            body["assignee"] = plan.handler = str(assignee)
    return Step("claim", handler, body)


def _claimed(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    handler = turn.actors.handler(incident)
    if plan.pending:
        if turn.rng.random() < turn.config.p_approve:
            return Step(plan.pending, "leader", {"reason": turn.rng.choice(APPROVE_NOTES[plan.pending])})
        return Step("refuse", "leader", {"reason": turn.rng.choice(REFUSE_REASONS)})
    if parts := open_parts(incident):
        partner = turn.rng.choice(parts)
        return Step("part_done", f"dept:{partner}", {"department": partner, "result": turn.rng.choice(PART_RESULTS)})
    department = str(incident.get("department_code") or "")
    people = [p for p in turn.staff.get(department, []) if p != incident.get("assignee")]
    if not plan.transferred and handler.startswith("dept:") and people and turn.rng.random() < turn.config.p_transfer:
        plan.transferred = True
        plan.handler = turn.rng.choice(people)
        return Step("transfer", handler, {"assignee": plan.handler, "note": "转交同事办理"})
    if not plan.requested:
        roll = turn.rng.random()
        forced = plan.goal == "requested"
        if forced or roll < turn.config.p_request_extend + turn.config.p_request_suspend:
            plan.requested = True
            if (forced and turn.rng.random() < 0.5) or (not forced and roll < turn.config.p_request_extend):
                return Step("request_extend", handler, extend_body(incident, turn.rng, turn.now))
            return Step("request_suspend", handler, {"reason": turn.rng.choice(SUSPEND_REASONS)})
    if _wants_return(plan, incident, turn):
        return return_step(handler, turn.rng, turn.catalogue)
    name = turn.catalogue.code_names.get(str(incident.get("category_code")), "default")
    body = {"result": turn.rng.choice(HANDLE_RESULTS.get(name, []) + HANDLE_RESULTS["default"])}
    evidence = (
        (Evidence("handle", ("before", "after")),) if turn.catalogue.needs_photos(incident.get("category_code")) else ()
    )
    return Step("handle", handler, body, evidence)


def _suspended(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    return Step("resume", turn.actors.handler(incident), {"note": "挂账原因消除，恢复办理"})


def _returned(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    """The shift leader arbitrates a return: uphold it, send the case to another department, or void it."""
    uphold, redispatch, void = turn.config.arbitration
    choice = turn.rng.choices(["uphold", "dispatch", "void"], weights=[uphold, redispatch, void], k=1)[0]
    current = incident.get("department_code")
    others = [d for d in turn.catalogue.departments if d not in {SQ, current}]
    if choice == "dispatch" and others:
        department = turn.rng.choice(others)
        plan.handler = None
        return Step("dispatch", "leader", {"department": department, "note": f"审定改派至 {department}"})
    if choice == "void":
        return Step("void", "leader", {"reason": turn.rng.choice(VOID_REASONS)})
    return Step("uphold", "leader", {"reason": turn.rng.choice(UPHOLD_REASONS)})


def _handled(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    """The verifier checks on site; a verifier who is not one of ours is replaced once by the shift leader."""
    verifier = turn.actors.verifier(incident)
    if verifier is not None:
        if int(incident.get("rework_count") or 0) < MAX_REWORK and turn.rng.random() < turn.config.p_reject:
            return Step("reject", verifier, {"reason": turn.rng.choice(REJECT_REASONS)})
        return Step(
            "verify",
            verifier,
            {"note": turn.rng.choice(["现场核查，问题已解决", "核查通过", "已到现场核实，整改到位"])},
        )
    community = community_of(incident)
    if community and not plan.verifier_named and turn.actors.has(f"grid:{community}"):
        plan.verifier_named = True
        return Step("assign_verifier", "leader", {"verifier": GRID_PREFIX + community, "note": "请网格员核查"})
    return Step("verify", "leader", {"note": "指挥中心视频核查通过"})


def _rework(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    body: dict[str, Any] = {"note": "返工，重新签收"}
    handler = turn.actors.handler(incident)
    if handler.startswith("dept:") and (incident.get("assignee") or plan.handler):
        body["assignee"] = incident.get("assignee") or plan.handler
    return Step("claim", handler, body)


def _verified(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    callback = incident.get("callback") or {}
    if callback.get("required") and callback.get("outcome") not in {"satisfied", "not_reached"}:
        who = "hotline" if turn.actors.has("hotline") else "leader"
        if turn.rng.random() < turn.config.p_not_reached:
            return Step("callback", who, {"reached": False, "note": "电话无人接听"})
        if int(incident.get("rework_count") or 0) < MAX_REWORK and turn.rng.random() < turn.config.p_unsatisfied:
            return Step("callback", who, {"reached": True, "satisfied": False, "note": "来电人表示问题仍未解决"})
        return Step("callback", who, {"reached": True, "satisfied": True, "note": "来电人对处理结果满意"})
    return Step(
        "close", turn.actors.closer(incident, turn.catalogue), {"note": turn.rng.choice(["结案", "处置到位，予以结案"])}
    )


def _closed(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> Step | None:
    return Step("archive", turn.actors.closer(incident, turn.catalogue), {"note": "归档"})


_CHOOSERS = {
    "reported": _reported,
    "triage": _triage,
    "filed": _filed,
    "escalated": _escalated,
    "dispatched": _dispatched,
    "claimed": _claimed,
    "suspended": _suspended,
    "returned": _returned,
    "handled": _handled,
    "rework": _rework,
    "verified": _verified,
    "closed": _closed,
}


def _wants_return(plan: Plan, incident: Mapping[str, Any], turn: Turn) -> bool:
    if int(incident.get("return_count") or 0) >= MAX_RETURNS:
        return False
    return plan.goal == "returned" or turn.rng.random() < turn.config.p_return
