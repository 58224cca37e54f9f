"""Possible duplicates while the caller is on the line: dispatcher.intake.duplicates.suggest inside the user's scope
(same category nearby, or the same caller), and the list with "merge into this" where the role may merge."""

from __future__ import annotations

from dash import html

from dashboard.pages.hotline_form import normalise_phone
from dashboard.pages.i18n import t
from dashboard.pages.intake_widgets import duplicate_row, may
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.actions import get_incident
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import scope_clause
from dispatcher.cases.uow import UnitOfWork
from dispatcher.errors import NotFound
from dispatcher.intake import callers, duplicates
from dispatcher.intake.duplicates import Suggestion

DUP_LIMIT = 5


def suggestions(
    session,
    principal: Principal,
    category_code: str | None,
    point: tuple[float, float] | None,
    phone: str | None = None,
    *,
    text: str | None = None,
) -> list[Suggestion]:
    """Open cases inside the user's scope this call may repeat, nearest first (the engine measures); without a
    point, also those whose address and description read like `text`."""
    lon, lat = point if point is not None else (None, None)
    number = normalise_phone(phone)
    return duplicates.suggest(
        session,
        catalogue=current_runtime().city.catalogue,
        category_code=category_code,
        lon=lon,
        lat=lat,
        at=current_runtime().clock(),
        phone_hash=callers.phone_hash(number) if number else None,
        scope=scope_clause(principal),
        limit=DUP_LIMIT,
        text=text or None,
    )


def call_text(address, description) -> str:
    """The call's address and description as one text for the similar-text check ("" when both are empty)."""
    parts = [v.strip() for v in (address, description) if isinstance(v, str) and v.strip()]
    return " ".join(parts)


def case_label(principal: Principal, incident_id: str | None) -> str | None:
    """The case number of a case the user may see (None for none, or one outside the user's scope)."""
    if incident_id is None:
        return None
    with UnitOfWork(current_runtime().sessions) as uow:
        try:
            return get_incident(uow, incident_id, principal=principal).label
        except NotFound:
            return None


def merge_button(incident_id: str, chosen: bool, lang: str) -> html.Button:
    """ "Merge into this" (pressed again: "don't merge")."""
    return html.Button(
        t("dup_unpick" if chosen else "dup_merge", lang),
        id={"type": "hl-merge", "index": incident_id},
        n_clicks=0,
        className="gc-btn gc-btn-sm" + (" gc-btn-primary" if chosen else ""),
    )


def duplicates_view(found: list[Suggestion], principal: Principal, lang: str, chosen: str | None) -> list:
    """Suggested duplicates with distance and reason, and "merge into this" where the role may merge."""
    if not found:
        return [html.Div(t("dup_none", lang), className="gc-hint", id="hl-dup-none")]
    now = current_runtime().clock()
    merge_ok = may(principal, Action.MERGE)
    rows = [html.Div(t("dup_title", lang, n=len(found)), className="gc-sec")]
    for s in found:
        on = chosen == s.incident.id
        button = merge_button(s.incident.id, on, lang) if merge_ok else None
        rows.append(duplicate_row(s, lang, now, button=button, chosen=on))
    if not merge_ok:
        rows.append(html.Div(t("dup_no_merge_role", lang), className="gc-hint"))
    return rows


def merge_note(label: str | None, lang: str):
    """What the save will do with the chosen case, named by its case number ("" when none is chosen)."""
    if label is None:
        return ""
    return html.Div(t("hl_will_merge", lang, id=label), className="gc-hl-merging", id="hl-will-merge")
