"""What the command center renders on the server: the queue of a tab with every tab's count, one queue row,
the panel of a clicked grid and the community layer's shading; all inside the signed-in user's scope."""

from __future__ import annotations

from dash import html

from dashboard.api.grids import shown_properties
from dashboard.pages.components import ago, light_dot, viewer
from dashboard.pages.i18n import t
from dashboard.runtime import current_runtime
from dispatcher.access.roles import may_call_grid_leaders
from dispatcher.cases import queries
from dispatcher.cases.clocks import is_overdue, light
from dispatcher.cases.lifecycle import Status
from dispatcher.cases.scope import scope_clause

QUEUE_ROWS = 100
TABS = {
    "new": dict(status=[Status.REPORTED, Status.TRIAGE]),
    "dispatch": dict(status=[Status.FILED, Status.ESCALATED, Status.RETURNED]),
    "overdue": dict(overdue=True, open=True),
}


def community_hideout(load: dict) -> dict:
    """The community layer's shading input: open/overdue per community and the maximum."""
    return {"kind": "community", "load": load, "max": max((v["open"] for v in load.values()), default=0)}


def queue_rows(tab: str, street: str | None, category: str | None, lang: str) -> tuple[list, dict[str, int]]:
    """The rows of the active tab (newest first) and the count of every tab, under the street/category filters,
    inside the signed-in user's scope (the filters only narrow it)."""
    scope = scope_clause(viewer())
    rt = current_runtime()
    now = rt.clock()
    counts, rows = {}, []
    with rt.sessions() as session:
        for key, base in TABS.items():
            f = queries.IncidentFilter(
                **base, grid=street or None, category=category or None, page_size=QUEUE_ROWS if key == tab else 1
            )
            items, counts[key] = queries.list_incidents(session, f, now=now, scope=scope)
            if key == tab:
                rows = [queue_row(i, rt, now, lang) for i in items]
    if not rows:
        rows = [html.Div(t("queue_empty", lang), className="gc-empty")]
    elif counts[tab] > QUEUE_ROWS:
        rows.append(html.Div(t("queue_more", lang, n=QUEUE_ROWS, total=counts[tab]), className="gc-empty"))
    return rows, counts


def queue_row(incident, rt, now, lang: str) -> html.Div:
    """One queue line: urgency, category, clock light, description, where, how long ago."""
    category = rt.city.catalogue.find_category(incident.category_code) if incident.category_code else None
    cname = (category.name_zh if lang == "zh" else category.name_en) if category else (incident.category_code or "—")
    community = rt.city.grids.find(incident.grid_community) if incident.grid_community else None
    street = rt.city.grids.find(incident.grid_street) if incident.grid_street else None
    place = " · ".join(
        g.name if lang == "zh" else g.properties.get("name_en", g.name) for g in (street, community) if g
    )
    late = is_overdue(incident, now)
    signal = light(rt.city, incident, now)
    return html.Div(
        [
            html.Div(className=f"gc-urg gc-urg-{incident.urgency}"),
            html.Div(
                [
                    html.Div(
                        [
                            html.B(cname, className="gc-q-cat"),
                            html.Span(t("overdue_flag", lang), className="gc-tag-late")
                            if late
                            else light_dot(str(signal) if signal else None, lang),
                        ],
                        className="gc-q-l1",
                    ),
                    html.Div(incident.description, className="gc-q-desc"),
                    html.Div(
                        [
                            html.Span(place or (t("f_location", lang) + " —")),
                            html.Span(ago(incident.created_at, now, lang)),
                        ],
                        className="gc-q-l3",
                    ),
                ],
                className="gc-q-main",
            ),
        ],
        id={"type": "cc-qrow", "index": incident.id},
        n_clicks=0,
        className="gc-qrow" + (" gc-qrow-late" if late else ""),
        **{"data-id": incident.id, "data-status": incident.status},
    )


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
                id={"type": "cc-qrow", "index": i.id},
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
