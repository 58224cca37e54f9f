"""The auditor's page (/audit): search the audit trail, newest first, page by page, and verify its keyed chain.

Only the auditor role sees anything: the layout and every callback check `current_principal()` and
answer with a "forbidden" notice (and no records) otherwise, so a replayed callback reveals nothing.
Times are shown and filtered in the city's time zone (the UTC instant, as recorded, on hover); actions, roles
and results read in words with the recorded code beside them. Running "verify" is itself audited.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import dash
from dash import Input, Output, State, dcc, html, no_update
from flask import has_request_context, request

from dashboard.auth import current_principal
from dashboard.pages.components import header, register_chrome
from dashboard.pages.i18n import STRINGS, action_label, dropdown_labels, lang_of, role_label, t
from dashboard.pages.i18n_reasons import channel_label
from dashboard.runtime import current_runtime
from dispatcher.access import audit
from dispatcher.access.audit_verify import verify as verify_trail

PAGE_SIZE = 50
RESULTS = ("ok", "denied", "failed")
COLUMNS = ("id", "at", "actor", "role", "ip", "action", "target", "result", "detail")
AUDIT_STRINGS: dict[str, tuple[str, str]] = {
    "audit_act_login": ("登录", "Sign-in"),
    "audit_act_login_failed": ("登录失败", "Failed sign-in"),
    "audit_act_logout": ("退出登录", "Sign-out"),
    "audit_act_unmask": ("查看完整个人信息", "Personal data shown"),
    "audit_act_account_create": ("创建账号", "Account created"),
    "audit_act_account_disable": ("停用账号", "Account disabled"),
    "audit_act_account_password": ("修改密码", "Password changed"),
    "audit_act_token_issue": ("签发访问令牌", "Token issued"),
    "audit_act_token_revoke": ("吊销访问令牌", "Token revoked"),
    "audit_act_caller_lookup": ("查询来电人", "Caller looked up"),
    "audit_act_ledger_export": ("导出台账", "Ledger exported"),
    "audit_act_device_issue": ("发放定位终端", "Tracker issued"),
    "audit_act_device_revoke": ("吊销定位终端", "Tracker revoked"),
    "audit_act_audit_verify": ("校验审计日志", "Audit trail verified"),
    "audit_act_audit_sealed": ("审计日志密钥封存", "Audit trail sealed"),
    "audit_act_media_download": ("下载证据原件", "Evidence downloaded"),
    "audit_act_media_thumbnail": ("查看证据缩略图", "Evidence thumbnail viewed"),
    "audit_act_incident": ("案件：{action}", "Case: {action}"),
    "audit_utc": ("UTC 时间 {at}", "UTC {at}"),
    "audit_from": ("开始日期", "From"),
    "audit_until": ("结束日期", "Until"),
}
STRINGS.update({key: pair for key, pair in AUDIT_STRINGS.items() if key not in STRINGS})


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
        return html.Div([header("audit", lang, "audit", live=False), forbidden(lang)], className="gc-page gc-audit")
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
                    labels=dropdown_labels(lang),
                    className="gc-dd",
                    options=[{"label": t(f"audit_result_{r}", lang), "value": r} for r in RESULTS],
                ),
            ),
            field(
                t("audit_dates", lang),
                dcc.DatePickerRange(
                    id="audit-dates",
                    display_format="YYYY-MM-DD",
                    clearable=True,
                    first_day_of_week=1,
                    start_date_placeholder_text=t("audit_from", lang),
                    end_date_placeholder_text=t("audit_until", lang),
                ),
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
            header("audit", lang, "audit", [html.Span(id="audit-total", className="gc-hint")], live=False),
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


def _day(value: str | None, tz: str, days: int = 0) -> datetime | None:
    """Local midnight of a picked date (plus `days`) as a UTC instant."""
    if not value:
        return None
    midnight = datetime.combine(date.fromisoformat(value[:10]) + timedelta(days=days), datetime.min.time())
    return midnight.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def criteria(actor, action, target, result, start, end, tz: str = "UTC") -> audit.AuditFilter:
    """The filter from the form; dates are local days in `tz`, the end date inclusive (the whole day)."""
    return audit.AuditFilter(
        actor=actor or None,
        action=action or None,
        target=target or None,
        result=result if result in RESULTS else None,
        since=_day(start, tz),
        until=_day(end, tz, days=1),
    )


def table(rows: list[dict], lang: str) -> html.Table:
    """The records as a table; results other than "ok" in red."""
    head = html.Thead(html.Tr([html.Th(t(f"audit_col_{c}", lang)) for c in COLUMNS]))
    body = html.Tbody(
        [
            html.Tr(
                [html.Td(r[c], title=r.get(f"{c}_title")) for c in COLUMNS],
                className=f"gc-audit-{r['code']}",
                style=None if r["code"] == "ok" else {"color": "#fca5a5"},
            )
            for r in rows
        ]
    )
    return html.Table([head, body], style={"width": "100%", "fontSize": 12, "borderCollapse": "collapse"})


def action_words(code: str, lang: str) -> str:
    """An audited action in words: `audit_act_<code>`, a case's lifecycle action, else the code itself."""
    key = "audit_act_" + code.replace(".", "_")
    if key in STRINGS:
        return t(key, lang)
    kind, _, rest = code.partition(".")
    return t("audit_act_incident", lang, action=action_label(rest, lang)) if kind == "incident" and rest else code


def _detail(detail: dict | None, lang: str) -> str:
    """The record's detail as JSON, with a channel named in words."""
    if not detail:
        return ""
    shown = {**detail, "channel": channel_label(detail["channel"], lang)} if "channel" in detail else detail
    return json.dumps(shown, ensure_ascii=False, sort_keys=True)


def row(record: audit.AuditRecord, lang: str, tz: str = "UTC") -> dict:
    """One record's cells (local time, words) and their hover texts (the UTC instant, the recorded codes)."""
    utc = record.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return {
        "id": record.id,
        "at": record.at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S"),
        "at_title": t("audit_utc", lang, at=utc),
        "actor": record.actor,
        "role": role_label(record.role, lang) if record.role else "—",
        "role_title": record.role,
        "ip": record.ip or "—",
        "action": [html.Span(action_words(record.action, lang)), html.Small(" " + record.action, className="gc-code")],
        "action_title": record.action,
        "target": record.target or "—",
        "result": t(f"audit_result_{record.result}", lang) if record.result in RESULTS else record.result,
        "result_title": record.result,
        "detail": _detail(record.detail, lang),
        "code": record.result,
    }


def kind_label(kind: str | None, lang: str) -> str:
    """What went wrong, in words (the code itself for a kind without a translation)."""
    key = f"audit_kind_{kind}"
    return t(key, lang) if key in STRINGS else str(kind)


def register(app: dash.Dash) -> None:
    register_chrome(app, "audit")  # the header's clock and 中/EN toggle

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
        tz = current_runtime().settings.timezone
        try:
            f = criteria(actor, action, target, result, start, end, tz)
        except ValueError:
            return [], t("audit_bad_date", lang), 0, ""
        with current_runtime().sessions() as session:
            page = max(page, 0)
            records, total = audit.search(session, f, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
            pages = max(1, -(-total // PAGE_SIZE))
            if page >= pages:  # past the end (the filter matched fewer): the last page
                page = pages - 1
                records, total = audit.search(session, f, offset=page * PAGE_SIZE, limit=PAGE_SIZE)
            rows = [row(r, lang, tz) for r in records]
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
