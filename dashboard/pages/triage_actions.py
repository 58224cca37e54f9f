"""Sorting out a report on the triage page: file it (with a corrected category and/or point), void it (with a
reason) or merge it into one of its candidates, through dispatcher.cases.actions.perform_action as the signed-in
user; the outcome is one typed value rendered by small functions."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from dash import html, no_update
from flask import request

from dashboard.pages.i18n import action_label, t
from dashboard.pages.i18n_errors import error_text
from dashboard.pages.intake_widgets import forbidden, stored_point
from dashboard.pages.triage_views import allowed, find_item
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.actions import get_incident
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import EngineError

VOID, FILE = "tr-void", "tr-file"  # the buttons; a merge button is {"type": "tr-merge", "index": parent id}


class Kind(StrEnum):
    FORBIDDEN = "forbidden"
    IGNORED = "ignored"  # no real click
    UNPICKED = "unpicked"  # no report selected
    NEED_REASON = "need_reason"  # void without a reason
    FAILED = "failed"
    DONE = "done"


class Outcome(NamedTuple):
    """What a triage button came to."""

    kind: Kind
    detail: str = ""  # FAILED: the engine's own (English) text, for logs
    action: Action | None = None  # DONE: what was done
    incident_id: str | None = None  # DONE: to which report
    label: str | None = None  # DONE: its case number
    error: Exception | None = None  # FAILED: what went wrong, rendered in the page's language


class MissingReason(Exception):
    """Voiding needs a reason."""


def merge_request(principal: Principal, incident_id: str, parent) -> ActionRequest:
    """Merge into `parent`, which must be one of the candidates the server computes again."""
    with current_runtime().sessions() as session:
        item = find_item(session, principal, incident_id)
        ids = {s.incident.id for s in item.candidates} if item is not None else set()
    if parent not in ids:
        raise EngineError(f"incident {parent} is not a duplicate candidate of {incident_id}")
    return ActionRequest(parent_id=parent)


def file_request(principal: Principal, incident_id: str, category, loc) -> ActionRequest:
    """File with the corrections: a category other than the current one, and the clicked point."""
    with UnitOfWork(current_runtime().sessions) as uow:
        current = get_incident(uow, incident_id, principal=principal)  # NotFound outside the scope
        changed = isinstance(category, str) and category and category != current.category_code
    fields = {"category_code": category} if changed else {}
    point = stored_point(loc)
    if point is not None:
        fields["lon"], fields["lat"] = point
    return ActionRequest(**fields)


def void_request(reason) -> ActionRequest:
    """Void with the typed reason."""
    req = ActionRequest(reason=(reason or "").strip() or None)
    if req.reason is None:
        raise MissingReason
    return req


def chosen(principal: Principal, incident_id: str, trigger, category, loc, reason) -> tuple[Action, ActionRequest]:
    """The action of the pressed button and its request."""
    if isinstance(trigger, dict):
        return Action.MERGE, merge_request(principal, incident_id, trigger.get("index"))
    if trigger == VOID:
        return Action.VOID, void_request(reason)
    return Action.FILE, file_request(principal, incident_id, category, loc)


def run(principal: Principal, incident_id: str, action: Action, req: ActionRequest) -> str:
    """Perform the action as the signed-in user (one unit of work, then the relay); the case's number."""
    rt = current_runtime()
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        incident = rt.act(uow, incident_id, action, req, principal=principal, now=now)
    return incident.label


def act(principal: Principal, incident_id, trigger, *, clicked: bool, category, loc, reason) -> Outcome:
    """Do what the pressed button asks for the selected report."""
    if not allowed(principal):
        return Outcome(Kind.FORBIDDEN)
    if not clicked:
        return Outcome(Kind.IGNORED)
    if not isinstance(incident_id, str):
        return Outcome(Kind.UNPICKED)
    try:
        action, req = chosen(principal, incident_id, trigger, category, loc, reason)
        label = run(principal, incident_id, action, req)
    except MissingReason:
        return Outcome(Kind.NEED_REASON)
    except EngineError as exc:
        return Outcome(Kind.FAILED, exc.message, incident_id=incident_id, error=exc)
    except ValueError as exc:  # pydantic: a malformed field
        return Outcome(Kind.FAILED, str(exc).splitlines()[0], incident_id=incident_id, error=exc)
    return Outcome(Kind.DONE, action=action, incident_id=incident_id, label=label)


def toast(outcome: Outcome, lang: str):
    """The message under the editor."""
    match outcome.kind:
        case Kind.FORBIDDEN:
            return forbidden(lang, "triage", "tr")
        case Kind.IGNORED:
            return no_update
        case Kind.UNPICKED:
            return html.Div(t("tr_pick", lang), className="gc-toast-err")
        case Kind.NEED_REASON:
            return html.Div(t("tr_need_reason", lang), className="gc-toast-err")
        case Kind.FAILED:
            message = error_text(outcome.error, lang) if outcome.error is not None else outcome.detail
            return html.Div(t("failed", lang, message=message), className="gc-toast-err")
    return html.Div(
        [
            html.Span(t("done", lang, action=action_label(str(outcome.action), lang))),
            html.Code(outcome.label or outcome.incident_id),
        ],
        className="gc-toast-ok",
        id="tr-ok",
        **{"data-id": outcome.incident_id},
    )


def outputs(outcome: Outcome, done: int | None, lang: str) -> tuple:
    """The action callback's outputs: the toast, the done counter, the selection (cleared once done)."""
    if outcome.kind is Kind.DONE:
        return toast(outcome, lang), (done or 0) + 1, None
    return toast(outcome, lang), no_update, no_update
