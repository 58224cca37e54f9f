"""What the triage page shows: the queue (dispatcher.intake.duplicates.triage_queue inside the user's scope, the
same query as GET /api/v1/triage), the selected report's facts and its duplicate candidates."""

from __future__ import annotations

from dash import html

from dashboard.pages.components import ago, local_time, status_badge
from dashboard.pages.i18n import t
from dashboard.pages.i18n_reasons import channel_label, triage_label, triage_note
from dashboard.pages.intake_widgets import category_name, duplicate_row, may
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import scope_clause
from dispatcher.intake import duplicates
from dispatcher.intake.duplicates import TriageItem

ROLES = frozenset({"dispatcher", "shift_leader"})
LIST_LIMIT = 200


def allowed(principal: Principal | None) -> bool:
    """Whether the principal's role works the triage queue."""
    return principal is not None and str(principal.role) in ROLES


def queue(session, principal: Principal) -> list[TriageItem]:
    """The triage queue inside the user's scope, oldest first."""
    return duplicates.triage_queue(
        session, catalogue=current_runtime().city.catalogue, scope=scope_clause(principal), limit=LIST_LIMIT
    )


def find_item(session, principal: Principal, incident_id: str | None) -> TriageItem | None:
    """The queue entry of one report (None when it is not, or no longer, in the user's queue)."""
    if not isinstance(incident_id, str):
        return None
    return next((item for item in queue(session, principal) if item.incident.id == incident_id), None)


def _cname(code: str | None, lang: str) -> str:
    return category_name(code, lang, t("tr_no_category", lang))


def list_rows(items: list[TriageItem], selected: str | None, lang: str) -> list:
    """The queue: category, reason, description, place and age of every report."""
    if not items:
        return [html.Div(t("tr_empty", lang), className="gc-empty", id="tr-empty")]
    now = current_runtime().clock()
    return [list_row(item, selected, now, lang) for item in items]


def list_row(item: TriageItem, selected: str | None, now, lang: str) -> html.Div:
    """One report of the queue."""
    i = item.incident
    place = i.address or (f"{i.lon:.4f}, {i.lat:.4f}" if i.lon is not None else "—")
    return html.Div(
        [
            html.Div(
                [
                    html.B(_cname(i.category_code, lang), className="gc-q-cat"),
                    html.Span(triage_label(item.reason, lang), className=f"gc-tr-reason gc-tr-r-{item.reason}"),
                ],
                className="gc-q-l1",
            ),
            html.Div(i.description, className="gc-q-desc"),
            html.Div([html.Span(place), html.Span(ago(i.created_at, now, lang))], className="gc-q-l3"),
        ],
        id={"type": "tr-row", "index": i.id},
        n_clicks=0,
        className="gc-qrow gc-tr-row" + (" gc-tr-row-on" if i.id == selected else ""),
        **{"data-id": i.id, "data-reason": item.reason},
    )


def note(item: TriageItem, lang: str) -> str:
    """What to check, in words: the triage code with the report's facts (a machine's detection, the candidates)."""
    i = item.incident
    first = i.timeline[0].data if i.timeline else None
    detection = first if isinstance(first, dict) and "source_kind" in first else None
    view = {"category_code": i.category_code, "grid": {"unit": i.grid_unit, "community": i.grid_community}}
    labels = [s.incident.label for s in item.candidates]
    return triage_note(item.reason, lang, view=view, detail=item.detail, detection=detection, duplicates=labels)


def info(item: TriageItem, lang: str) -> list:
    """The selected report: category, status, id, channel, time, description, reason and address."""
    i = item.incident
    tz = current_runtime().settings.timezone
    return [
        html.Div(
            [html.Span(_cname(i.category_code, lang), className="gc-d-title"), status_badge(i.status, lang)],
            className="gc-d-head",
        ),
        html.Div(
            [html.Code(i.label), html.Span(channel_label(i.channel, lang)), html.Span(local_time(i.created_at, tz))],
            className="gc-d-id",
        ),
        html.P(i.description, className="gc-d-desc"),
        html.Div(
            [html.Span(t("tr_reason", lang)), html.B(triage_label(item.reason, lang), id="tr-reason")],
            className="gc-kv",
        ),
        html.Div(html.Small(note(item, lang)), className="gc-tr-detail", id="tr-note"),
        html.Div([html.Span(t("hl_address", lang)), html.Span(i.address or "—")], className="gc-kv"),
    ]


def candidates_view(item: TriageItem, principal: Principal, lang: str) -> list:
    """The earlier open cases this report may repeat, each with "merge into this" where the role may merge."""
    if not item.candidates:
        return []
    now = current_runtime().clock()
    merge_ok = may(principal, Action.MERGE)
    rows = [html.Div(t("dup_title", lang, n=len(item.candidates)), className="gc-sec")]
    for s in item.candidates:
        button = (
            html.Button(
                t("tr_merge", lang),
                id={"type": "tr-merge", "index": s.incident.id},
                n_clicks=0,
                className="gc-btn gc-btn-sm gc-btn-primary",
            )
            if merge_ok
            else None
        )
        rows.append(duplicate_row(s, lang, now, button=button, missing=t("tr_no_category", lang)))
    return rows
