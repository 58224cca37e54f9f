"""Who is told what when a case moves (dispatch, assignment, approvals, verification, callbacks, warnings)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from dispatcher.access.roles import Role
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.handling.approvals import Approval
from dispatcher.notify import recipients
from dispatcher.notify.service import Kind, notify

A = Action
COMMAND_CENTER = (Role.DISPATCHER, Role.SHIFT_LEADER)


def _case(incident: Incident) -> str:
    where = incident.address or incident.grid_unit or incident.grid_community or ""
    return f"案件 {incident.label} {incident.category_code or ''} {where}".strip()


def _send(
    session: Session,
    who: Iterable[str | None],
    kind: Kind,
    incident: Incident,
    text: str,
    now: datetime,
    sms: bool = False,
) -> None:
    names = sorted({w for w in who if w})
    if names:
        notify(
            session,
            recipients=names,
            kind=kind,
            text=f"{_case(incident)}：{text}",
            incident_id=incident.id,
            now=now,
            sms=sms,
        )


def department(session: Session, code: str | None) -> list[str]:
    """Everyone who handles cases of a department (handlers, heads, enforcement officers)."""
    return recipients.department_staff(session, code) if code else []


def responsible(session: Session, incident: Incident) -> list[str]:
    """The person handling a case and the heads of its department (or the whole department when unclaimed)."""
    heads = recipients.heads_of(session, incident.department_code) if incident.department_code else []
    return [incident.assignee, *heads] if incident.assignee else department(session, incident.department_code)


def command_center(session: Session, incident: Incident, roles: Iterable[Role] = COMMAND_CENTER) -> list[str]:
    region = incident.grid_unit or incident.grid_community or incident.grid_street or incident.grid_district
    return recipients.by_role_in_region(session, roles, region)


def after_action(session: Session, incident: Incident, action: Action, *, now: datetime) -> None:
    """The notices every action of this kind sends."""
    if action in {A.DISPATCH, A.UPHOLD}:
        _send(
            session,
            department(session, incident.department_code),
            Kind.DISPATCH,
            incident,
            "新派遣案件，请签收",
            now,
            sms=True,
        )
        for part in incident.partners:
            _send(session, department(session, part.department_code), Kind.DISPATCH, incident, "会办案件，请协办", now)
        if incident.assignee:
            _send(session, [incident.assignee], Kind.ASSIGNMENT, incident, "指定由您处置", now)
    elif action is A.TRANSFER:
        _send(session, [incident.assignee], Kind.ASSIGNMENT, incident, "批转给您处置", now)
    elif action is A.RETURN:
        _send(
            session,
            command_center(session, incident),
            Kind.RETURN,
            incident,
            f"{incident.department_code} 退单，请审定",
            now,
        )
    elif action is A.ESCALATE:
        _send(
            session,
            department(session, incident.department_code) or command_center(session, incident),
            Kind.ESCALATION,
            incident,
            f"上报至 {incident.level}，请派遣",
            now,
        )
    elif action is A.SUPERVISE:
        _send(
            session, responsible(session, incident), Kind.SUPERVISION, incident, "领导督办，请加快处置", now, sms=True
        )
    elif action is A.PART_DONE:
        _send(session, responsible(session, incident), Kind.DISPATCH, incident, "协办部门已反馈", now)


def approval_requested(session: Session, incident: Incident, row: Approval, *, now: datetime) -> None:
    what = "挂账" if row.kind == "suspend" else "延期"
    _send(
        session,
        command_center(session, incident, [Role.SHIFT_LEADER]),
        Kind.APPROVAL_REQUEST,
        incident,
        f"{row.requested_by} 申请{what}，待审批",
        now,
    )


def approval_decided(session: Session, incident: Incident, row: Approval, *, now: datetime) -> None:
    what = "挂账" if row.kind == "suspend" else "延期"
    verdict = "已批准" if row.status == "approved" else "未批准"
    _send(session, [row.requested_by], Kind.APPROVAL_DECISION, incident, f"{what}申请{verdict}", now)


def verification_due(session: Session, incident: Incident, *, now: datetime) -> None:
    _send(
        session,
        [incident.verifier] if incident.verifier else command_center(session, incident),
        Kind.VERIFICATION,
        incident,
        "处置已反馈，请核查",
        now,
        sms=True,
    )


def callback_due(session: Session, incident: Incident, *, now: datetime) -> None:
    _send(
        session, command_center(session, incident, [Role.HOTLINE]), Kind.CALLBACK_DUE, incident, "核查通过，请回访", now
    )


def rework(session: Session, incident: Incident, *, now: datetime) -> None:
    _send(session, responsible(session, incident), Kind.ASSIGNMENT, incident, "回访不满意，返工", now, sms=True)


def warning(session: Session, incident: Incident, level: str, *, now: datetime) -> None:
    """黄牌/红牌: the responsible person and their head (the command center while nobody owns it)."""
    who = responsible(session, incident) if incident.department_code else command_center(session, incident)
    kind, text = (Kind.WARNING, "即将超时（黄灯）") if level == "yellow" else (Kind.OVERDUE, "已超时（红灯）")
    _send(session, who, kind, incident, text, now, sms=level != "yellow")
