"""The auditor's page (/audit): search the audit trail, newest first, page by page, and verify its keyed chain.

Only the auditor role sees anything: the layout and every callback check `current_principal()` and
answer with a "forbidden" notice (and no records) otherwise, so a replayed callback reveals nothing.
Times are shown and filtered in UTC, as they are recorded. Running "verify" is itself audited.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import dash
from dash import Input, Output, State, dcc, html, no_update
from flask import has_request_context, request

from dashboard.auth import current_principal
from dashboard.pages.components import title_bar
from dashboard.pages.i18n import STRINGS, lang_of, role_label, t
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.access.audit_verify import verify as verify_trail

PAGE_SIZE = 50
RESULTS = ("ok", "denied", "failed")
COLUMNS = ("id", "at", "actor", "role", "ip", "action", "target", "result", "detail")


def _auditor():
    """The signed-in auditor, or None (anyone else, or nobody)."""
    if not has_request_context():
        return None
    principal = current_principal()
    return principal if principal is not None and principal.role == "auditor" else None


def forbidden(lang: str) -> html.Div:
    return html.Div(t("audit_forbidden", lang), className="gc-hint gc-audit-forbidden")


def layout(lang: str) -> html.Div:
    """Filters, the table and the verify button (a notice instead for anyone but an auditor)."""
    lang = lang_of(lang)
    if _auditor() is None:
        return html.Div([html.H2(t("audit_title", lang)), forbidden(lang)], className="gc-page gc-audit")
    field = lambda label, control: html.Label([html.Span(label), control], className="gc-audit-field")
    filters = html.Div(
        [
            field(
                t("audit_actor", lang), dcc.Input(id="audit-actor", type="text", debounce=True, placeholder="zhangwei")
            ),
            field(
                t("audit_action", lang),
                dcc.Input(
                    id="audit-action", type="text", debounce=True, placeholder="incident. / login_failed / unmask"
                ),
            ),
            field(
                t("audit_target", lang),
                dcc.Input(id="audit-target", type="text", debounce=True, placeholder="incident:… / account:…"),
            ),
            field(
                t("audit_result", lang),
                dcc.Dropdown(
                    id="audit-result",
                    clearable=True,
                    searchable=False,
                    options=[{"label": t(f"audit_result_{r}", lang), "value": r} for r in RESULTS],
                ),
            ),
            field(
                t("audit_dates", lang),
                dcc.DatePickerRange(id="audit-dates", display_format="YYYY-MM-DD", clearable=True),
            ),
            html.Button(t("audit_search", lang), id="audit-search", n_clicks=0, className="gc-btn"),
        ],
        className="gc-audit-filters",
    )
    pager = html.Div(
        [
            html.Button("‹", id="audit-prev", n_clicks=0, className="gc-btn", title=t("audit_prev", lang)),
            html.Span(id="audit-pager", className="gc-hint"),
            html.Button("›", id="audit-next", n_clicks=0, className="gc-btn", title=t("audit_next", lang)),
        ],
        className="gc-audit-pager",
    )
    return html.Div(
        [
            html.Header(
                title_bar(t("audit_title", lang), lang, [html.Span(id="audit-total", className="gc-hint")]),
                className="gc-audit-head",
            ),
            filters,
            dcc.Store(id="audit-page", data=0),
            html.Div(id="audit-table", className="gc-audit-table", style={"overflow": "auto", "flex": "1"}),
            pager,
            html.Div(
                [
                    html.Button(t("audit_verify", lang), id="audit-verify", n_clicks=0, className="gc-btn"),
                    html.Div(id="audit-verify-result", className="gc-audit-verify"),
                ],
                className="gc-audit-verifybar",
            ),
        ],
        className="gc-page gc-audit",
    )


def _day(value: str | None) -> datetime | None:
    return datetime.combine(date.fromisoformat(value[:10]), datetime.min.time(), UTC) if value else None


def criteria(actor, action, target, result, start, end) -> audit.AuditFilter:
    """The filter from the form; the end date is inclusive (the whole day, UTC)."""
    until = _day(end)
    return audit.AuditFilter(
        actor=actor or None,
        action=action or None,
        target=target or None,
        result=result if result in RESULTS else None,
        since=_day(start),
        until=until + timedelta(days=1) if until else None,
    )


def table(rows: list[dict], lang: str) -> html.Table:
    """The records as a table; results other than "ok" in red."""
    head = html.Thead(html.Tr([html.Th(t(f"audit_col_{c}", lang)) for c in COLUMNS]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(r[c]) for c in COLUMNS],
                className=f"gc-audit-{r['result']}",
                style=None if r["result"] == "ok" else {"color": "#f87171"},
            )
            for r in rows
        ]
    )
    return html.Table([head, body], style={"width": "100%", "fontSize": 12, "borderCollapse": "collapse"})


def row(record: audit.AuditRecord, lang: str) -> dict:
    return {
        "id": record.id,
        "at": record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
        "actor": record.actor,
        "role": role_label(record.role, lang) if record.role else "—",
        "ip": record.ip or "—",
        "action": record.action,
        "target": record.target or "—",
        "result": record.result,
        "detail": json.dumps(record.detail, ensure_ascii=False, sort_keys=True) if record.detail else "",
    }


def kind_label(kind: str | None, lang: str) -> str:
    """What went wrong, in words (the code itself for a kind without a translation)."""
    key = f"audit_kind_{kind}"
    return t(key, lang) if key in STRINGS else str(kind)


def register(app: dash.Dash) -> None:
    @app.callback(
        Output("audit-table", "children"),
        Output("audit-total", "children"),
        Output("audit-page", "data"),
        Output("audit-pager", "children"),
        Input("audit-search", "n_clicks"),
        Input("audit-prev", "n_clicks"),
        Input("audit-next", "n_clicks"),
        Input("audit-actor", "value"),
        Input("audit-action", "value"),
        Input("audit-target", "value"),
        Input("audit-result", "value"),
        Input("audit-dates", "start_date"),
        Input("audit-dates", "end_date"),
        State("audit-page", "data"),
        State("gc-lang", "data"),
    )
    def search(_search, _prev, _next, actor, action, target, result, start, end, page, lang):
        """One page of matching records, newest first; ‹ › move between pages, any other change starts again."""
        lang = lang_of(lang)
        if _auditor() is None:
            return forbidden(lang), t("audit_forbidden", lang), 0, ""
        triggered = {p["prop_id"].split(".")[0] for p in (dash.callback_context.triggered or [])}
        page = max(int(page or 0), 0)
        page = page - 1 if triggered == {"audit-prev"} else page + 1 if triggered == {"audit-next"} else 0
        try:
            f = criteria(actor, action, target, result, start, end)
        except ValueError:
            return [], t("audit_bad_date", lang), 0, ""
        with current_runtime().sessions() as session:
            page = max(page, 0)
            records, total = audit.search(session, f, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
            pages = max(1, -(-total // PAGE_SIZE))
            if page >= pages:  # past the end (the filter matched fewer): the last page
                page = pages - 1
                records, total = audit.search(session, f, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
            rows = [row(r, lang) for r in records]
        return table(rows, lang), t("audit_total", lang, n=total), page, f"{page + 1} / {pages}"

    @app.callback(
        Output("audit-verify-result", "children"),
        Input("audit-verify", "n_clicks"),
        State("gc-lang", "data"),
        prevent_initial_call=True,
    )
    def verify(n, lang):
        """Walk the whole chain; the check itself goes into the trail."""
        lang = lang_of(lang)
        principal = _auditor()
        if principal is None:
            return t("audit_forbidden", lang)
        if not n:
            return no_update
        rt = current_runtime()
        with rt.sessions() as session:
            result = verify_trail(session)
        with rt.sessions.begin() as session:
            audit.append(
                session,
                actor=principal.username,
                role=str(principal.role),
                ip=request.remote_addr,
                action="audit.verify",
                target="audit_log",
                result="ok" if result.ok else "failed",
                detail={"count": result.count, "broken_id": result.broken_id, "kind": result.kind},
                now=rt.clock(),
            )
        if result.ok:
            return html.Span(t("audit_intact", lang, n=result.count), className="gc-audit-ok")
        return html.Span(
            t(
                "audit_broken",
                lang,
                id=result.broken_id,
                kind=kind_label(result.kind, lang),
                reason=result.reason,
            ),
            className="gc-audit-broken",
        )
