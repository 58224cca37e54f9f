"""Why a case went where it went, in words: routing reasons, triage reasons and notes, intake channels.

The engine stores codes and structured facts (routing rule, department, category, grid, triage code, the
detection); these render them through the catalogue. Keys: `channel_<code>`, `triage_reason_<code>` (a short
label; any module may add one for a new code), `triage_note_<code>` (a sentence with the facts filled in),
`route_<kind>` (kind = the routing rule's prefix)."""

from __future__ import annotations

from typing import Any

from dashboard.pages.i18n import STRINGS, t

REASON_STRINGS: dict[str, tuple[str, str]] = {
    # intake channels (dispatcher.cases.incident.Channel, machine source kinds)
    "channel_grid_worker": ("网格员上报", "Grid worker"),
    "channel_hotline": ("12345 热线", "12345 hotline"),
    "channel_public": ("公众上报", "Public report"),
    "channel_open311": ("合作平台（Open311）", "Partner app (Open311)"),
    "channel_video": ("视频巡查", "Video patrol"),
    "channel_camera": ("智能摄像头", "AI camera"),
    "channel_sensor": ("物联感知设备", "IoT sensor"),
    "channel_leader": ("领导交办", "Leader's instruction"),
    "channel_api": ("系统接口", "System interface"),
    "channel_grid_app": ("网格员手机", "Grid worker's phone"),
    "channel_public_app": ("公众手机应用", "Public app"),
    "channel_in_app": ("站内消息", "In-app"),
    "channel_sms": ("短信", "SMS"),
    # triage reasons: short labels (dispatcher.city.routing.TriageCode, duplicates, manual)
    "triage_reason_outside_grid": ("不在网格内", "Outside every grid"),
    "triage_reason_unknown_category": ("类别未知", "Unknown category"),
    "triage_reason_no_department": ("无责任部门", "No department"),
    "triage_reason_near_border": ("网格边界附近", "Near a grid border"),
    "triage_reason_machine_detected": ("设备识别待核", "Machine detection"),
    "triage_reason_low_confidence": ("识别置信度低", "Low confidence"),
    "triage_reason_manual": ("人工转甄别", "Sent to triage by hand"),
    "triage_reason_suspected_duplicate": ("疑似重复", "Suspected duplicate"),
    # triage notes: what the dispatcher should check
    "triage_note_outside_grid": (
        "上报位置不在本市任何网格内：请在地图上更正位置后立案",
        "The location is not inside any grid of the city: correct it on the map, then file",
    ),
    "triage_note_unknown_category": ("未填写类别：请选择类别后立案", "No category given: pick one, then file"),
    "triage_note_unknown_category_code": (
        "类别 {category} 不在类别目录中：请选择类别后立案",
        "Category {category} is not in the catalogue: pick one, then file",
    ),
    "triage_note_no_department": (
        "类别「{category}」在 {grid} 没有默认责任部门，也没有适用的派遣规则：请指定部门",
        "Category “{category}” has no default department and no rule applies in {grid}: choose a department",
    ),
    "triage_note_near_border": (
        "位置靠近网格边界：请确认所属网格",
        "The location is near a grid border: confirm the grid",
    ),
    "triage_note_machine_detected": (
        "{source} {source_id} 识别到「{event}」（置信度 {confidence}）：设备识别须人工确认",
        "{source} {source_id} detected “{event}” (confidence {confidence}): an operator confirms machine detections",
    ),
    "triage_note_low_confidence": (
        "{source} {source_id} 识别到「{event}」，置信度 {confidence} 低于阈值：请查看快照或视频确认",
        "{source} {source_id} detected “{event}” with low confidence {confidence}: confirm on the snapshot or video",
    ),
    "triage_note_manual": ("人工转甄别：{detail}", "Sent to triage by hand: {detail}"),
    "triage_note_suspected_duplicate": ("可能与 {ids} 重复", "May repeat {ids}"),
    # routing reasons (Incident.routing_rule: "<kind>:<argument>")
    "route_default": (
        "类别「{category}」在 {grid}：默认责任部门 {department}（{level}）",
        "Category “{category}” in {grid}: default department {department} ({level})",
    ),
    "route_override": (
        "类别「{category}」在 {grid}：派遣规则 {rule} 指定 {department}（{level}）",
        "Category “{category}” in {grid}: routing rule {rule} names {department} ({level})",
    ),
    "route_escalation": ("上报至 {level}：由 {department} 承办", "Escalated to {level}: {department} owns it"),
    "route_manual": ("{who} 人工指定责任部门 {department}", "{who} chose department {department} by hand"),
    "route_unknown": ("{department}（{level}）", "{department} ({level})"),
    "grid_unit": ("单元网格 {code}", "unit grid {code}"),
    "grid_community": ("社区 {code}", "community {code}"),
    "grid_street": ("街道 {code}", "street {code}"),
    "grid_district": ("区 {code}", "district {code}"),
    "ladder_community": ("社区工作站", "community workstation"),
    "ladder_street": ("街道受理中心", "street acceptance center"),
    "ladder_district": ("区指挥中心", "district command center"),
    "ladder_leadership": ("区领导", "district leadership"),
    "ladder_grid_worker": ("网格员", "grid worker"),
    "ladder_city": ("市级部门", "city departments"),
    "ladder_department": ("职能部门", "department"),
}
STRINGS.update({key: pair for key, pair in REASON_STRINGS.items() if key not in STRINGS})

_GRID_KEYS = ("unit", "community", "street", "district")


def _runtime_catalogue():
    try:
        from dashboard.runtime import current_runtime

        return current_runtime().city.catalogue
    except Exception:  # no runtime (a unit test, a script): names fall back to codes
        return None


def _named(obj, code: str | None, lang: str) -> str:
    if obj is None:
        return code or "—"
    return obj.name_en if lang == "en" else obj.name_zh


def channel_label(code: str | None, lang: str) -> str:
    """An intake (or notification) channel in words; the code itself when the catalogue lacks it."""
    key = f"channel_{code}"
    return t(key, lang) if key in STRINGS else (code or "—")


def triage_label(code: str | None, lang: str) -> str:
    """A triage reason's short label: `triage_reason_<code>`, else the older `dup_reason_<code>`, else the code."""
    for key in (f"triage_reason_{code}", f"dup_reason_{code}"):
        if key in STRINGS:
            return t(key, lang)
    return code or "—"


def category_label(code: str | None, lang: str) -> str:
    """A category's code and name (the code alone when the catalogue lacks it)."""
    catalogue = _runtime_catalogue()
    cat = catalogue.find_category(code) if catalogue is not None and code else None
    return f"{code} {_named(cat, code, lang)}" if cat is not None else (code or "—")


def department_label(code: str | None, lang: str) -> str:
    """A department's name (the code when the catalogue lacks it)."""
    catalogue = _runtime_catalogue()
    dept = catalogue.departments.get(code) if catalogue is not None and code else None
    return _named(dept, code, lang)


def level_label(level: str | None, lang: str) -> str:
    """A ladder level in words: the catalogue's escalation ladder, else the catalogue's own `ladder_<code>`."""
    catalogue = _runtime_catalogue()
    rung = next((r for r in catalogue.escalation if r.code == level), None) if catalogue is not None else None
    if rung is not None:
        return _named(rung, level, lang)
    key = f"ladder_{level}"
    return t(key, lang) if key in STRINGS else (level or "—")


def grid_label(grid: dict[str, Any] | None, lang: str) -> str:
    """The most specific grid of a case (unit, else community, street, district) in words."""
    for kind in _GRID_KEYS:
        if grid and grid.get(kind):
            return t(f"grid_{kind}", lang, code=grid[kind])
    return "—"


def triage_note(
    code: str | None,
    lang: str,
    *,
    view: dict[str, Any] | None = None,
    detail: str | None = None,
    detection: dict[str, Any] | None = None,
    duplicates: list[str] | None = None,
) -> str:
    """What the dispatcher should check for a triaged case, from its code and facts.

    `view` is the incident's as_dict(); `detection` the machine detection (source_kind, source_id, event_type,
    confidence); `detail` a person's own reason (manual triage); `duplicates` the earlier cases' labels. A code
    without a note of its own reads as its label."""
    view = view or {}
    key = f"triage_note_{code}"
    if code == "unknown_category" and view.get("category_code"):
        return t("triage_note_unknown_category_code", lang, category=view["category_code"])
    if code == "no_department":
        return t(
            key, lang, category=category_label(view.get("category_code"), lang), grid=grid_label(view.get("grid"), lang)
        )
    if code in ("machine_detected", "low_confidence"):
        if not detection:
            return triage_label(code, lang)
        return t(
            key,
            lang,
            source=channel_label(detection.get("source_kind"), lang),
            source_id=detection.get("source_id", "—"),
            event=category_label(view.get("category_code"), lang)
            if view.get("category_code")
            else detection.get("event_type", "—"),
            confidence=f"{float(detection.get('confidence') or 0):.2f}",
        )
    if code == "manual":
        return t(key, lang, detail=detail or "—")
    if code == "suspected_duplicate":
        return t(key, lang, ids="、".join(duplicates or []) or "—")
    return t(key, lang) if key in STRINGS else triage_label(code, lang)


def routing_text(view: dict[str, Any], lang: str) -> str:
    """Why a case went to its department, rebuilt from its routing rule, category, grid, department and level."""
    rule = ((view.get("routing") or {}).get("rule") or "").strip()
    kind, _, argument = rule.partition(":")
    facts = {
        "category": category_label(view.get("category_code"), lang),
        "grid": grid_label(view.get("grid"), lang),
        "department": department_label(view.get("department_code"), lang),
        "level": level_label(view.get("level"), lang),
    }
    if kind == "override":
        return t("route_override", lang, rule=argument, **facts)
    if kind == "default":
        return t("route_default", lang, **facts)
    if kind == "escalation":
        return t("route_escalation", lang, **{**facts, "level": level_label(argument, lang)})
    if kind == "manual":
        return t("route_manual", lang, who=argument, department=facts["department"])
    if view.get("department_code"):
        return t("route_unknown", lang, department=facts["department"], level=facts["level"])
    return "—"


def why_text(view: dict[str, Any], lang: str, *, detection: dict[str, Any] | None = None) -> str:
    """The drawer's "routing" line: the routing reason, or the triage note while the case waits in triage."""
    triage = view.get("triage") or {}
    if triage.get("reason"):
        return triage_note(triage["reason"], lang, view=view, detail=triage.get("detail"), detection=detection)
    return routing_text(view, lang)
