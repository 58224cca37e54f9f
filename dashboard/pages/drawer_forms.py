"""The drawer's action forms: each action the workflow offers (dispatcher.handling.workflow.may_act) with the inputs
it needs — return reason codes, a new deadline, the request a shift leader decides, partner departments, the
verifier, the callback outcome — and the one callback that turns a submitted form into an ActionRequest and runs
it through the engine as the signed-in user (errors show in the toast, naming the problem).

Every form's fields have ids {"type": "cc-f", "action": <action>, "field": <name>}; its submit button is the
drawer's {"type": "cc-act", "action": <action>} button. Actions without a form (claim, file, close, …) stay with
the drawer's generic note and its own callback (dashboard/pages/drawer.py)."""

from __future__ import annotations

import base64
import binascii
import io
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import request
from sqlalchemy import select

from dashboard.api.evidence import add_evidence
from dashboard.api.uploads import Upload, check_file
from dashboard.pages import i18n_work  # noqa: F401  (merges the forms' strings into i18n)
from dashboard.pages.components import local_time, outcome, viewer
from dashboard.pages.i18n import STRINGS, action_label, dropdown_labels, t
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Account, Principal
from dispatcher.access.roles import Role
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.errors import Invalid
from dispatcher.handling import approvals

A = Action
REASON_FORMS = {A.REQUEST_SUSPEND, A.SUPERVISE, A.UPHOLD, A.REVOKE, A.ESCALATE, A.VOID, A.REJECT, A.REFUSE}
FORM_ACTIONS = frozenset(
    REASON_FORMS
    | {A.RETURN, A.REQUEST_EXTEND, A.SUSPEND, A.EXTEND, A.DISPATCH, A.PART_DONE, A.HANDLE, A.TRANSFER}
    | {A.ASSIGN_VERIFIER, A.VERIFY, A.CALLBACK}
)
DANGER = {A.VOID, A.RETURN, A.REJECT, A.REFUSE, A.REVOKE}
PRIMARY = {A.HANDLE, A.VERIFY, A.DISPATCH, A.CALLBACK, A.PART_DONE, A.SUSPEND, A.EXTEND}


def fid(action: Action | str, field: str) -> dict:
    return {"type": "cc-f", "action": str(action), "field": field}


def _text(value) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _until(day, clock, tz: str) -> datetime | None:
    """A local date ("YYYY-MM-DD") and time ("HH:MM", default end of the working day) as an aware datetime."""
    if not _text(day):
        return None
    try:
        when = time.fromisoformat(_text(clock) or "18:00")
        return datetime.combine(date.fromisoformat(day.strip()), when, tzinfo=ZoneInfo(tz))
    except ValueError:
        raise Invalid(f"'{day} {clock or ''}' is not a date and time", field="until") from None


def _yes(value) -> bool | None:
    return {"yes": True, "no": False}.get(value) if isinstance(value, str) else None


def build_request(
    action: Action,
    fields: dict,
    *,
    tz: str,
    public_note: str | None = None,
    department: str | None = None,
    pending: dict | None = None,
) -> ActionRequest:
    """The ActionRequest of one submitted form: `fields` are its inputs by name, `pending` the request it decides."""
    reason, note = _text(fields.get("reason")), _text(fields.get("note"))
    body: dict = {"note": note, "public_note": _text(public_note)}
    if action in REASON_FORMS:
        body["reason"] = reason
    if action is A.RETURN:
        body.update(reason=reason, reason_code=fields.get("reason_code") or None)
    elif action is A.REQUEST_EXTEND:
        body.update(reason=reason, until=_until(fields.get("date"), fields.get("time"), tz))
    elif action in {A.SUSPEND, A.EXTEND, A.REFUSE}:
        body["reason"] = reason or (pending or {}).get("reason")
        body["request_id"] = (pending or {}).get("id")
        if action is A.EXTEND:
            until = _until(fields.get("date"), fields.get("time"), tz)
            body["until"] = until or (pending or {}).get("until")
    elif action is A.DISPATCH:
        partners = [p for p in (fields.get("partners") or []) if isinstance(p, str) and p != department]
        body.update(department=department or None, partners=partners, assignee=_text(fields.get("assignee")))
    elif action in {A.PART_DONE, A.HANDLE}:
        body["result"] = _text(fields.get("result"))
    elif action is A.TRANSFER:
        body["assignee"] = _text(fields.get("assignee"))
    elif action is A.ASSIGN_VERIFIER:
        body["verifier"] = _text(fields.get("verifier"))
    elif action is A.CALLBACK:
        reached = _yes(fields.get("reached"))
        body.update(reached=reached, satisfied=_yes(fields.get("satisfied")) if reached else None)
    return ActionRequest(**{k: v for k, v in body.items() if v is not None and v != []})


def form_context(session, city, incident: Incident) -> dict:
    """What the forms of one case need from the database: its pending request, grid workers who may verify."""
    waiting = approvals.pending(session, incident.id)
    path = [c for c in (incident.grid_unit, incident.grid_community, incident.grid_street) if c]
    workers = list(
        session.scalars(
            select(Account.username)
            .where(Account.role == str(Role.GRID_WORKER), Account.disabled.is_(False), Account.region_code.in_(path))
            .order_by(Account.username)
        )
    )
    return {
        "pending": waiting[0].as_dict() if waiting else None,
        "workers": workers,
        "photos": city.rules.needs_photos(incident.category_code),
        "verifier": incident.verifier,
    }


def field_label(text: str, field) -> html.Label:
    return html.Label([text, field], className="gc-fm-field", style={"display": "block", "marginTop": "4px"})


def _area(action, field: str, placeholder: str, value: str | None = None) -> dcc.Textarea:
    return dcc.Textarea(id=fid(action, field), placeholder=placeholder, value=value, className="gc-note")


def _yes_no(action, field: str, lang: str) -> dcc.RadioItems:
    return dcc.RadioItems(
        id=fid(action, field),
        options=[{"label": t("fm_yes", lang), "value": "yes"}, {"label": t("fm_no", lang), "value": "no"}],
        value=None,
        inline=True,
        className="gc-fm-radio",
    )


def _deadline(action, lang: str) -> list:
    return [
        field_label(t("fm_until_date", lang), dcc.Input(id=fid(action, "date"), type="date", className="gc-fm-date")),
        field_label(t("fm_until_time", lang), dcc.Input(id=fid(action, "time"), type="time", value="18:00")),
    ]


def _pending_box(pending: dict | None, lang: str, tz: str) -> html.Div:
    if not pending:
        return html.Div(t("fm_no_pending", lang), className="gc-hint")
    kind = t(f"fm_kind_{pending['kind']}", lang)
    lines = [html.Div(t("fm_pending_line", lang, who=pending["requested_by"], kind=kind, why=pending["reason"]))]
    if pending.get("until"):
        lines.append(html.Div(t("fm_pending_until", lang, until=local_time(pending["until"], tz))))
    return html.Div([html.B(t("fm_pending", lang)), *lines], className="gc-fm-pending")


def fields_of(action: Action, view: dict, lang: str) -> list:
    """The inputs of one action's form."""
    rt = current_runtime()
    tz, forms = rt.settings.timezone, view.get("forms") or {}
    reason = _area(action, "reason", t("fm_reason", lang))
    if action is A.RETURN:
        options = [
            {"label": (r.name_zh if lang == "zh" else r.name_en) + (" 📎" if r.evidence else ""), "value": r.code}
            for r in rt.city.rules.return_reasons.values()
        ]
        picker = dcc.Dropdown(
            labels=dropdown_labels(lang),
            id=fid(action, "reason_code"),
            options=options,
            clearable=False,
            className="gc-dd",
        )
        return [
            field_label(t("fm_reason_code", lang), picker),
            reason,
            html.Div(t("fm_evidence_hint", lang), className="gc-hint"),
        ]
    if action is A.REQUEST_EXTEND:
        return [*_deadline(action, lang), reason]
    if action in {A.SUSPEND, A.EXTEND, A.REFUSE}:
        pending = forms.get("pending")
        parts = [_pending_box(pending, lang, tz)]
        if action is A.EXTEND:
            parts += _deadline(action, lang)
        default = None if action is A.REFUSE else (pending or {}).get("reason")
        return [*parts, _area(action, "reason", t("fm_reason", lang), default)]
    if action in REASON_FORMS:
        return [reason]
    if action is A.HANDLE and forms.get("photos"):  # before/after photos first (stage 'handle'), then the result
        hint = html.Div(t("fm_photos_hint", lang), className="gc-hint")
        return [hint, *[_photo(kind, lang) for kind in PHOTO_KINDS], _area(action, "result", t("fm_result", lang))]
    if action in {A.HANDLE, A.PART_DONE}:
        return [_area(action, "result", t("fm_result", lang))]
    if action is A.TRANSFER:
        return [field_label(t("fm_assignee", lang), dcc.Input(id=fid(action, "assignee"), className="gc-fm-input"))]
    if action is A.ASSIGN_VERIFIER:
        workers = forms.get("workers") or []
        picker = dcc.Dropdown(
            labels=dropdown_labels(lang),
            id=fid(action, "verifier"),
            options=[{"label": w, "value": w} for w in workers],
            value=forms.get("verifier") or (workers[0] if workers else None),
            clearable=False,
            className="gc-dd",
        )
        return [field_label(t("fm_verifier", lang), picker)]
    if action is A.VERIFY:
        return [_area(action, "note", t("fm_note", lang))]
    if action is A.CALLBACK:
        return [
            field_label(t("fm_reached", lang), _yes_no(action, "reached", lang)),
            field_label(t("fm_satisfied", lang), _yes_no(action, "satisfied", lang)),
            _area(action, "note", t("fm_note", lang)),
        ]
    return []


PHOTO_KINDS = ("before", "after")  # the parts of POST /incidents/{id}/media feedback on photo-bound categories needs


def _photo(kind: str, lang: str) -> dcc.Upload:
    """A drop zone adding one photo of this kind (处置前 / 处置后) at stage 'handle' at once."""
    return dcc.Upload(
        id=f"cc-ev-{kind}",
        children=html.Div(t(f"fm_photo_{kind}", lang)),
        accept="image/jpeg,image/png,image/webp",
        className="gc-hint gc-fm-photo",
        style={"border": "1px dashed", "borderRadius": "4px", "padding": "6px", "margin": "4px 0"},
    )


def photo_upload(contents: str, name: str | None, kind: str, max_bytes: int) -> Upload:
    """A dropped photo (a data: URL) checked as the API checks its `before` / `after` part."""
    header, _, payload = (contents or "").partition(",")
    declared = header.removeprefix("data:").split(";")[0] or None
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(f"file {name or kind} could not be read", field=kind) from None
    return check_file(kind, io.BytesIO(data), name, declared, max_bytes)


def submit_button(action: Action | str, lang: str, disabled: bool = False) -> html.Button:
    action = Action(action)
    kind = " gc-btn-danger" if action in DANGER else " gc-btn-primary" if action in PRIMARY else ""
    return html.Button(
        action_label(str(action), lang),
        id={"type": "cc-act", "action": str(action)},
        n_clicks=0,
        disabled=disabled,
        className="gc-btn" + kind,
        **{"data-action": str(action)},  # the desk's keys (F, D) press these
    )


def form(action: Action, view: dict, lang: str) -> html.Details:
    """One action as a folded form: its label, its inputs and its submit button."""
    disabled = action is A.REFUSE and not (view.get("forms") or {}).get("pending")
    return html.Details(
        [
            html.Summary(action_label(str(action), lang), className="gc-fm-sum", id=f"cc-fm-{action}"),
            html.Div([*fields_of(action, view, lang), submit_button(action, lang, disabled)], className="gc-fm-body"),
        ],
        className=f"gc-fm gc-fm-{action}",
        open=action in {A.HANDLE, A.VERIFY, A.CALLBACK},  # the step each of them is here for
    )


STRINGS.update(
    {
        "rec_assigned": ("已派给此人", "Assigned"),
        "rec_current": ("当前处置人：{name}", "Currently assigned: {name}"),
        "rec_pick_department": ("先选择派遣部门", "Choose a department first"),
        "rec_none_in_department": ("该部门暂无可派人员", "No officer of this department is available"),
        "rec_load": ("在办 {n}", "{n} open"),
    }
)


def perform(principal: Principal, incident_id: str, action: Action, req: ActionRequest):
    """Run one action through the engine as the signed-in user (one unit of work, then the relay)."""
    rt = current_runtime()
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        incident = rt.act(uow, incident_id, action, req, principal=principal, now=now)
    return incident.status


def _pending_of(incident_id: str) -> dict | None:
    with current_runtime().sessions() as session:
        waiting = approvals.pending(session, incident_id)
        return waiting[0].as_dict() if waiting else None


def register(app: dash.Dash) -> None:
    """A form's submit button runs its action (the drawer's own callback leaves these actions alone)."""

    @app.callback(
        Output("cc-toast", "children", allow_duplicate=True),
        Output("cc-act-result", "data", allow_duplicate=True),
        Input({"type": "cc-act", "action": ALL}, "n_clicks"),
        State({"type": "cc-f", "action": ALL, "field": ALL}, "value"),
        State("cc-selected", "data"),
        State("cc-act-public", "value"),
        State("cc-dispatch-dept", "value"),
        State("cc-act-result", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def submit(_clicks, _values, incident_id, public_note, department, count, lang):
        trigger = ctx.triggered_id
        if not incident_id or not isinstance(incident_id, str) or not isinstance(trigger, dict):
            return no_update, no_update
        if not ctx.triggered or not ctx.triggered[0]["value"] or trigger.get("action") not in FORM_ACTIONS:
            return no_update, no_update
        action = Action(trigger["action"])
        fields = {
            s["id"]["field"]: s.get("value")
            for s in (ctx.states_list[0] if ctx.states_list else [])
            if isinstance(s.get("id"), dict) and s["id"].get("action") == str(action)
        }
        principal = viewer()

        def step() -> str:
            pending = _pending_of(incident_id) if action in {A.SUSPEND, A.EXTEND, A.REFUSE} else None
            req = build_request(
                action,
                fields,
                tz=current_runtime().settings.timezone,
                public_note=public_note,
                department=department,
                pending=pending,
            )
            perform(principal, incident_id, action, req)
            return t("done", lang, action=action_label(str(action), lang))

        return outcome(step, lang, count)

    @app.callback(
        Output("cc-toast", "children", allow_duplicate=True),
        Output("cc-act-result", "data", allow_duplicate=True),
        Input("cc-ev-before", "contents"),
        Input("cc-ev-after", "contents"),
        State("cc-ev-before", "filename"),
        State("cc-ev-after", "filename"),
        State("cc-selected", "data"),
        State("cc-act-result", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def photo(before, after, before_name, after_name, incident_id, count, lang):
        """A before or after photo dropped in the feedback form is evidence of stage 'handle' at once."""
        kind = "before" if ctx.triggered_id == "cc-ev-before" else "after"
        contents, name = (before, before_name) if kind == "before" else (after, after_name)
        if not contents or not isinstance(contents, str) or not incident_id or not isinstance(incident_id, str):
            return no_update, no_update

        def step() -> str:
            upload = photo_upload(contents, name, kind, current_runtime().settings.max_media_bytes)
            add_evidence(viewer(), incident_id, [upload], stage="handle", note=None)
            return t("ev_added", lang, n=1)

        return outcome(step, lang, count)
