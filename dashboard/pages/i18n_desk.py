"""UI strings of the seat desk (the command center's queue, keyboard, alerts, presence and search:
dashboard/pages/command*.py, drawer_presence.py, assets/queue.js), merged into the one catalogue on import."""

from __future__ import annotations

from dashboard.pages.i18n import STRINGS

DESK_STRINGS: dict[str, tuple[str, str]] = {
    "q_new_items": ("{n} 条新案件 ↑", "{n} new ↑"),
    "q_light_green": ("时限内", "Within time"),
    "q_light_yellow": ("临期", "Due soon"),
    "q_light_red": ("超期", "Late"),
    "q_light_title": ("当前阶段的办理时限", "The current stage's time limit"),
    "q_search_ph": ("/ 搜索：案件编号、来电号码或地址", "/ Search: case number, caller's number or address"),
    "q_search_none": ("没有找到匹配的案件", "No matching cases"),
    "alert_open": ("查看", "Open"),
    "alert_dismiss": ("关闭提示", "Dismiss"),
    "alert_more": ("另有 {n} 条", "{n} more"),
    "alert_enable_sound": ("启用提示音", "Enable sound"),
    "alert_sos": ("SOS 求助", "SOS"),
    "alert_sos_text": ("队员终端报警（{alarm}）", "Officer's tracker alarm ({alarm})"),
    "sound_on": ("提示音：开", "Sound: on"),
    "sound_off": ("提示音：关", "Sound: off"),
    "help_title": ("键盘操作", "Keyboard"),
    "help_keys": ("按 ? 查看快捷键", "Press ? for keys"),
    "help_move": ("上下移动队列中的选中行", "Move through the queue"),
    "help_open": ("打开选中的案件", "Open the chosen case"),
    "help_file": ("立案", "File the open case"),
    "help_dispatch": ("派遣给第一位推荐队员", "Dispatch to the first recommended officer"),
    "help_search": ("搜索案件", "Search cases"),
    "help_new": ("显示新到案件", "Show the new cases"),
    "help_close": ("关闭案件 / 帮助 / 退出输入框", "Close the case, this help, or leave a field"),
    "help_help": ("显示或隐藏本帮助", "Show or hide this help"),
    "presence_also": ("{names} 也在查看此案件", "{names} also viewing this case"),
}
STRINGS.update(DESK_STRINGS)
