"""The dispatch form of the drawer: department, partner departments, assignee, and the officers of the chosen
department in one click (recommended by dispatcher/fleet/recommend.py)."""

from __future__ import annotations

import logging

from dash import dcc, html

from dashboard.pages.components import viewer
from dashboard.pages.drawer_forms import A, fid, field_label, submit_button
from dashboard.pages.i18n import OFFICER_STATUS, dropdown_labels, role_label, t
from dashboard.runtime import current_runtime
from dispatcher.errors import EngineError

log = logging.getLogger(__name__)
RECOMMEND_LIMIT = 5


def officer_status_label(status: str, lang: str) -> str:
    pair = OFFICER_STATUS.get(status)
    return (pair[1] if lang == "en" else pair[0]) if pair else status


OFFICER_ROLE = {"handler": "dept_handler"}  # an officer's role as the account role it reads like (i18n.ROLE)


def recommendation_rows(recommendations: list[dict], lang: str, department: str | None) -> list:
    """One row per recommended officer — status dot, name, department · post, status, distance, open load and a
    one-click dispatch button (disabled for the officer the case is already assigned to) — or a hint."""
    if not recommendations:
        key = "rec_none_in_department" if department else "rec_pick_department"
        return [html.Div(t(key, lang), className="gc-hint")]
    rows = []
    for r in recommendations:
        officer, dept = r["officer"], r.get("department") or {}
        status = r.get("status") or officer.get("status") or ""
        role = officer.get("role")
        post = role_label(OFFICER_ROLE.get(role, role), lang)
        dname = (dept.get("name_zh") if lang == "zh" else dept.get("name_en")) or officer.get("department_code") or "—"
        assigned = bool(r.get("assigned"))
        rows.append(
            html.Div(
                [
                    html.Span(className=f"gc-odot gc-os-{status}"),
                    html.B(officer.get("name") or officer["id"], title=officer["id"]),
                    html.Small(f"{dname} · {post}", className="gc-rec-dept"),
                    html.Span(officer_status_label(status, lang), className=f"gc-rec-status gc-os-{status}"),
                    html.Span(f"{r['distance_m']:.0f} m"),
                    html.Span(t("rec_load", lang, n=r.get("load", 0))),
                    html.Button(
                        t("rec_assigned" if assigned else "dispatch_one_click", lang),
                        id={"type": "cc-rec", "officer": officer["id"]},
                        n_clicks=0,
                        disabled=assigned,
                        className="gc-btn gc-btn-sm" + ("" if assigned else " gc-btn-primary gc-rec-go"),
                    ),
                ],
                className="gc-rec gc-rec-assigned" if assigned else "gc-rec",
            )
        )
    return rows


def dispatch_form(view: dict, lang: str, recommendations: list[dict]) -> html.Div:
    """Dispatch: department, partner departments, an assignee, and the officers of the chosen department in one
    click (the list follows the department dropdown: dashboard/pages/drawer.py). When the case is already dispatched
    (re-dispatch before anyone claimed it) the current assignee shows by name, and their button is disabled."""
    catalogue = current_runtime().city.catalogue
    options = [
        {"label": d.name_zh if lang == "zh" else d.name_en, "value": d.code} for d in catalogue.departments.values()
    ]
    department = dcc.Dropdown(
        labels=dropdown_labels(lang),
        id="cc-dispatch-dept",
        options=options,
        value=view["department_code"],
        clearable=False,
        className="gc-dd",
    )
    partners = dcc.Dropdown(
        labels=dropdown_labels(lang), id=fid(A.DISPATCH, "partners"), options=options, multi=True, className="gc-dd"
    )
    current = view.get("assignee_label") or view.get("assignee")
    return html.Div(
        [
            field_label(t("dispatch_to", lang), department),
            field_label(t("fm_partners", lang), partners),
            field_label(t("fm_assignee", lang), dcc.Input(id=fid(A.DISPATCH, "assignee"), className="gc-fm-input")),
            html.Div(submit_button(A.DISPATCH, lang), className="gc-row"),
            html.Label(t("nearest", lang)),
            html.Div(t("rec_current", lang, name=current), className="gc-hint") if current else None,
            html.Div(
                recommendation_rows(recommendations, lang, view["department_code"]),
                id={"type": "cc-recs", "incident": view["id"]},
            ),
        ],
        className="gc-dispatch",
    )


def recommendations(incident_id: str, department: str | None = None) -> list[dict]:
    """Officers of the case's department (or of `department`, the one chosen in the dispatch form) the signed-in
    user may see, ranked as the recommendations endpoint ranks them."""
    from dashboard.api.officers import recommend

    try:
        return recommend(incident_id, viewer(), RECOMMEND_LIMIT, department)
    except EngineError:
        return []
    except Exception:  # positions store unreachable: dispatch by department still works
        log.warning("recommendations unavailable", exc_info=True)
        return []
