"""Errors in words a person reads: `error_text(exc, lang)` turns an engine or validation error into a catalogue message.

The engine's errors carry English text with ids for logs and the API; the UI shows this module's text instead,
with the ids, statuses, actions, roles and channels filled in and named in the page's language."""

from __future__ import annotations

import re
from collections.abc import Callable

from pydantic import ValidationError

from dashboard.pages import i18n_reasons
from dashboard.pages.i18n import STRINGS, action_label, role_label, status_label, t
from dispatcher.errors import ConcurrentUpdate, Conflict, EngineError, Forbidden, Invalid, NotFound

ERROR_STRINGS: dict[str, tuple[str, str]] = {
    "err_generic": ("操作失败，请稍后重试", "The action failed; try again"),
    "err_invalid": ("填写的内容有误，请检查后重试", "Something entered is not valid; check and retry"),
    "err_invalid_field": ("「{field}」填写有误，请检查后重试", "“{field}” is not valid; check and retry"),
    "err_not_found": ("未找到所需记录，可能已被删除", "The record was not found; it may have been removed"),
    "err_conflict": (
        "与案件当前状态冲突，已刷新为最新状态，请核对后重试",
        "This conflicts with the current state; reload and retry",
    ),
    "err_forbidden": ("无权执行此操作", "You may not do this"),
    "err_stale": (
        "此案件 {id} 已被他人更新，已刷新为最新状态",
        "Case {id} was changed by someone else; it now shows the latest state",
    ),
    "err_stale_by": (
        "此案件 {id} 已被他人处理（{who} 于 {time} {action}），请刷新后重试",
        "Case {id} was handled by someone else ({who}, {time}: {action}); reload and retry",
    ),
    "err_illegal": (
        "案件 {id} 当前状态为「{status}」，不能执行「{action}」",
        "Case {id} is {status}: “{action}” is not possible now",
    ),
    "err_role_action": ("您的角色（{role}）不能执行「{action}」", "Your role ({role}) may not “{action}”"),
    "err_out_of_scope": ("案件 {id} 不在您的管辖范围内", "Case {id} is outside your area"),
    "err_not_your_department": (
        "案件 {id} 已派遣给 {department}，不是您所在的部门",
        "Case {id} is dispatched to {department}, not to your department",
    ),
    "err_claimed_by_other": ("案件 {id} 已由 {who} 签收办理", "Case {id} is claimed by {who}"),
    "err_not_your_grid": ("案件 {id} 不在您负责的网格内", "Case {id} is not in your grid"),
    "err_not_your_verification": ("案件 {id} 的核查已派给 {who}", "Verification of case {id} is assigned to {who}"),
    "err_not_partner": ("您的部门不是案件 {id} 的协办部门", "Your department is not a partner of case {id}"),
    "err_no_reports": ("您的角色（{role}）不能上报案件", "Your role ({role}) does not take reports"),
    "err_channel_forbidden": (
        "您的角色（{role}）不能通过「{channel}」上报",
        "Your role ({role}) may not report through {channel}",
    ),
    "err_phone_search": ("您的角色（{role}）不能按来电号码查询", "Your role ({role}) may not search by caller number"),
    "err_self_handle_role": ("只有网格员可以自行处置", "Only grid workers may self-handle"),
    "err_self_handle_photo": ("自行处置须上传处置前、处置后照片", "Self-handling needs a photo before and after"),
    "err_self_handle_result": ("自行处置须填写处置结果", "Self-handling needs a result"),
    "err_incident_missing": ("案件 {id} 不存在", "Case {id} does not exist"),
    "err_merge_self": ("案件不能合并到自身", "A case cannot be merged into itself"),
    "err_merge_needs_parent": ("请选择要合并到的案件", "Pick the case to merge into"),
    "err_cannot_file": ("案件 {id} 暂不能立案：{why}", "Case {id} cannot be filed yet: {why}"),
    "err_need_category": ("案件 {id} 尚无类别，请先选择类别", "Case {id} has no category: pick one"),
    "err_need_department": ("案件 {id} 尚无责任部门，请选择派遣部门", "Case {id} has no department: pick one"),
    "err_no_level": ("案件 {id} 尚未立案，不能上报", "Case {id} is not filed yet: it cannot be escalated"),
    "err_top_level": ("案件 {id} 已在最高层级，不能再上报", "Case {id} is already at the top level"),
    "err_ledger_exists": ("案件 {id} 已有台账记录", "Case {id} already has a ledger entry"),
    "err_evidence_closed": ("案件已结束，不能再补充证据", "The case is finished: no more evidence"),
    "err_evidence_empty": ("请至少选择一个证据文件", "Choose at least one evidence file"),
    "err_no_request": ("案件 {id} 没有待审批的申请", "Case {id} has no request waiting"),
    "err_request_waiting": ("案件 {id} 已有待审批的申请 {request}", "Case {id} already has request {request} waiting"),
    "err_request_missing": ("申请 {request} 不存在", "Request {request} does not exist"),
    "err_request_decided": ("案件 {id} 的申请 {request} 已处理", "Request {request} of case {id} was already decided"),
    "err_unknown_partner": ("协办部门 {department} 不存在", "Partner department {department} does not exist"),
    "err_lead_partner": (
        "{department} 是主办部门，不能同时作为协办部门",
        "{department} leads the case; it cannot be a partner",
    ),
    "err_not_a_partner": ("{department} 不是此案件的协办部门", "{department} is not a partner of this case"),
    "err_action_needs": ("「{action}」需要填写「{field}」", "“{action}” needs “{field}”"),
    "err_officer_missing": ("人员 {officer} 不存在", "Officer {officer} does not exist"),
    "err_device_missing": ("终端 {device} 不存在或已吊销", "Tracker {device} does not exist or was revoked"),
    "err_device_revoked": ("终端 {device} 已于此前吊销", "Tracker {device} was already revoked"),
    "err_label_long": ("终端说明过长", "The label is too long"),
    "err_username_taken": ("用户名 {user} 已被使用", "Username {user} is taken"),
    "err_password_short": ("新密码至少需要 {n} 个字符", "The new password needs at least {n} characters"),
    "err_phone_short": ("号码位数不足，无法查询", "Too few digits to look up"),
    "err_notification_missing": ("该通知不存在", "The notification does not exist"),
    "err_unauthenticated": ("登录已失效，请重新登录", "Your session has ended: sign in again"),
    "err_media_type": ("不支持的文件类型", "This file type is not accepted"),
    "err_media_large": ("文件过大", "The file is too large"),
    "err_media_integrity": ("证据文件缺失或已被改动", "An evidence file is missing or was changed"),
    "err_not_candidate": (
        "所选案件已不是此上报的疑似重复案件，请刷新",
        "That case is no longer a duplicate candidate: reload",
    ),
    "err_idempotent": ("此操作已提交过，请勿重复提交", "This was already submitted"),
    "err_parent_merged": (
        "案件 {id} 本身已合并到 {parent}，请合并到 {parent}",
        "Case {id} is merged into {parent}: merge into {parent}",
    ),
    "err_parent_closed": (
        "案件 {id} 已「{status}」，只能合并到在办案件",
        "Case {id} is {status}: only an open case takes duplicates",
    ),
    "err_child_carries": (
        "案件 {id} 已并入其他重复件，请先拆分",
        "Case {id} carries merged reports: unmerge them first",
    ),
    "err_part_done": ("协办部门 {department} 已反馈过", "Partner {department} already reported its part"),
    "err_redispatch_same": (
        "案件 {id} 由 {department} 退回，请改派其他部门或审定维持",
        "Case {id} was returned by {department}: pick another department or uphold",
    ),
    "err_deadline_not_later": ("新时限须晚于当前时限", "The new deadline must be later than the current one"),
    "err_partners_waiting": ("协办部门 {departments} 尚未反馈", "Partners {departments} have not reported"),
    "err_callback_first": ("案件 {id} 结案前须先完成回访", "Case {id} needs a callback before closing"),
    "err_return_evidence": (
        "此退单原因须附证据：请先以“退单”环节上传文件",
        "This return reason needs evidence: upload a file at step Return",
    ),
    "err_feedback_photos": ("此类别反馈须附处置前、处置后照片", "This category needs photos before and after"),
    "err_media_strangers": ("所选文件不属于案件 {id}", "The chosen files are not files of case {id}"),
    # pydantic validation
    "val_missing": ("必填", "required"),
    "val_too_long": ("过长（最多 {n} 个字）", "too long (at most {n})"),
    "val_too_short": ("过短（至少 {n} 个字）", "too short (at least {n})"),
    "val_range": ("超出允许范围", "out of range"),
    "val_choice": ("不是可选的值", "not one of the choices"),
    "val_format": ("格式有误", "malformed"),
    "val_field": ("「{field}」{problem}", "“{field}”: {problem}"),
    "val_sep": ("；", "; "),
}

FIELD: dict[str, tuple[str, str]] = {
    "address": ("地址", "Address"),
    "assignee": ("处置人", "Assignee"),
    "call_nature": ("来电性质", "Call nature"),
    "callback_name": ("回访联系人", "Callback name"),
    "callback_phone": ("回访电话", "Callback number"),
    "category_code": ("类别", "Category"),
    "channel": ("来源渠道", "Channel"),
    "department": ("责任部门", "Department"),
    "description": ("诉求内容", "Description"),
    "expected_version": ("案件版本", "Case version"),
    "external_id": ("外部编号", "External id"),
    "lat": ("纬度", "Latitude"),
    "lon": ("经度", "Longitude"),
    "media_ids": ("证据文件", "Evidence files"),
    "media": ("证据文件", "Evidence files"),
    "note": ("意见", "Note"),
    "parent_id": ("合并到的案件", "Case to merge into"),
    "partners": ("协办部门", "Partner departments"),
    "public_note": ("公开答复", "Public note"),
    "reached": ("是否联系上", "Reached"),
    "reason": ("原因", "Reason"),
    "reason_code": ("退单原因", "Return reason"),
    "reporter_name": ("来电人姓名", "Caller's name"),
    "reporter_phone": ("来电号码", "Caller's number"),
    "phone": ("来电号码", "Caller's number"),
    "request_id": ("待审批申请", "Request"),
    "result": ("处置结果", "Result"),
    "satisfied": ("是否满意", "Satisfied"),
    "until": ("新时限", "New deadline"),
    "urgency": ("紧急程度", "Urgency"),
    "verifier": ("核查网格员", "Verifier"),
    "stage": ("所属环节", "Step"),
    "label": ("终端说明", "Label"),
    "officer_id": ("人员", "Officer"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "region_code": ("管辖区域", "Region"),
    "level": ("层级", "Level"),
    "id": ("案件", "Case"),
}
STRINGS.update({key: pair for key, pair in ERROR_STRINGS.items() if key not in STRINGS})

_ID = r"(?P<id>[^\s:;,]+)"
# (pattern on the engine's English message, catalogue key); the first match wins, named groups fill the message.
PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), key)
    for pattern, key in (
        (r"role '(?P<role>[^']+)' may not '(?P<action>[^']+)' incidents", "err_role_action"),
        (r"role '(?P<role>[^']+)' may not report through channel '(?P<channel>[^']+)'", "err_channel_forbidden"),
        (r"role '(?P<role>[^']+)' does not take reports", "err_no_reports"),
        (r"role '(?P<role>[^']+)' may not search by a caller's number", "err_phone_search"),
        (r"may not self-handle reports", "err_self_handle_role"),
        (r"a self-handled report needs at least one", "err_self_handle_photo"),
        (r"a self-handled report needs 'result'", "err_self_handle_result"),
        (rf"incident {_ID} is outside the scope of user", "err_out_of_scope"),
        (rf"incident {_ID} is dispatched to department (?P<department>[^\s,]+)", "err_not_your_department"),
        (rf"incident {_ID} is claimed by (?P<who>[^\s,]+), not by", "err_claimed_by_other"),
        (rf"incident {_ID} is not in grid", "err_not_your_grid"),
        (rf"incident {_ID}: verification is dispatched to (?P<who>[^\s,]+)", "err_not_your_verification"),
        (rf"incident {_ID}: department \S+ of user \S+ is not a partner", "err_not_partner"),
        (rf"incident {_ID} does not exist", "err_incident_missing"),
        (rf"incident {_ID} is itself merged into (?P<parent>[^\s;]+)", "err_parent_merged"),
        (rf"incident {_ID} is (?P<status>\w+); only an open case", "err_parent_closed"),
        (rf"incident {_ID} carries \d+ merged report", "err_child_carries"),
        (r"partner (?P<department>\S+) already reported its part", "err_part_done"),
        (rf"incident {_ID} was returned by (?P<department>[^\s:]+)", "err_redispatch_same"),
        (r"new deadline \S+ is not after", "err_deadline_not_later"),
        (r"partner departments (?P<departments>.+) have not reported", "err_partners_waiting"),
        (rf"incident {_ID} needs a callback record", "err_callback_first"),
        (r"return reason \S+ needs evidence", "err_return_evidence"),
        (r"feedback on category \S+ needs", "err_feedback_photos"),
        (rf"are not files of incident {_ID}", "err_media_strangers"),
        (r"Idempotency-Key", "err_idempotent"),
        (r"is not a duplicate candidate of", "err_not_candidate"),
        (r"cannot be merged into itself", "err_merge_self"),
        (r"action 'merge' needs 'parent_id'", "err_merge_needs_parent"),
        (rf"incident {_ID} cannot be filed yet: (?P<why>.*)", "err_cannot_file"),
        (rf"incident {_ID} has no category", "err_need_category"),
        (rf"incident {_ID} has no routed department", "err_need_department"),
        (rf"incident {_ID} has no level yet", "err_no_level"),
        (rf"incident {_ID} is already at the top level", "err_top_level"),
        (rf"incident {_ID} already has a ledger entry", "err_ledger_exists"),
        (r"evidence can no longer be added", "err_evidence_closed"),
        (r"needs at least one file", "err_evidence_empty"),
        (rf"incident {_ID} has no request waiting", "err_no_request"),
        (rf"incident {_ID} already has \w+ request (?P<request>\S+) waiting", "err_request_waiting"),
        (r"approval request (?P<request>\S+) of incident \S+ does not exist", "err_request_missing"),
        (rf"approval request (?P<request>\S+) of incident {_ID} (is already|asks to)", "err_request_decided"),
        (r"unknown partner department '(?P<department>[^']+)'", "err_unknown_partner"),
        (r"(?P<department>\S+) leads the case and cannot be its partner", "err_lead_partner"),
        (r"department (?P<department>\S+) is not a partner", "err_not_a_partner"),
        (r"action '(?P<action>[^']+)' needs '(?P<field>[^']+)'", "err_action_needs"),
        (r"officer '?(?P<officer>[^'\s]+)'? does not exist", "err_officer_missing"),
        (r"device '?(?P<device>[^'\s]+)'? does not exist", "err_device_missing"),
        (r"device (?P<device>\S+) was already revoked", "err_device_revoked"),
        (r"device label for officer", "err_label_long"),
        (r"username '(?P<user>[^']+)' is taken", "err_username_taken"),
        (r"needs at least (?P<n>\d+) characters", "err_password_short"),
        (r"has too few digits", "err_phone_short"),
        (r"notification \S+ not found", "err_notification_missing"),
    )
)
_BY_CODE = {
    "unauthenticated": "err_unauthenticated",
    "unsupported_media_type": "err_media_type",
    "file_too_large": "err_media_large",
    "image_too_large": "err_media_large",
    "integrity_check_failed": "err_media_integrity",
}
_BY_CLASS: tuple[tuple[type[EngineError], str], ...] = (
    (NotFound, "err_not_found"),
    (Forbidden, "err_forbidden"),
    (Conflict, "err_conflict"),
    (Invalid, "err_invalid"),
)


def field_name(field: str | None, lang: str) -> str:
    """A command field's name in words (the raw name when unknown)."""
    pair = FIELD.get(field or "")
    return (pair[1] if lang == "en" else pair[0]) if pair else (field or "")


def _fill(groups: dict[str, str], lang: str) -> dict[str, str]:
    """Named groups with codes turned into words."""
    namers: dict[str, Callable[[str, str], str]] = {
        "role": role_label,
        "action": action_label,
        "status": status_label,
        "field": field_name,
        "channel": i18n_reasons.channel_label,
    }
    return {k: (namers[k](v, lang) if k in namers else v) for k, v in groups.items()}


def stale_text(
    incident_id: str, lang: str, *, who: str | None = None, when: str | None = None, action: str | None = None
) -> str:
    """The "someone else changed this case first" message, naming who, when and what when the caller knows."""
    if who and when and action:
        return t("err_stale_by", lang, id=incident_id, who=who, time=when, action=action_label(action, lang))
    return t("err_stale", lang, id=incident_id)


def validation_text(exc: ValidationError, lang: str) -> str:
    """A pydantic error as field names and problems in words."""
    parts = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if isinstance(p, str)]
        kind, ctx = err.get("type", ""), err.get("ctx") or {}
        if kind == "missing":
            problem = t("val_missing", lang)
        elif kind in ("string_too_long", "too_long"):
            problem = t("val_too_long", lang, n=ctx.get("max_length", "?"))
        elif kind in ("string_too_short", "too_short"):
            problem = t("val_too_short", lang, n=ctx.get("min_length", "?"))
        elif kind.startswith(("greater_than", "less_than")):
            problem = t("val_range", lang)
        elif kind in ("literal_error", "enum"):
            problem = t("val_choice", lang)
        else:
            problem = t("val_format", lang)
        field = field_name(loc[-1], lang) if loc else ""
        parts.append(t("val_field", lang, field=field, problem=problem) if field else problem)
    return t("val_sep", lang).join(dict.fromkeys(parts)) or t("err_invalid", lang)


def error_text(
    exc: BaseException,
    lang: str,
    *,
    case: str | None = None,
    who: str | None = None,
    when: str | None = None,
    action: str | None = None,
) -> str:
    """What went wrong, in the page's language, with the ids filled in.

    `case` (the case number people read) replaces the incident's internal id; `who`, `when` and `action` (the
    newest timeline row, when the caller has it) make a stale-version message say who changed the case first."""
    text = _text(exc, lang, who=who, when=when, action=action)
    incident_id = getattr(exc, "incident_id", None) or _incident_id(exc)
    return text.replace(incident_id, case) if case and incident_id else text


def _incident_id(exc: BaseException) -> str | None:
    match = re.search(r"incident ([0-9a-f-]{36})", str(exc))
    return match.group(1) if match else None


def _text(exc: BaseException, lang: str, *, who: str | None, when: str | None, action: str | None) -> str:
    if isinstance(exc, ValidationError):
        return validation_text(exc, lang)
    if isinstance(exc, ConcurrentUpdate):
        return stale_text(exc.incident_id, lang, who=who, when=when, action=action)
    current, attempted = getattr(exc, "current", None), getattr(exc, "action", None)
    if isinstance(exc, Conflict) and current is not None and attempted is not None:  # IllegalTransition
        return t(
            "err_illegal",
            lang,
            id=getattr(exc, "incident_id", ""),
            status=status_label(str(current), lang),
            action=action_label(str(attempted), lang),
        )
    retry_after = getattr(exc, "retry_after", None)
    if retry_after is not None:
        return t("login_throttled", lang, seconds=retry_after)
    if not isinstance(exc, EngineError):
        return t("err_generic", lang)
    if exc.code == "login_failed":
        return t("login_failed", lang)
    if exc.code in _BY_CODE:
        return t(_BY_CODE[exc.code], lang)
    for pattern, key in PATTERNS:
        if match := pattern.search(exc.message):
            groups = {k: v for k, v in match.groupdict().items() if v is not None}
            if "why" in groups:  # the engine's English detail; the field carries the triage code
                groups["why"] = i18n_reasons.triage_note(exc.field, lang)
            return t(key, lang, **_fill(groups, lang))
    if lang == "en":
        return exc.message  # the engine's own English text names the ids
    if isinstance(exc, Invalid) and exc.field:
        return t("err_invalid_field", lang, field=field_name(exc.field, lang))
    return next((t(key, lang) for cls, key in _BY_CLASS if isinstance(exc, cls)), t("err_generic", lang))
