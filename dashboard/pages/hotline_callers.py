"""The caller's earlier calls at the hotline console: dispatcher.intake.callers.history run the way
GET /api/v1/callers/history runs it (dashboard/api/intake.py), and the list the call-taker sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from dash import html
from flask import request

from dashboard.pages.components import ago, local_time, status_badge
from dashboard.pages.hotline_form import MIN_LOOKUP_DIGITS, NATURES, PHONE_DIGITS
from dashboard.pages.i18n import t
from dashboard.pages.intake_widgets import category_name
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.access.privacy import mask_phone, present_reporter
from dispatcher.cases.uow import UnitOfWork
from dispatcher.intake import callers

HISTORY_LIMIT = 10


@dataclass(frozen=True)
class CallerLookup:
    """One lookup: whether the role may look callers up, and the earlier calls as the role may see them."""

    allowed: bool
    calls: list[dict[str, Any]] = field(default_factory=list)  # incident snapshots, newest first

    @property
    def name(self) -> str | None:
        """The caller's name from the newest call that has one."""
        return next((c["reporter_name"] for c in self.calls if c.get("reporter_name")), None)


def lookup_due(number: str, typed: bool) -> bool:
    """Enter looks up any number long enough; typing looks up by itself at the 11th digit."""
    return len(number) >= MIN_LOOKUP_DIGITS and (not typed or len(number) == PHONE_DIGITS)


def look_up(principal: Principal, number: str) -> CallerLookup:
    """The caller's earlier incidents inside the user's scope, for roles that may see callers' numbers only;
    every lookup (a refused one too) leaves one caller.lookup audit record with the number masked, and names
    and numbers are masked for any role that may not see them (dispatcher.access.privacy.present_reporter)."""
    rt = current_runtime()
    now = rt.clock()
    with UnitOfWork(rt.sessions) as uow:
        rows = callers.look_up(
            uow.session, number, principal=principal, ip=request.remote_addr, now=now, limit=HISTORY_LIMIT
        )
        calls = [present_reporter(i.snapshot(), principal.role) for i in rows or []]
        uow.session.commit()
    permitted = rows is not None
    return CallerLookup(permitted, calls)


def history_hint(lang: str) -> html.Div:
    """What the history box says before a number is typed."""
    return html.Div(t("hl_history_hint", lang), className="gc-hint")


def short_number(lang: str) -> html.Div:
    return html.Div(t("hl_phone_short", lang), className="gc-hint")


def history_view(calls: list[dict[str, Any]], number: str, lang: str) -> list:
    """The caller's earlier calls (when, category, status, nature, description), or "new caller"."""
    if not calls:
        return [
            html.Div(
                [
                    html.Span(t("hl_new_caller", lang), className="gc-hl-new"),
                    html.Span(mask_phone(number) or number, className="gc-hl-muted"),
                ],
                id="hl-new-caller",
                className="gc-hl-histhead",
            )
        ]
    head = html.Div(
        [html.Span(t("hl_known_caller", lang, n=len(calls)), className="gc-hl-known")], className="gc-hl-histhead"
    )
    return [head, *(call_row(c, lang) for c in calls)]


def call_row(call: dict[str, Any], lang: str) -> html.Div:
    """One earlier call."""
    rt = current_runtime()
    nature = call.get("call_nature")
    when = f"{local_time(call['created_at'], rt.settings.timezone)} · {ago(call['created_at'], rt.clock(), lang)}"
    head = [
        html.B(category_name(call.get("category_code"), lang)),
        status_badge(call["status"], lang),
        html.Span(t(f"hl_nature_{nature}", lang), className="gc-hl-nat") if nature in NATURES else None,
        html.Span(when, className="gc-hl-muted"),
    ]
    return html.Div(
        [
            html.Div(head, className="gc-hl-h1"),
            html.Div(call["description"], className="gc-q-desc"),
            html.Code(call.get("case_number") or call["id"][:8], className="gc-hl-muted"),
        ],
        className="gc-hl-hrow",
        **{"data-id": call["id"]},
    )
