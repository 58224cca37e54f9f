"""What the workbench (/work) renders on the server: the boxes of the signed-in person (dispatcher.handling.boxes),
their counts, the filter choices, and one list row per case — inside the person's scope, always."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from dash import html

from dashboard.api.officers import assignee_label
from dashboard.pages import i18n_work  # noqa: F401  (merges the page's strings into i18n)
from dashboard.pages.components import light_dot, local_time, status_badge
from dashboard.pages.i18n import t
from dashboard.runtime import current_runtime
from dispatcher.access.accounts import Principal
from dispatcher.access.roles import Role, may_see_phones
from dispatcher.cases.clocks import is_overdue, light
from dispatcher.cases.incident import Incident
from dispatcher.handling.boxes import Box, BoxQuery, counts, list_box
from geo.grids import Level

R = Role
WORK_ROLES = frozenset(
    {R.DEPT_HANDLER, R.DEPT_HEAD, R.ENFORCEMENT, R.GRID_WORKER, R.DISPATCHER, R.SHIFT_LEADER, R.HOTLINE, R.LEADER}
)
NAV_ROLES = WORK_ROLES - {R.LEADER}  # the header links 工作台 for the people after dispatch
PAGE_ROWS = 100
STAGES = ("file", "dispatch", "handle", "verify")


def may_work(principal: Principal | None) -> bool:
    return principal is not None and principal.role in WORK_ROLES


def boxes_of(principal: Principal) -> list[Box]:
    """The tabs of this person: 待办 / 已办 / 超时 / 待审批, and 部门箱 for department accounts."""
    boxes = [Box.TODO, Box.DONE, Box.OVERDUE, Box.APPROVAL]
    return boxes + [Box.DEPARTMENT] if principal.department_code else boxes


@dataclass(frozen=True)
class Filters:
    """The page's filter inputs as the browser sends them (anything malformed counts as "any")."""

    box: str | None = None
    stage: str | None = None
    category: str | None = None
    grid: str | None = None
    due: str | None = None  # a local date: cases whose stage deadline is before the end of that day
    q: str | None = None
    phone: str | None = None


def _str(value) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def due_before(day: str | None, tz: str) -> datetime | None:
    """The end of a local day ("YYYY-MM-DD") as an aware datetime (None when absent or malformed)."""
    try:
        start = date.fromisoformat(day) if day else None
    except ValueError:
        return None
    return datetime.combine(start + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz)) if start else None


def box_query(principal: Principal, f: Filters, tz: str) -> BoxQuery:
    """The BoxQuery of the filters; the phone only for roles that may see callers' numbers (others: ignored)."""
    allowed = {str(b) for b in boxes_of(principal)}
    box = Box(f.box) if f.box in allowed else Box.TODO
    phone = _str(f.phone) if may_see_phones(principal.role) else None
    return BoxQuery(
        box=box,
        stage=_str(f.stage) if f.stage in STAGES else None,
        category=_str(f.category),
        grid=_str(f.grid),
        due_before=due_before(_str(f.due), tz),
        q=_str(f.q),
        phone=phone,
        page_size=PAGE_ROWS,
    )


def listing(principal: Principal, f: Filters) -> tuple[list[Incident], int, dict[str, int], datetime, dict[str, str]]:
    """One box's cases (most urgent first), its total, every box's count, the time they were read, and how the
    people on them read (an officer or account by name)."""
    rt = current_runtime()
    now = rt.clock()
    query = box_query(principal, f, rt.settings.timezone)
    with rt.sessions() as session:
        items, total = list_box(session, rt.city, principal, query, now=now)
        tally = counts(session, rt.city, principal, now=now)
        people = {p for i in items for p in (i.assignee, i.verifier) if p}
        names = {p: assignee_label(session, p) or p for p in people}
        for incident in items:  # what the rows read, while the session is open
            session.expunge(incident)
    return items, total, tally, now, names


def stable_order(previous: list[str] | None, fresh: list[str]) -> list[str]:
    """The rows of a live refresh in the order already on screen: known ones keep their place (gone ones drop out),
    new ones come after them in the server's order. Nothing jumps under the pointer."""
    wanted = set(fresh)
    kept = [i for i in (previous or []) if i in wanted]
    seen = set(kept)
    return kept + [i for i in fresh if i not in seen]


def _category(code: str | None, lang: str) -> str:
    category = current_runtime().city.catalogue.find_category(code) if code else None
    return (category.name_zh if lang == "zh" else category.name_en) if category else (code or "—")


def _place(incident: Incident, lang: str) -> str:
    if incident.address:
        return incident.address
    grids = current_runtime().city.grids
    found = [grids.find(c) for c in (incident.grid_street, incident.grid_community) if c]
    return " · ".join(g.name if lang == "zh" else g.properties.get("name_en", g.name) for g in found if g) or "—"


def row(incident: Incident, now: datetime, lang: str, selected: str | None, names: dict[str, str]) -> html.Div:
    """One case: short number, category, address, status, deadline with its traffic light, assignee / verifier."""
    rt = current_runtime()
    signal = light(rt.city, incident, now)
    late = is_overdue(incident, now)
    who = " / ".join(names.get(x, x) for x in (incident.assignee, incident.verifier) if x) or "—"
    classes = "gc-qrow gc-wrow" + (" gc-qrow-late" if late else "") + (" gc-wrow-on" if incident.id == selected else "")
    return html.Div(
        [
            html.Div(className=f"gc-urg gc-urg-{incident.urgency}"),
            html.Div(
                [
                    html.Div(
                        [
                            html.Code(incident.label, className="gc-w-id"),
                            html.Span(_category(incident.category_code, lang), className="gc-q-cat"),
                            status_badge(incident.status, lang),
                        ],
                        className="gc-q-l1",
                    ),
                    html.Div(_place(incident, lang), className="gc-q-desc gc-w-addr"),
                    html.Div(
                        [
                            html.Span(
                                [
                                    light_dot(str(signal) if signal else None, lang),
                                    " ",
                                    local_time(incident.stage_deadline, rt.settings.timezone),
                                ],
                                className="gc-w-due",
                            ),
                            html.Span(who, className="gc-w-who"),
                        ],
                        className="gc-q-l3",
                    ),
                ],
                className="gc-q-main",
            ),
        ],
        id={"type": "wk-row", "index": incident.id},
        n_clicks=0,
        className=classes,
        **{"data-id": incident.id, "data-status": incident.status},
    )


def rows(
    items: list[Incident],
    order: list[str],
    total: int,
    now: datetime,
    lang: str,
    selected: str | None,
    names: dict[str, str],
) -> list:
    """The rows in `order`, or the empty hint; a note when the box holds more than one page."""
    by_id = {i.id: i for i in items}
    shown = [row(by_id[i], now, lang, selected, names) for i in order if i in by_id]
    if not shown:
        return [html.Div(t("wk_empty", lang), className="gc-empty")]
    if total > len(shown):
        shown.append(html.Div(t("wk_more", lang, n=len(shown), total=total), className="gc-empty"))
    return shown


def tab_label(box: Box | str, n: int, lang: str) -> str:
    return f"{t(f'box_{box}', lang)} {n}"


def filter_options(lang: str) -> dict[str, list[dict]]:
    """The choices of the stage, category (big classes) and grid (streets, then communities) filters."""
    from dashboard.pages.i18n import stage_label

    city = current_runtime().city
    name = lambda g: g.name if lang == "zh" else g.properties.get("name_en", g.name)
    grids = [
        {"label": name(g), "value": g.code}
        for level in (Level.STREET, Level.COMMUNITY)
        for g in sorted(city.grids.by_level(level), key=lambda g: g.code)
    ]
    bigs = sorted(city.catalogue.big_classes.values(), key=lambda b: b.code)
    return {
        "stage": [{"label": stage_label(s, lang), "value": s} for s in STAGES],
        "category": [{"label": b.name_zh if lang == "zh" else b.name_en, "value": b.code} for b in bigs],
        "grid": grids,
    }
