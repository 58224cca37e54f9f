"""UI strings of the hotline console's address search (dashboard/pages/hotline_address.py), the no-location and
similar-text reasons and the saved call's link, merged into the one catalogue (dashboard/pages/i18n.py) on import."""

from __future__ import annotations

from dashboard.pages.i18n import STRINGS

ADDRESS_STRINGS: dict[str, tuple[str, str]] = {
    "hl_addr_hint": ("输入地址查找；↑↓ 选择，回车确认", "Type to search; ↑↓ to choose, Enter to pick"),
    "hl_addr_none": (
        "未找到匹配地址：可在地图上点选，或不定位保存",
        "No matching address: click the map, or save unplaced",
    ),
    "hl_addr_kind_road": ("门牌", "Address"),
    "hl_addr_kind_landmark": ("地标", "Landmark"),
    "hl_addr_kind_community": ("社区", "Community"),
    "hl_addr_kind_street": ("街道", "Street"),
    "hl_addr_outside": ("不在网格内", "Outside the grids"),
    "hl_addr_placed": ("已按地址定位：{label}", "Placed by address: {label}"),
    "hl_no_location": ("未定位：保存后以“无位置信息”进入待甄别", "Not placed: saved to triage as 'no location'"),
    "hl_open_case": ("打开案件", "Open the case"),
    # triage and duplicate reasons (the triage page shows `triage_reason_<code>`, else `dup_reason_<code>`)
    "triage_reason_no_location": ("无位置信息", "No location"),
    "triage_note_no_location": (
        "受理时未定位：请按地址在地图上定位后立案",
        "Logged without a location: place it on the map by its address, then file",
    ),
    "dup_reason_no_location": ("无位置信息", "No location"),
    "dup_reason_similar_text": ("内容相似", "Similar description"),
}
STRINGS.update({key: pair for key, pair in ADDRESS_STRINGS.items() if key not in STRINGS})
