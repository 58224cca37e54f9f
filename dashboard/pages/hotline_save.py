"""Saving a call (or clearing the form): the incident is created through the engine as the signed-in user, the
outcome is one typed value, and small functions turn it into the status line and the form for the next call."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, NamedTuple

from dash import html, no_update
from flask import request

from dashboard.pages import i18n_address  # noqa: F401  (the console's address strings)
from dashboard.pages.hotline_callers import history_hint
from dashboard.pages.hotline_duplicates import call_text, suggestions
from dashboard.pages.hotline_form import CallForm, allowed, build_command
from dashboard.pages.i18n import DEFAULT_LANG, t
from dashboard.pages.intake_widgets import forbidden
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal, check_report
from dispatcher.cases.actions import get_incident
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.lifecycle import Action
from dispatcher.errors import EngineError
from dispatcher.intake.commands import CreateIncident
from dispatcher.intake.reports import create_incident


class Kind(StrEnum):
    FORBIDDEN = "forbidden"  # the role takes no calls
    CLEARED = "cleared"  # 清空: the form is emptied, nothing saved
    IGNORED = "ignored"  # no press
    ANSWERED = "answered"  # a consultation or harassment call: noted, no case
    INCOMPLETE = "incomplete"  # a description or a place is missing
    FAILED = "failed"  # the engine (or a field's validation) refused
    SAVED = "saved"  # the incident exists


class Outcome(NamedTuple):
    """What a press of save (or clear) came to."""

    kind: Kind
    detail: str = ""  # ANSWERED: the call nature; INCOMPLETE: the message key; FAILED: the reason
    incident_id: str | None = None  # SAVED: the new case
    merged_into: str | None = None  # SAVED: the case number (案件编号) of the case it was merged into, if any
    number: str | None = None  # SAVED: the new case's number, read to the caller
    unplaced: bool = False  # SAVED without a location: in triage as no_location


COUNTED = {Kind.ANSWERED, Kind.SAVED}  # a call dealt with: the saved counter moves on
RESETS = {Kind.CLEARED, Kind.ANSWERED, Kind.SAVED}  # the form is emptied for the next call


def save_call(principal: Principal, cmd: CreateIncident, merge_into: str | None) -> tuple[str, str, str | None]:
    """Create the incident as the signed-in user (one unit of work, then the relay); merge it into a suggested
    case in the same transaction when asked (a parent must be one of the suggestions computed again here).
    Returns (new id, its case number, the parent's case number or None)."""
    rt = current_runtime()
    check_report(principal)
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        parent = None
        if merge_into:
            parent = get_incident(uow, merge_into, principal=principal)  # NotFound outside the scope
            point = None if cmd.lon is None else (cmd.lon, cmd.lat)
            text = call_text(cmd.address, cmd.description)
            found = suggestions(uow.session, principal, cmd.category_code, point, cmd.reporter_phone, text=text)
            if parent.id not in {s.incident.id for s in found}:
                raise EngineError(f"incident {merge_into} is not a suggested duplicate of this call")
        incident = create_incident(uow, rt.city, cmd, actor=principal.username, now=now)
        uow.session.flush()
        if parent is not None:
            merge = ActionRequest(parent_id=parent.id)
            rt.act(uow, incident.id, Action.MERGE, merge, principal=principal, now=now)
    return incident.id, incident.label, (parent.label if parent is not None else None)


def _validation_detail(exc: ValueError) -> str:
    """The line of a pydantic error that names the problem."""
    lines = str(exc).splitlines()
    return lines[2].strip() if len(lines) > 2 else lines[0]


def submit(principal: Principal, form: CallForm, *, pressed: bool, cleared: bool) -> Outcome:
    """Save the call of the form (or clear it), checking the role, what a case needs and the merge choice."""
    if not allowed(principal):
        return Outcome(Kind.FORBIDDEN)
    if cleared:
        return Outcome(Kind.CLEARED)
    if not pressed:
        return Outcome(Kind.IGNORED)
    if form.answered_only:
        return Outcome(Kind.ANSWERED, form.nature)
    if form.missing:
        return Outcome(Kind.INCOMPLETE, form.missing)
    try:
        new_id, number, merged = save_call(principal, build_command(form), form.merge_into)
    except EngineError as exc:
        return Outcome(Kind.FAILED, exc.message)
    except ValueError as exc:  # pydantic: a malformed field
        return Outcome(Kind.FAILED, _validation_detail(exc))
    return Outcome(Kind.SAVED, incident_id=new_id, merged_into=merged, number=number, unplaced=form.point is None)


# ---------------------------------------------------------------- rendering


def status_line(outcome: Outcome, lang: str):
    """The result line under the buttons."""
    match outcome.kind:
        case Kind.FORBIDDEN:
            return forbidden(lang, "hotline", "hl")
        case Kind.CLEARED:
            return ""
        case Kind.IGNORED:
            return no_update
        case Kind.ANSWERED:
            text = t("hl_answered", lang, nature=t(f"hl_nature_{outcome.detail}", lang))
            return html.Div(text, className="gc-toast-ok", id="hl-answered")
        case Kind.INCOMPLETE:
            return html.Div(t(outcome.detail, lang), className="gc-toast-err")
        case Kind.FAILED:
            return html.Div(t("failed", lang, message=outcome.detail), className="gc-toast-err")
    return saved_line(outcome, lang)


def saved_line(outcome: Outcome, lang: str) -> html.Div:
    """ "Saved: case …" with the case number to read to the caller (the browser reads the id from #hl-new-id)."""
    merged = outcome.merged_into
    text = t("hl_saved_merged", lang, parent=merged) if merged else t("hl_saved", lang)
    shown = outcome.number or outcome.incident_id
    link = html.A(t("hl_open_case", lang), href=f"/work?incident={outcome.incident_id}", id="hl-open-case")
    unplaced = html.Div(t("hl_no_location", lang), className="gc-hint") if outcome.unplaced else None
    return html.Div(
        [html.Span(text), html.Code(shown, id="hl-new-id", **{"data-id": outcome.incident_id}), link, unplaced],
        className="gc-toast-ok gc-hl-saved",
    )


def next_call_form(lang: str) -> dict[tuple[str, str], Any]:
    """Every control the save empties, with its value for the next call."""
    return {
        ("hl-phone", "value"): "",
        ("hl-caller-name", "value"): "",
        ("hl-cb-name", "value"): "",
        ("hl-cb-phone", "value"): "",
        ("hl-nature", "value"): "callback",
        ("hl-category", "value"): None,
        ("hl-address", "value"): "",
        ("hl-addr-list", "children"): [],
        ("hl-addr-picked", "data"): None,
        ("hl-desc", "value"): "",
        ("hl-urgency", "value"): "0",
        ("hl-loc", "data"): None,
        ("hl-pin", "children"): [],
        ("hl-grid", "children"): [],
        ("hl-parent", "data"): None,
        ("hl-merge-note", "children"): "",
        ("hl-history", "children"): history_hint(lang),
    }


RESET_CONTROLS = tuple(next_call_form(DEFAULT_LANG))  # (id, property) in the order of the save callback's outputs


def outputs(outcome: Outcome, saved: int | None, lang: str) -> tuple:
    """The save callback's outputs: status line, saved counter, then every control of RESET_CONTROLS."""
    counter = (saved or 0) + 1 if outcome.kind in COUNTED else no_update
    form = list(next_call_form(lang).values()) if outcome.kind in RESETS else [no_update] * len(RESET_CONTROLS)
    return (status_line(outcome, lang), counter, *form)
