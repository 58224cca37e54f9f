"""What the command center renders on the server: the names and strings the browser's queue draws with
(assets/queue.js), the keyboard help, the seat's search, the panel of a clicked grid and the community layer's
shading; all inside the signed-in user's scope."""

from __future__ import annotations

from dash import html

from dashboard.api.grids import shown_properties
from dashboard.pages import feed
from dashboard.pages.components import ago, viewer
from dashboard.pages.i18n import STRINGS, client_strings, t
from dashboard.pages.i18n_desk import DESK_STRINGS  # noqa: F401 - merges the desk's strings into STRINGS
from dashboard.runtime import current_runtime
from dispatcher.access.roles import may_call_grid_leaders
from dispatcher.cases import queries
from dispatcher.cases.lifecycle import Status
from dispatcher.cases.scope import scope_clause
from dispatcher.handling import boxes
from geo.grids import Level

TABS = {
    "new": dict(status=[Status.REPORTED, Status.TRIAGE]),
    "dispatch": dict(status=[Status.FILED, Status.ESCALATED, Status.RETURNED]),
    "overdue": dict(overdue=True, open=True),
}


def community_hideout(load: dict) -> dict:
    """The community layer's shading input: open/overdue per community and the maximum."""
    return {"kind": "community", "load": load, "max": max((v["open"] for v in load.values()), default=0)}


def desk_names(city, lang: str) -> dict:
    """What the browser's queue needs besides the records: street and community names, tab titles, strings."""
    grids = {
        g.code: g.name if lang == "zh" else g.properties.get("name_en", g.name)
        for level in (Level.STREET, Level.COMMUNITY)
        for g in city.grids.by_level(level)
    }
    keys = [k for k in STRINGS if k.startswith(("q_", "alert_", "urgency_", "ago_", "sound_"))]
    keys += ["just_now", "overdue_flag", "queue_empty"]
    return {
        "lang": lang,
        "grids": grids,
        "tabs": {k: t(f"tab_{k}", lang) for k in TABS},
        "strings": {k: t(k, lang) for k in keys}
        | {"layer_incidents": t("bm_incidents", lang), "layer_officers": t("officers", lang)}
        | {"connected": t("connected", lang), "disconnected": t("disconnected", lang)}
        | client_strings(lang),
    }


HELP_KEYS = (
    ("↑ ↓", "help_move"),
    ("Enter", "help_open"),
    ("F", "help_file"),
    ("D", "help_dispatch"),
    ("/", "help_search"),
    ("N", "help_new"),
    ("Esc", "help_close"),
    ("?", "help_help"),
)


def help_overlay(lang: str) -> html.Div:
    """The keyboard help (? shows it, Esc hides it)."""
    rows = [html.Div([html.Kbd(key), html.Span(t(what, lang))], className="gc-help-row") for key, what in HELP_KEYS]
    return html.Div(
        html.Div([html.B(t("help_title", lang)), *rows], className="gc-help-card"),
        id="cc-help",
        className="gc-help",
        hidden=True,
    )


def search_records(text: str) -> list[dict]:
    """The seat's search (dispatcher.handling.boxes.search) as compact records for the browser's queue."""
    principal = viewer()
    rt = current_runtime()
    with rt.sessions() as session:
        found = boxes.search(session, principal, text)
        return [feed.compact(i, rt.city, rt.clock(), feed.display_crs(rt.settings.tile_url)) for i in found]


def grid_panel(props: dict, lang: str) -> list:
    """The clicked grid: code, name, leader and phone (masked, and no call link, for roles that do not call grid
    leaders), its open incidents (those inside the user's scope).

    Only the grid code is taken from the browser; everything else is read from the server's grids.
    """
    principal = viewer()
    scope = scope_clause(principal)
    rt = current_runtime()
    now = rt.clock()
    grid = rt.city.grids.find(str(props["code"]))
    if grid is None:
        return [html.Div(t("grid_hint", lang), className="gc-hint")]
    with rt.sessions() as session:
        items, total = queries.list_incidents(
            session, queries.IncidentFilter(grid=grid.code, open=True, page_size=8), now=now, scope=scope
        )
        rows = [
            html.Div(
                [html.Span(i.description[:28]), html.Span(ago(i.created_at, now, lang))],
                id={"type": "cc-gprow", "index": i.id},
                n_clicks=0,
                className="gc-gp-row",
            )
            for i in items
        ]
    info = shown_properties(grid.properties, principal.role)  # the leader's mobile masked unless the role calls
    name = grid.name if lang == "zh" else info.get("name_en") or grid.name
    return [
        html.Div(
            [html.B(name), html.Span(t(f"level_{grid.level}", lang), className="gc-gp-level")], className="gc-gp-title"
        ),
        html.Div([html.Span(t("grid_code", lang)), html.Code(grid.code)], className="gc-kv"),
        html.Div([html.Span(t("grid_leader", lang)), html.B(info.get("leader_name") or "—")], className="gc-kv"),
        html.Div(
            [
                html.Span(t("grid_phone", lang)),
                html.A(info["leader_phone"], href=f"tel:{info['leader_phone']}")
                if info.get("leader_phone") and may_call_grid_leaders(principal.role)
                else html.Span(info.get("leader_phone") or "—"),
            ],
            className="gc-kv",
        ),
        html.Div(f"{t('grid_open', lang)} · {total}", className="gc-gp-sub"),
        *rows,
    ]
