"""Possible duplicates while the caller is on the line: dispatcher.intake.duplicates.suggest inside the user's scope
(same category nearby, or the same caller), and the list with "merge into this" where the role may merge."""

from __future__ import annotations

from dash import html

from dashboard.pages.hotline_form import normalise_phone
from dashboard.pages.i18n import t
from dashboard.pages.intake_widgets import duplicate_row, may
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.cases.lifecycle import Action
from dispatcher.cases.scope import scope_clause
from dispatcher.intake import callers, duplicates
from dispatcher.intake.duplicates import Suggestion

DUP_LIMIT = 5


def suggestions(
    session,
    principal: Principal,
    category_code: str | None,
    point: tuple[float, float] | None,
    phone: str | None = None,
) -> list[Suggestion]:
    """Open cases inside the user's scope this call may repeat, nearest first (the engine measures)."""
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
    )


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


def merge_note(chosen: str | None, lang: str):
    """What the save will do with the chosen case ("" when none is chosen)."""
    if chosen is None:
        return ""
    return html.Div(t("hl_will_merge", lang, id=chosen[:8]), className="gc-hl-merging")
