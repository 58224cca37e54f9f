"""What a step carries: the bodies, reasons and photos (evidence) of each action, in the city's own words."""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from .actors import SQ
from .catalogue import Catalogue
from .incidents import UNKNOWN_CATEGORY
from .phrases import (
    APPROVE_NOTES,
    ESCALATE_REASONS,
    EXTEND_REASONS,
    HANDLE_RESULTS,
    REFUSE_REASONS,
    REJECT_REASONS,
    RETURN_REASONS,
    REVOKE_REASONS,
    SUPERVISE_REASONS,
    SUSPEND_REASONS,
    UPHOLD_REASONS,
    VOID_REASONS,
)
from .plans import Evidence, Plan, Step


def file_body(plan: Plan, rng: random.Random, catalogue: Catalogue) -> dict[str, Any]:
    body: dict[str, Any] = {"note": rng.choice(["情况属实，予以立案", "经核实符合立案条件", "立案"])}
    if plan.category in (None, UNKNOWN_CATEGORY):
        plan.category = rng.choice(list(catalogue.class_codes.values()))
        body["category_code"] = plan.category
    if plan.category in catalogue.no_department:
        body["department"] = rng.choice(["CGZF", SQ])
    return body


def dispatch_body(
    plan: Plan, incident: Mapping[str, Any], rng: random.Random, staff: Mapping[str, list[str]]
) -> dict[str, Any]:
    body: dict[str, Any] = {"note": rng.choice(["请尽快处置", "请按时限处置并反馈", "派遣至责任单位"])}
    department = str(incident.get("department_code") or plan.department or "")
    people = staff.get(department)
    if department != SQ and people and rng.random() < 0.8:  # a named officer of the department: shown busy
        body["assignee"] = plan.handler = rng.choice(people)
    return body


def extend_body(incident: Mapping[str, Any], rng: random.Random, now: datetime) -> dict[str, Any]:
    deadline = _parse(incident.get("stage_deadline")) or now
    until = max(deadline, now) + timedelta(hours=rng.choice([4, 8, 24, 48]))
    return {"until": until.isoformat(), "reason": rng.choice(EXTEND_REASONS)}


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def return_step(handler: str, rng: random.Random, catalogue: Catalogue) -> Step:
    codes = list(catalogue.return_reasons) or ["not_ours"]
    code = rng.choice(codes)
    body = {"reason_code": code, "reason": rng.choice(RETURN_REASONS.get(code, RETURN_REASONS["default"]))}
    evidence = (Evidence("return", ("photo",)),) if catalogue.return_reasons.get(code) else ()
    return Step("return", handler, body, evidence)


def action_body(
    action: str,
    plan: Plan,
    rng: random.Random,
    catalogue: Catalogue,
    by_department: Mapping[str, list[str]],
) -> dict[str, Any]:
    """A plausible body for one action on its own (the loop's own choices come from :func:`next_step`)."""
    incident = {"department_code": plan.department, "category_code": plan.category, **plan.incident}
    if action == "file":
        return file_body(plan, rng, catalogue)
    if action == "dispatch":
        return dispatch_body(plan, incident, rng, by_department)
    if action == "claim":
        if not plan.handler:
            people = by_department.get(str(plan.department))
            plan.handler = rng.choice(people) if people else None
        return {"note": "已签收"}
    if action == "handle":
        name = catalogue.code_names.get(str(plan.category), "default")
        return {"result": rng.choice(HANDLE_RESULTS.get(name, []) + HANDLE_RESULTS["default"])}
    if action == "verify":
        return {"note": rng.choice(["现场核查，问题已解决", "核查通过"])}
    if action in {"close", "archive", "resume"}:
        return {"note": {"close": "结案", "archive": "归档", "resume": "恢复办理"}[action]}
    if action == "return":
        plan.handler = None
        return return_step("dept", rng, catalogue).body
    if action == "request_extend":
        return extend_body(incident, rng, datetime.now(UTC))
    reasons = {
        "escalate": ESCALATE_REASONS,
        "reject": REJECT_REASONS,
        "void": VOID_REASONS,
        "revoke": REVOKE_REASONS,
        "uphold": UPHOLD_REASONS,
        "refuse": REFUSE_REASONS,
        "request_suspend": SUSPEND_REASONS,
        "supervise": SUPERVISE_REASONS,
        "suspend": APPROVE_NOTES["suspend"],
    }
    if action in reasons:
        return {"reason": rng.choice(reasons[action])}
    return {}
