"""Every UI string in Simplified Chinese (default) and English, in one dictionary."""

from __future__ import annotations

DEFAULT_LANG = "zh"
LANGS = ("zh", "en")

STRINGS: dict[str, tuple[str, str]] = {
    "product": ("网格指挥", "GridCommand"),
    "product_sub": ("综合执法指挥调度中心", "Command & Dispatch Center"),
    "wall_title": ("城市网格化管理 · 实时态势", "Urban Grid Management · Live Situation"),
    "connected": ("实时连接", "Live"),
    "disconnected": ("连接中断", "Offline"),
    "nav_command": ("指挥调度", "Command"),
    "nav_wall": ("大屏", "Wall"),
    # queue
    "tab_new": ("新上报", "New"),
    "tab_dispatch": ("待派遣", "To dispatch"),
    "tab_overdue": ("超时", "Overdue"),
    "all_streets": ("全部街道", "All streets"),
    "all_categories": ("全部类别", "All categories"),
    "queue_empty": ("暂无案件", "No incidents"),
    "dd_select_all": ("全选", "Select all"),
    "dd_deselect_all": ("全不选", "Deselect all"),
    "dd_selected_count": ("已选 {num_selected} 项", "{num_selected} selected"),
    "dd_search": ("搜索", "Search"),
    "dd_clear_search": ("清除搜索", "Clear search"),
    "dd_clear_selection": ("清除选择", "Clear selection"),
    "dd_no_options_found": ("无匹配项", "No options found"),
    "queue_more": ("仅显示前 {n} 条，共 {total} 条", "Showing {n} of {total}"),
    # grid panel
    "grid_panel": ("网格信息", "Grid"),
    "grid_code": ("编码", "Code"),
    "grid_leader": ("网格长", "Grid leader"),
    "grid_phone": ("电话", "Phone"),
    "grid_open": ("在办案件", "Open incidents"),
    "grid_hint": ("点击地图上的网格查看网格长和在办案件", "Click a grid on the map for its leader and open incidents"),
    "level_street": ("街道", "Street"),
    "level_community": ("社区", "Community"),
    "level_unit": ("单元网格", "Unit grid"),
    "level_district": ("区", "District"),
    # drawer
    "drawer_title": ("案件详情", "Incident"),
    "close": ("关闭", "Close"),
    "f_status": ("状态", "Status"),
    "f_category": ("类别", "Category"),
    "f_urgency": ("紧急程度", "Urgency"),
    "f_location": ("位置", "Location"),
    "f_department": ("责任部门", "Department"),
    "f_assignee": ("处置人", "Assignee"),
    "f_reported": ("上报时间", "Reported"),
    "f_deadline": ("本阶段时限", "Stage deadline"),
    "f_stage": ("阶段", "Stage"),
    "f_routing": ("派遣依据", "Routing"),
    "f_channel": ("来源", "Channel"),
    "timeline": ("办理过程", "Timeline"),
    "actions": ("操作", "Actions"),
    "no_actions": ("当前状态无可执行操作", "No actions in this status"),
    "note_placeholder": ("意见 / 原因 / 处置结果", "Note / reason / result"),
    "public_note_placeholder": (
        "公开答复（显示在 Open311 上，勿写个人信息）",
        "Note for the public (shown on Open311; no personal data)",
    ),
    "dispatch_to": ("派遣部门", "Dispatch to"),
    "nearest": ("就近人员", "Nearest officers"),
    "no_officers": ("暂无可用人员位置", "No officer positions yet"),
    "dispatch_one_click": ("一键派遣", "Dispatch"),
    "done": ("已完成：{action}", "Done: {action}"),
    "failed": ("操作失败：{message}", "Failed: {message}"),
    "overdue_flag": ("已超时", "OVERDUE"),
    "urgency_1": ("一般", "Normal"),
    "urgency_2": ("紧急", "Urgent"),
    "urgency_3": ("特急", "Critical"),
    "light_green": ("正常", "On time"),
    "light_yellow": ("临期", "Due soon"),
    "light_red": ("超期", "Late"),
    "ago_min": ("{n}分钟前", "{n} min ago"),
    "ago_hour": ("{n}小时前", "{n} h ago"),
    "ago_day": ("{n}天前", "{n} d ago"),
    "just_now": ("刚刚", "just now"),
    "legend": ("图例", "Legend"),
    "officers": ("执法队员", "Officers"),
    "incidents": ("案件", "Incidents"),
    "open_total": ("在办", "Open"),
    # wall
    "k_received": ("今日受理", "Received today"),
    "k_filed": ("今日立案", "Filed today"),
    "k_dispatched": ("今日派遣", "Dispatched today"),
    "k_in_handling": ("处置中", "In handling"),
    "k_overdue": ("超时", "Overdue"),
    "k_closed": ("今日结案", "Closed today"),
    "k_on_time": ("按期结案率", "On-time closure"),
    "by_hour": ("今日分时受理", "Intake by hour"),
    "top_categories": ("高发问题类别", "Top categories"),
    "street_rank": ("街道在办 / 超时排名", "Streets: open / overdue"),
    "col_street": ("街道", "Street"),
    "col_open": ("在办", "Open"),
    "col_overdue": ("超时", "Overdue"),
    # sign-in
    "login_title": ("登录", "Sign in"),
    "login_username": ("用户名", "Username"),
    "login_password": ("密码", "Password"),
    "login_totp": ("动态验证码", "Authenticator code"),
    "login_totp_hint": ("系统管理员、审计员和领导账号需要填写", "Required for admin, auditor and leader accounts"),
    "login_submit": ("登录", "Sign in"),
    "login_failed": (
        "登录失败：用户名、密码或验证码有误，或账号已停用",
        "Sign-in failed: wrong credentials or code, or the account is disabled",
    ),
    "login_throttled": (
        "登录失败次数过多：请 {seconds} 秒后再试",
        "Too many failed sign-ins from this address: try again in {seconds} s",
    ),
    "login_demo": ("演示账号（仅演示模式）", "Demo accounts (demo mode only)"),
    "login_demo_sign_in": ("一键登录", "Sign in"),
    "login_demo_code": ("当前验证码", "Current code"),
    "logout": ("退出", "Sign out"),
    "read_only": ("只读", "Read only"),
    # audit page (/audit)
    "audit_title": ("审计日志", "Audit trail"),
    "audit_forbidden": ("无权访问：仅审计员可查看审计日志", "Forbidden: only auditors may see the audit trail"),
    "audit_actor": ("操作人", "Actor"),
    "audit_action": ("操作", "Action"),
    "audit_target": ("对象", "Target"),
    "audit_result": ("结果", "Result"),
    "audit_dates": ("日期", "Dates"),
    "audit_search": ("查询", "Search"),
    "audit_prev": ("上一页", "Previous page"),
    "audit_next": ("下一页", "Next page"),
    "audit_total": ("共 {n} 条", "{n} records"),
    "audit_bad_date": ("日期格式有误", "Invalid date"),
    "audit_result_ok": ("成功", "OK"),
    "audit_result_denied": ("拒绝", "Denied"),
    "audit_result_failed": ("失败", "Failed"),
    "audit_col_id": ("编号", "ID"),
    "audit_col_at": ("时间", "Time"),
    "audit_col_actor": ("操作人", "Actor"),
    "audit_col_role": ("角色", "Role"),
    "audit_col_ip": ("IP 地址", "IP"),
    "audit_col_action": ("操作", "Action"),
    "audit_col_target": ("对象", "Target"),
    "audit_col_result": ("结果", "Result"),
    "audit_col_detail": ("详情", "Detail"),
    "audit_verify": ("校验哈希链", "Verify chain"),
    "audit_intact": ("审计日志完整：{n} 条记录", "Audit trail intact: {n} records"),
    "audit_broken": (
        "审计日志被破坏：记录 {id}（{kind}）— {reason}",
        "Audit trail broken at record {id} ({kind}): {reason}",
    ),
    "audit_kind_edited": ("被篡改", "edited"),
    "audit_kind_deleted": ("前序记录被删除", "a record before it was deleted"),
    "audit_kind_reordered": ("顺序被调换", "reordered"),
    "audit_kind_tail_deleted": ("末尾记录被删除", "newest records deleted"),
    "audit_kind_head": ("链尾与记录不符", "head does not match"),
    "audit_kind_rechained": ("被无密钥重新链接", "re-chained without the key"),
    "audit_kind_truncated": ("末尾记录被删除且链尾被回滚", "newest records deleted and head rolled back"),
    "audit_kind_unsealed": ("未经密钥封存", "not sealed by the key"),
    "audit_kind_checkpoint": ("与签名检查点不符", "does not match a signed checkpoint"),
}

STATUS: dict[str, tuple[str, str]] = {
    "reported": ("已受理", "Reported"),
    "triage": ("待甄别", "Triage"),
    "filed": ("已立案", "Filed"),
    "dispatched": ("已派遣", "Dispatched"),
    "claimed": ("处置中", "Claimed"),
    "suspended": ("挂账", "Suspended"),
    "returned": ("已回退", "Returned"),
    "escalated": ("已上报", "Escalated"),
    "handled": ("已反馈", "Handled"),
    "rework": ("返工", "Rework"),
    "verified": ("核查通过", "Verified"),
    "closed": ("已结案", "Closed"),
    "archived": ("已归档", "Archived"),
    "voided": ("已作废", "Voided"),
}

ACTION: dict[str, tuple[str, str]] = {
    "report": ("受理", "Report"),
    "triage": ("转甄别", "Triage"),
    "file": ("立案", "File"),
    "dispatch": ("派遣", "Dispatch"),
    "claim": ("签收", "Claim"),
    "transfer": ("批转", "Transfer"),
    "return": ("回退", "Return"),
    "escalate": ("上报", "Escalate"),
    "suspend": ("挂账", "Suspend"),
    "resume": ("恢复", "Resume"),
    "extend": ("延期", "Extend"),
    "handle": ("反馈", "Handle"),
    "verify": ("核查通过", "Verify"),
    "reject": ("核查不通过", "Reject"),
    "close": ("结案", "Close"),
    "archive": ("归档", "Archive"),
    "void": ("作废", "Void"),
    "overdue": ("超时", "Overdue"),
}

STAGE: dict[str, tuple[str, str]] = {
    "file": ("立案", "Filing"),
    "dispatch": ("派遣", "Dispatch"),
    "handle": ("处置", "Handling"),
    "verify": ("核查", "Verification"),
}

OFFICER_STATUS: dict[str, tuple[str, str]] = {
    "on_duty": ("在岗", "On duty"),
    "busy": ("处置中", "Busy"),
    "off_duty": ("下班", "Off duty"),
    "stale": ("位置过期", "Stale"),
    "offline": ("离线", "Offline"),
}

ROLE: dict[str, tuple[str, str]] = {
    "hotline": ("受理员", "Hotline agent"),
    "grid_worker": ("网格员", "Grid worker"),
    "dispatcher": ("指挥中心坐席", "Dispatcher"),
    "shift_leader": ("值班长", "Shift leader"),
    "dept_handler": ("部门处置人员", "Department handler"),
    "dept_head": ("部门负责人", "Department head"),
    "enforcement": ("执法队员", "Enforcement officer"),
    "leader": ("领导", "Leader"),
    "admin": ("系统管理员", "Administrator"),
    "auditor": ("审计员", "Auditor"),
}


def lang_of(value: str | None) -> str:
    """A supported language code (anything else is the default, Chinese)."""
    return value if value in LANGS else DEFAULT_LANG


def _pick(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "en" else pair[0]


def t(key: str, lang: str, **fmt) -> str:
    """The UI string `key` in `lang`, formatted with `fmt`."""
    text = _pick(STRINGS[key], lang)
    return text.format(**fmt) if fmt else text


def status_label(status: str | None, lang: str) -> str:
    """An incident status in words."""
    return _pick(STATUS[status], lang) if status in STATUS else (status or "—")


def action_label(action: str, lang: str) -> str:
    """A lifecycle action (or timeline action) in words."""
    return _pick(ACTION[action], lang) if action in ACTION else action


def role_label(role: str | None, lang: str) -> str:
    """An account's role in words."""
    return _pick(ROLE[role], lang) if role in ROLE else (role or "—")


def stage_label(stage: str | None, lang: str) -> str:
    return _pick(STAGE[stage], lang) if stage in STAGE else "—"


def dropdown_labels(lang: str) -> dict[str, str]:
    """The texts inside a dcc.Dropdown (its search box, "nothing found"…) in `lang`: pass as `labels=`."""
    keys = ("select_all", "deselect_all", "selected_count", "search", "clear_search", "clear_selection")
    return {k: t(f"dd_{k}", lang) for k in (*keys, "no_options_found")}


def client_strings(lang: str) -> dict[str, str]:
    """Strings the browser-side map code needs (popups, legends)."""
    keys = ("overdue_flag",)
    out = {k: t(k, lang) for k in keys}
    out.update({f"status_{k}": _pick(v, lang) for k, v in STATUS.items()})
    out.update({f"officer_{k}": _pick(v, lang) for k, v in OFFICER_STATUS.items()})
    return out


# ---- hotline console (/hotline) and triage page (/triage): dashboard/pages/hotline*.py, triage*.py ----
STRINGS.update(
    {
        "nav_hotline": ("热线受理", "Hotline"),
        "nav_triage": ("待甄别", "Triage"),
        "hotline_forbidden": (
            "无权访问：仅热线受理员、指挥中心坐席和值班长可使用受理台",
            "Forbidden: only hotline agents, dispatchers and shift leaders may use the hotline console",
        ),
        "triage_forbidden": (
            "无权访问：仅指挥中心坐席和值班长可处理待甄别案件",
            "Forbidden: only dispatchers and shift leaders may work the triage queue",
        ),
        "hl_caller": ("来电人", "Caller"),
        "hl_phone": ("来电号码", "Caller's number"),
        "hl_phone_ph": ("输入号码后回车查询来电记录", "Type the number, Enter shows earlier calls"),
        "hl_phone_short": ("号码位数不足", "Too few digits"),
        "hl_history_hint": (
            "输入来电号码，显示该来电人的历史来电和案件",
            "Type the caller's number to see earlier calls and cases",
        ),
        "hl_new_caller": ("新来电人", "New caller"),
        "hl_known_caller": ("历史来电 {n} 次", "{n} earlier call(s)"),
        "hl_caller_name": ("来电人姓名", "Caller's name"),
        "hl_nature": ("来电性质", "Call nature"),
        "hl_nature_consultation": ("咨询直接答复", "Consultation, answered"),
        "hl_nature_callback": ("需要回访", "Needs callback"),
        "hl_nature_no_callback": ("无需回访", "No callback"),
        "hl_nature_harassment": ("骚扰电话", "Harassment"),
        "hl_cb_name": ("回访联系人", "Callback name"),
        "hl_cb_phone": ("回访电话", "Callback number"),
        "hl_case": ("诉求信息", "The problem"),
        "hl_category_ph": ("输入编码、名称或关键词搜索类别", "Search category by code, name or keyword"),
        "hl_address": ("地址", "Address"),
        "hl_address_ph": ("来电人描述的地址（或在地图上点选）", "Address as the caller says it (or click the map)"),
        "hl_map_hint": (
            "点击地图定位，立即显示所属网格和网格长",
            "Click the map: the grid and its leader show at once",
        ),
        "hl_outside": ("不在任何网格内，将进入待甄别", "Outside every grid: goes to triage"),
        "hl_urgency_auto": ("按类别", "By category"),
        "hl_description": ("诉求内容", "Description"),
        "hl_desc_ph": ("记录来电人反映的问题", "What the caller reports"),
        "hl_phrases": ("惯用语（Alt+数字插入）", "Phrases (Alt+number inserts)"),
        "hl_save": ("保存受理", "Save"),
        "hl_clear": ("清空", "Clear"),
        "hl_saved": ("已受理，案件号", "Saved: case"),
        "hl_saved_merged": ("已受理并合并到 {parent}，案件号", "Saved, merged into {parent}: case"),
        "hl_answered": ("已记录：{nature}（未建案件）", "Noted: {nature} (no case created)"),
        "hl_need_desc": ("请填写诉求内容", "Enter a description"),
        "hl_need_place": ("请填写地址或在地图上点选位置", "Enter an address or click the map"),
        "hl_will_merge": ("保存时将合并到案件 {id}", "Will be merged into case {id} on save"),
        "dup_title": ("疑似重复案件 {n} 件", "{n} possible duplicate(s)"),
        "dup_none": ("附近暂无同类在办案件", "No open case of this kind nearby"),
        "dup_merge": ("合并到此案件", "Merge into this"),
        "dup_unpick": ("取消合并", "Don't merge"),
        "dup_no_merge_role": ("合并需由指挥中心坐席或值班长操作", "Merging is done by a dispatcher or shift leader"),
        "dup_reason_nearby": ("附近同类", "Same kind nearby"),
        "dup_reason_same_caller": ("同一来电人", "Same caller"),
        "dup_reason_nearby_same_caller": ("同一来电人·附近同类", "Same caller, same kind nearby"),
        "dup_reason_suspected_duplicate": ("疑似重复", "Suspected duplicate"),
        "dup_reason_outside_grid": ("不在网格内", "Outside every grid"),
        "dup_reason_unknown_category": ("类别未知", "Unknown category"),
        "dup_reason_no_department": ("无责任部门", "No department"),
        "dup_reason_near_border": ("网格边界附近", "Near a grid border"),
        "dup_reason_machine_detected": ("设备识别待核", "Machine detection"),
        "dup_reason_low_confidence": ("识别置信度低", "Low confidence"),
        "dup_reason_manual": ("人工转甄别", "Sent to triage by hand"),
        "tr_title": ("待甄别", "Triage"),
        "tr_empty": ("暂无待甄别案件", "Nothing to triage"),
        "tr_pick": (
            "选择左侧案件进行甄别：更正类别或位置后立案，或作废、合并",
            "Pick a report: correct and file it, void it or merge it",
        ),
        "tr_no_category": ("未分类", "No category"),
        "tr_reason": ("原因", "Reason"),
        "tr_map_hint": ("点击地图更正位置", "Click the map to correct the location"),
        "tr_file": ("立案", "File"),
        "tr_void": ("作废", "Void"),
        "tr_void_reason": ("作废原因", "Reason for voiding"),
        "tr_need_reason": ("请填写作废原因", "Give a reason"),
        "tr_merge": ("合并到此案件", "Merge into this"),
    }
)
# ---- the administrator's tracker page (/devices): dashboard/pages/devices.py ----
STRINGS.update(
    {
        "devices_title": ("定位终端管理", "Trackers"),
        "devices_forbidden": ("无权访问：仅系统管理员可管理定位终端", "Forbidden: only administrators manage trackers"),
        "devices_pick": ("请选择人员", "Pick an officer"),
        "devices_label": ("终端说明（如：工作手机）", "Label (e.g. work phone)"),
        "devices_issue": ("发放终端", "Issue a tracker"),
        "devices_issued": (
            "已为 {officer} 发放终端 {device}。设备标识码只显示这一次，请立即填入定位软件：",
            "Tracker {device} issued for {officer}. The identifier is shown this once: enter it in the tracker now:",
        ),
        "devices_identifier": ("设备标识码", "Device identifier"),
        "devices_traccar": ("Traccar Client 服务器地址", "Traccar Client server URL"),
        "devices_osmand": ("OsmAnd 在线跟踪网址", "OsmAnd online tracking URL"),
        "devices_revoke": ("吊销", "Revoke"),
        "devices_revoked": ("终端 {device} 已吊销，数秒内失效", "Tracker {device} revoked: it stops within seconds"),
        "devices_none": ("无终端", "No tracker"),
        "devices_live": ("在用", "Live"),
        "devices_state_revoked": ("已吊销", "Revoked"),
        "devices_col_officer": ("人员", "Officer"),
        "devices_col_device": ("终端", "Tracker"),
        "devices_col_label": ("说明", "Label"),
        "devices_col_state": ("状态", "State"),
        "devices_col_created": ("发放时间", "Issued"),
        "devices_col_seen": ("最近定位", "Last fix"),
    }
)
for _key, _pair in {
    "merge": ("合并", "Merge"),
    "unmerge": ("取消合并", "Unmerge"),
    "merged_in": ("并入重复件", "Duplicate merged in"),
    "unmerged": ("拆分重复件", "Duplicate split off"),
}.items():
    ACTION.setdefault(_key, _pair)
STATUS.setdefault("merged", ("已合并", "Merged"))
