"""The notification bell's UI strings, merged into the one catalogue (dashboard/pages/i18n.py) on import."""

from __future__ import annotations

from dashboard.pages.i18n import STRINGS

NOTIFY_STRINGS: dict[str, tuple[str, str]] = {
    "bell_title": ("消息通知", "Notifications"),
    "bell_label": ("通知", "Alerts"),  # text, not an emoji: the wall PCs have no colour-emoji font
    "bell_empty": ("暂无消息", "No notifications"),
    "bell_read_all": ("全部已读", "Mark all read"),
    "bell_open_case": ("查看案件", "Open case"),
    "bell_unread": ("{n} 条未读", "{n} unread"),
    "kind_dispatch": ("派遣", "Dispatch"),
    "kind_assignment": ("指派", "Assignment"),
    "kind_approval_request": ("待审批", "Approval request"),
    "kind_approval_decision": ("审批结果", "Approval decision"),
    "kind_warning": ("预警", "Warning"),
    "kind_overdue": ("超时", "Overdue"),
    "kind_callback_due": ("待回访", "Callback due"),
    "kind_verification": ("待核查", "Verification"),
    "kind_escalation": ("上报", "Escalation"),
    "kind_supervision": ("督办", "Supervision"),
    "kind_return": ("退回", "Returned"),
}
STRINGS.update(NOTIFY_STRINGS)
