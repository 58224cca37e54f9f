"""UI strings of the field app (/m), merged into the one catalogue (dashboard/pages/i18n.py) on import; the page
receives them (both languages) as JSON, so switching 中/EN needs no network."""

from __future__ import annotations

from dashboard.pages.i18n import ACTION, ROLE, STATUS, STRINGS

FIELD_STRINGS: dict[str, tuple[str, str]] = {
    "m_title": ("网格指挥 · 移动端", "GridCommand Field"),
    "m_sign_in": ("登录", "Sign in"),
    "m_sign_out": ("退出", "Sign out"),
    "m_username": ("用户名", "Username"),
    "m_password": ("密码", "Password"),
    "m_totp": ("动态码（如需）", "One-time code (if needed)"),
    "m_login_failed": ("登录失败：{message}", "Sign-in failed: {message}"),
    "m_offline_signin": ("离线：联网后登录", "Offline: sign in when back online"),
    "m_tab_tasks": ("我的任务", "My tasks"),
    "m_tab_report": ("上报", "Report"),
    "m_tab_queue": ("待发送", "Outbox"),
    "m_tab_me": ("我的", "Me"),
    "m_box_todo": ("待办", "To do"),
    "m_box_overdue": ("超时", "Overdue"),
    "m_box_done": ("已办", "Done"),
    "m_empty": ("暂无任务", "Nothing here"),
    "m_refresh": ("刷新", "Refresh"),
    "m_back": ("返回", "Back"),
    "m_deadline": ("时限", "Deadline"),
    "m_address": ("地址", "Address"),
    "m_category": ("类别", "Category"),
    "m_description": ("描述", "Description"),
    "m_timeline": ("办理过程", "Timeline"),
    "m_media": ("照片与附件", "Photos and files"),
    "m_no_media": ("暂无附件", "No files"),
    "m_actions": ("可执行操作", "Actions"),
    "m_no_actions": ("当前无可执行操作", "No action for you now"),
    "m_submit": ("提交", "Submit"),
    "m_cancel": ("取消", "Cancel"),
    "m_done": ("已完成：{action}", "Done: {action}"),
    "m_failed": ("失败：{message}", "Failed: {message}"),
    "m_queued": ("无网络：已存入待发送，联网后自动发送", "No network: queued, sent when back online"),
    "m_result": ("处置结果", "What was done"),
    "m_reason": ("原因", "Reason"),
    "m_reason_code": ("回退原因", "Return reason"),
    "m_note": ("意见", "Note"),
    "m_until": ("申请延期至", "New deadline"),
    "m_reached": ("已联系上来电人", "Caller reached"),
    "m_satisfied": ("来电人满意", "Caller satisfied"),
    "m_photo": ("拍照", "Photo"),
    "m_before": ("处置前照片", "Before photo"),
    "m_after": ("处置后照片", "After photo"),
    "m_video": ("视频", "Video"),
    "m_voice": ("语音", "Voice"),
    "m_act_claim": ("签收", "Claim"),
    "m_act_handle": ("反馈", "Feed back"),
    "m_act_return": ("回退", "Return"),
    "m_act_request_extend": ("申请延期", "Request extension"),
    "m_act_request_suspend": ("申请挂账", "Request suspension"),
    "m_act_verify": ("核查通过", "Verify: pass"),
    "m_act_reject": ("核查不通过", "Verify: fail"),
    "m_act_callback": ("回访", "Callback"),
    "m_act_part_done": ("协办反馈", "Partner part done"),
    "m_light_green": ("正常", "On time"),
    "m_light_yellow": ("临期", "Due soon"),
    "m_light_red": ("超期", "Late"),
    "m_report_title": ("问题上报", "Report a problem"),
    "m_search_category": ("搜索类别（名称或编码）", "Search category (name or code)"),
    "m_recent": ("最近使用", "Recent"),
    "m_position": ("位置", "Position"),
    "m_locate": ("重新定位", "Locate again"),
    "m_accuracy": ("精度 ±{m} 米", "accuracy ±{m} m"),
    "m_locating": ("正在定位…", "Locating…"),
    "m_no_position": ("无法定位：{message}", "No position: {message}"),
    "m_need_category": ("请选择类别", "Pick a category"),
    "m_need_position": ("尚未定位", "No position yet"),
    "m_self_handled": ("自行处置（已现场解决）", "Fixed on the spot (self-handled)"),
    "m_sent_report": ("已上报", "Reported"),
    "m_queue_empty": ("没有待发送的内容", "Nothing waiting"),
    "m_q_waiting": ("等待发送", "Waiting"),
    "m_q_sent": ("已发送", "Sent"),
    "m_q_refused": ("被拒绝：{reason}", "Refused: {reason}"),
    "m_q_report": ("上报", "Report"),
    "m_q_action": ("操作", "Action"),
    "m_online": ("在线", "Online"),
    "m_offline": ("离线", "Offline"),
    "m_live": ("实时", "Live"),
    "m_share": ("在岗时共享我的位置", "Share my position while on duty"),
    "m_share_consent": (
        "开启后，本机定位将每分钟发送给指挥中心，用于就近派遣；可随时关闭，退出登录即停止。",
        "When on, this phone's position goes to the command center about once a minute, for dispatching the "
        "nearest officer; turn it off at any time; signing out stops it.",
    ),
    "m_share_last": ("最近发送：{when}（{result}）", "Last sent: {when} ({result})"),
    "m_share_unlinked": ("此账号未关联执法人员，无法共享位置", "This account is not linked to an officer"),
    "m_patrol": ("巡查", "Patrol"),
    "m_patrol_hint": (
        "开始巡查后将共享位置并记录轨迹；巡查中上报的问题归入本次巡查。",
        "Starting a patrol shares your position and keeps the track; reports made on the way belong to it.",
    ),
    "m_patrol_start": ("开始巡查", "Start patrol"),
    "m_patrol_stop": ("结束巡查", "End patrol"),
    "m_patrol_on": (
        "巡查中，自 {since} 起：{m} 米，经过 {n} 个单元网格",
        "On patrol since {since}: {m} m, {n} unit grids",
    ),
    "m_patrol_done": (
        "巡查结束：{m} 米，{n} 个单元网格，上报 {r} 件",
        "Patrol ended: {m} m, {n} unit grids, {r} reports",
    ),
    "m_patrol_offline": ("离线：联网后再开始或结束巡查", "Offline: start or end the patrol when back online"),
    "m_map_adjust": ("在地图上调整位置（拖动图钉或点按地图）", "Correct on the map (drag the pin or tap)"),
    "m_map_moved": ("已在地图上调整：{lon}, {lat}", "Corrected on the map: {lon}, {lat}"),
    "m_map_unavailable": ("地图暂不可用（离线？）", "The map is unavailable (offline?)"),
    "m_coverage": ("今日巡查覆盖", "Patrol coverage today"),
    "m_coverage_patrols": ("今日 {n} 次巡查", "{n} patrols today"),
    "m_coverage_row": (
        "{name}：{visited}/{units} 个单元网格（{pct}%）",
        "{name}: {visited}/{units} unit grids ({pct}%)",
    ),
    "m_new_task": ("新任务", "New task"),
    "m_language": ("英文 EN", "Chinese"),  # the language a tap switches to
    "m_signed_in_as": ("{name}（{role}）", "{name} ({role})"),
}
STRINGS.update({key: pair for key, pair in FIELD_STRINGS.items() if key not in STRINGS})


def catalogue() -> dict[str, list[str]]:
    """Every string the page needs, as key → [zh, en]: its own, incident statuses, timeline actions and roles."""
    out = {key: list(pair) for key, pair in FIELD_STRINGS.items()}
    out.update({f"status_{k}": list(v) for k, v in STATUS.items()})
    out.update({f"role_{k}": list(v) for k, v in ROLE.items()})
    out.update({f"action_{k}": list(v) for k, v in ACTION.items()})
    return out
