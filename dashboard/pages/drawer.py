"""The command center's incident drawer: details, timeline, stage clock, and the actions the status allows."""

from __future__ import annotations

from datetime import timedelta

import dash
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update
from flask import request

from dashboard.pages import drawer_dispatch, drawer_forms, drawer_media, drawer_presence
from dashboard.pages.components import Explained, ago, light_dot, local_time, outcome, status_badge, viewer
from dashboard.pages.i18n import action_label, stage_label, t
from dashboard.pages.i18n_reasons import channel_label, why_text
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.actions import get_incident
from dispatcher.cases.commands import ActionRequest
from dispatcher.cases.incident import Incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import may_act as scope_may_act
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import ConcurrentUpdate, EngineError
from dispatcher.handling.workflow import may_act

NEEDS_REASON = {
    Action.RETURN,
    Action.ESCALATE,
    Action.SUSPEND,
    Action.VOID,
    Action.REJECT,
    Action.TRIAGE,
    Action.EXTEND,
}


def empty(lang: str) -> html.Div:
    return html.Div(
        [
            html.Div(t("drawer_title", lang), className="gc-d-title"),
            html.Div(t("grid_hint", lang), className="gc-hint"),
        ],
        className="gc-d-empty",
    )


def action_request(
    action: Action,
    text: str | None,
    department: str | None,
    assignee: str | None,
    deadline,
    public_note: str | None = None,
) -> ActionRequest:
    """The parameters an action needs, from the drawer's text boxes, department and officer choice."""
    text = (text or "").strip() or None
    fields: dict = {"note": text}
    if action in NEEDS_REASON:
        fields = {"reason": text}
    if action is Action.HANDLE:
        fields = {"result": text}
    if action is Action.TRANSFER:
        fields = {"assignee": assignee or text}
    if action is Action.DISPATCH:
        fields.update(department=department or None, assignee=assignee)
    if action is Action.EXTEND and deadline is not None:
        fields["until"] = deadline + timedelta(days=1)
    fields["public_note"] = (public_note or "").strip() or None  # shown on Open311; the note above never is
    return ActionRequest(**{k: v for k, v in fields.items() if v is not None})


def perform(
    principal: Principal,
    incident_id: str,
    action: Action,
    text: str | None,
    department: str | None,
    assignee: str | None,
    public_note: str | None = None,
    version: int | None = None,
):
    """Run one action through the engine exactly as the REST API does (one unit of work, then the relay),
    as the signed-in user: the engine checks the role's permission and the incident's scope, and refuses when
    the case changed since the `version` the drawer showed (dispatcher.errors.ConcurrentUpdate)."""
    rt = current_runtime()
    with rt.working_for(principal, request.remote_addr) as (uow, now):
        current = get_incident(uow, incident_id, principal=principal)
        req = action_request(action, text, department, assignee, current.stage_deadline, public_note)
        req = req.model_copy(update={"expected_version": version})
        incident = rt.act(uow, incident_id, action, req, principal=principal, now=now)
    return incident.status


def allowed_actions(view: dict, principal: Principal, incident: Incident, city=None) -> list[str]:
    """The actions the status allows that this person may take on this case (dispatcher.handling.workflow.may_act:
    the engine's scope rule — a region lets you see a case, acting needs it dispatched to your department or
    assigned to you; a leader only flags 督办 — and the closing path of data/handling.yaml)."""
    offered = []
    for name in view["allowed_actions"]:
        action = Action(name)
        if action in {Action.CLOSE, Action.ARCHIVE}:  # only these depend on the city's closing path
            ok = may_act(city or current_runtime().city, principal, action, incident)
        else:
            ok = scope_may_act(principal, action, incident)
        if ok:
            offered.append(name)
    return offered


def _kv(label: str, value) -> html.Div:
    return html.Div([html.Span(label), html.Div(value)], className="gc-kv")


def loop_facts(view: dict, lang: str, tz: str) -> list:
    """After dispatch: the total deadline (总时限), partner departments and their part, the verifier, the callback
    requirement and outcome, the supervision flag."""
    departments = current_runtime().city.catalogue.departments

    def dept(code: str) -> str:
        d = departments.get(code)
        return (d.name_zh if lang == "zh" else d.name_en) if d else code

    partners = [
        html.Div(
            f"{dept(p['department_code'])} · "
            + (t("part_done_at", lang, at=local_time(p["done_at"], tz)) if p.get("done_at") else t("part_open", lang)),
            className="gc-part-done" if p.get("done_at") else "gc-part-open",
        )
        for p in view.get("partners") or []
    ]
    callback = view.get("callback") or {}
    if not callback.get("required"):
        called = t("cb_none", lang)
    else:
        why = t(f"cb_reason_{callback.get('reason')}", lang) if callback.get("reason") else "—"
        outcome = t(f"cb_{callback['outcome']}", lang) if callback.get("outcome") else t("cb_pending", lang)
        called = f"{t('cb_required', lang, why=why)} · {outcome}"
    supervised = view.get("supervised")
    rows = [
        _kv(t("f_total_deadline", lang), local_time(view.get("total_deadline"), tz)),
        _kv(t("f_partners", lang), partners) if partners else None,
        _kv(t("f_verifier", lang), view.get("verifier") or "—"),
        _kv(t("f_callback", lang), called),
    ]
    if supervised:
        flag = t("sup_by", lang, by=supervised.get("by") or "—", at=local_time(supervised.get("at"), tz))
        rows.append(_kv(t("f_supervised", lang), html.Span(flag, className="gc-tag-late")))
    return [r for r in rows if r is not None]


def details(view: dict, timeline: list[dict], lang: str) -> list:
    """Incident facts, stage clock and timeline."""
    rt = current_runtime()
    now, tz, city = rt.clock(), rt.settings.timezone, rt.city
    category = city.catalogue.find_category(view["category_code"]) if view["category_code"] else None
    cname = (category.name_zh if lang == "zh" else category.name_en) if category else (view["category_code"] or "—")
    grid = view["grid"]
    names = [city.grids.find(grid[k]) for k in ("street", "community", "unit") if grid.get(k)]
    place = " / ".join(g.name if lang == "zh" else g.properties.get("name_en", g.name) for g in names if g)
    department = city.catalogue.departments.get(view["department_code"]) if view["department_code"] else None
    dname = (department.name_zh if lang == "zh" else department.name_en) if department else "—"
    location = view.get("location")
    where = place or "—"
    if location:
        where = [html.Div(where), html.Small(f"{location['lon']:.5f}, {location['lat']:.5f}")]
    head = html.Div(
        [
            html.Div(
                [
                    html.Span(cname, className="gc-d-title"),
                    status_badge(view["status"], lang),
                    html.Span(t("overdue_flag", lang), className="gc-tag-late gc-pulse") if view["overdue"] else None,
                ],
                className="gc-d-head",
            ),
            html.Div(
                [html.Code(view.get("case_number") or view["id"][:8]), html.Span(channel_label(view["channel"], lang))],
                className="gc-d-id",
            ),
            html.Button("×", id="cc-drawer-close", className="gc-d-close", title=t("close", lang)),
        ]
    )
    clock = html.Div(
        [
            html.Div([html.Span(t("f_stage", lang)), html.B(stage_label(view["stage"], lang))]),
            html.Div([html.Span(t("f_deadline", lang)), html.B(local_time(view["stage_deadline"], tz))]),
            light_dot(view["light"], lang),
        ],
        className=f"gc-d-clock gc-d-clock-{view['light'] or 'none'}",
    )
    facts = [
        _kv(
            t("f_urgency", lang),
            html.Span(t(f"urgency_{view['urgency']}", lang), className=f"gc-urgtxt-{view['urgency']}"),
        ),
        _kv(t("f_location", lang), where),
        _kv(t("f_department", lang), dname),
        _kv(t("f_assignee", lang), view.get("assignee_label") or view["assignee"] or "—"),
        _kv(t("f_reported", lang), f"{local_time(view['created_at'], tz)} · {ago(view['created_at'], now, lang)}"),
        _kv(t("f_routing", lang), html.Small(why_text(view, lang))),
        *loop_facts(view, lang, tz),
    ]
    steps = [
        html.Li(
            [
                html.Div(
                    [
                        html.B(action_label(e["action"], lang)),
                        html.Span(e["actor"]),
                        html.Time(local_time(e["at"], tz)),
                    ],
                    className="gc-tl-h",
                ),
                html.Div(e["note"], className="gc-tl-note") if e.get("note") else None,
            ],
            className=f"gc-tl-{e['action']}",
        )
        for e in reversed(timeline)
    ]
    return [
        head,
        html.P(view["description"], className="gc-d-desc"),
        clock,
        html.Div(facts, className="gc-facts"),
        *drawer_media.media_section(view["id"], lang),
        html.Div(t("timeline", lang), className="gc-sec"),
        html.Ol(steps, className="gc-timeline"),
    ]


def actions(view: dict, lang: str) -> list:
    """The allowed actions: a form for each one that needs inputs (dashboard/pages/drawer_forms.py), dispatch with
    the nearest officers, and a row of plain buttons sharing one note for the rest.

    `view["allowed_actions"]` must already be narrowed to the person's actions (see `allowed_actions`).
    """
    offered = [Action(a) for a in view["allowed_actions"]]
    if not offered:  # the inputs the action callbacks read stay in the layout (hidden), so they never go missing
        hidden = [
            dcc.Input(id=i, type="hidden", value=None) for i in ("cc-act-public", "cc-act-note", "cc-dispatch-dept")
        ]
        return [
            html.Div(t("actions", lang), className="gc-sec"),
            html.Div(t("no_actions", lang), className="gc-hint"),
        ] + hidden
    parts = [
        html.Div(t("actions", lang), className="gc-sec"),
        dcc.Textarea(id="cc-act-public", placeholder=t("public_note_placeholder", lang), className="gc-note"),
    ]
    if Action.DISPATCH in offered:
        parts.append(drawer_dispatch.dispatch_form(view, lang, drawer_dispatch.recommendations(view["id"])))
    else:
        parts.append(dcc.Input(id="cc-dispatch-dept", type="hidden", value=None))
    parts += [
        drawer_forms.form(a, view, lang) for a in offered if a in drawer_forms.FORM_ACTIONS and a is not Action.DISPATCH
    ]
    simple = [a for a in offered if a not in drawer_forms.FORM_ACTIONS]
    parts += [
        html.Div(t("fm_simple", lang), className="gc-sec") if simple and len(simple) < len(offered) else None,
        dcc.Textarea(id="cc-act-note", placeholder=t("note_placeholder", lang), className="gc-note"),
        html.Div([drawer_forms.submit_button(a, lang) for a in simple], className="gc-actions"),
    ]
    return parts


def panel(lang: str) -> html.Aside:
    """The drawer itself (empty until a case is selected), the same on every page that opens cases."""
    return html.Aside(
        [
            html.Div(id="cc-presence", className="gc-presence"),
            html.Div(empty(lang), id="cc-drawer-body"),
            html.Div(id="cc-drawer-actions"),
            html.Div(id="cc-toast", className="gc-toast"),
            dcc.Store(id="cc-presence-case"),
            dcc.Interval(id="cc-presence-tick", interval=drawer_presence.HEARTBEAT_MS),
        ],
        id="cc-drawer",
        className="gc-drawer",
    )


def register(app: dash.Dash) -> None:
    """The drawer's callbacks: render on selection or change; perform an action."""
    drawer_media.register(app)
    drawer_forms.register(app)
    drawer_presence.register(app)

    @app.callback(
        Output("cc-drawer-body", "children"),
        Output("cc-drawer-actions", "children"),
        Output("cc-drawer-ver", "data"),
        Output("cc-drawer", "className"),
        Output("cc-drawer", "data-incident"),
        Input("cc-selected", "data"),
        Input("cc-seq", "data"),
        State("cc-drawer-ver", "data"),
        State("gc-lang", "data"),
    )
    def render(incident_id, _seq, shown, lang):
        """Details are refreshed on every change; the action area only when the incident's version moved."""
        if not incident_id or not isinstance(incident_id, str):
            return empty(lang), [], None, "gc-drawer", ""
        from dashboard.api.incidents import present
        from dashboard.api.officers import assignee_label

        principal = viewer()
        rt = current_runtime()
        try:
            with UnitOfWork(rt.sessions) as uow:
                incident = get_incident(uow, incident_id, principal=principal)  # NotFound outside the scope
                view = present(incident, rt.clock())
                timeline = [e.as_dict() for e in incident.timeline]
                view["allowed_actions"] = allowed_actions(view, principal, incident, rt.city)
                view["forms"] = drawer_forms.form_context(uow.session, rt.city, incident)
                view["assignee_label"] = assignee_label(uow.session, incident.assignee)  # "李强 (ZF00403)"
        except EngineError as exc:
            return html.Div(exc.message, className="gc-hint"), [], None, "gc-drawer", ""
        version = f"{incident_id}:{view['version']}"
        buttons = actions(view, lang) if version != shown else no_update
        return details(view, timeline, lang), buttons, version, "gc-drawer gc-drawer-open", incident_id

    @app.callback(
        Output({"type": "cc-recs", "incident": ALL}, "children"),
        Input("cc-dispatch-dept", "value"),
        State("cc-selected", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def follow_department(department, incident_id, lang):
        """The recommended officers follow the dispatch form's department dropdown."""
        shown = ctx.outputs_list or []
        if not shown or not incident_id or not isinstance(incident_id, str):
            return [no_update for _ in shown]
        department = department if isinstance(department, str) and department else None
        rows = drawer_dispatch.recommendation_rows(
            drawer_dispatch.recommendations(incident_id, department), lang, department
        )
        return [rows if o["id"].get("incident") == incident_id else no_update for o in shown]

    @app.callback(
        Output("cc-selected", "data", allow_duplicate=True),
        Input("cc-drawer-close", "n_clicks"),
        prevent_initial_call=True,
    )
    def close(n):
        return None if n else no_update

    @app.callback(
        Output("cc-toast", "children"),
        Output("cc-act-result", "data"),
        Input({"type": "cc-act", "action": ALL}, "n_clicks"),
        Input({"type": "cc-rec", "officer": ALL}, "n_clicks"),
        State("cc-selected", "data"),
        State("cc-act-note", "value"),
        State("cc-act-public", "value"),
        State("cc-dispatch-dept", "value"),
        State("cc-act-result", "data"),
        State("cc-drawer-ver", "data"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def act(_acts, _recs, incident_id, text, public_note, department, count, shown, lang):
        """A button press performs the action through the engine; the outcome shows as a toast."""
        if (
            not incident_id
            or not isinstance(incident_id, str)
            or not isinstance(ctx.triggered_id, dict)
            or not ctx.triggered[0]["value"]
        ):
            return no_update, no_update
        principal = viewer()
        if ctx.triggered_id["type"] == "cc-rec":
            action, assignee = Action.DISPATCH, ctx.triggered_id["officer"]
        else:
            try:
                action, assignee = Action(ctx.triggered_id["action"]), None
            except ValueError:
                return no_update, no_update
            if action in drawer_forms.FORM_ACTIONS:  # a form's submit: drawer_forms.register handles it
                return no_update, no_update

        def step() -> str:
            try:
                perform(principal, incident_id, action, text, department, assignee, public_note, shown_version(shown))
            except ConcurrentUpdate as exc:  # someone acted first: say who did what, when
                raise Explained(drawer_presence.acted_first(incident_id, lang)) from exc
            return t("done", lang, action=action_label(str(action), lang))

        return outcome(step, lang, count)


def shown_version(shown: str | None) -> int | None:
    """The incident version the drawer's buttons were drawn for ("<id>:<version>")."""
    tail = (shown or "").rpartition(":")[2]
    return int(tail) if tail.isdigit() else None
