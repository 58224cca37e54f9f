"""UI strings of the drawer's evidence section (dashboard/pages/drawer_media.py), merged into i18n's dictionaries."""

from __future__ import annotations

from dashboard.pages.i18n import ACTION, STRINGS

EVIDENCE_STRINGS: dict[str, tuple[str, str]] = {
    "ev_title": ("证据材料", "Evidence"),
    "ev_none": ("暂无证据材料", "No evidence yet"),
    "ev_stage_intake": ("上报", "Report"),
    "ev_stage_handle": ("处置", "Handling"),
    "ev_stage_return": ("退单", "Return"),
    "ev_stage_verify": ("核查", "Verification"),
    "ev_stage_callback": ("回访", "Callback"),
    "ev_kind_voice": ("录音", "Voice note"),
    "ev_kind_video": ("视频", "Video"),
    "ev_kind_photo": ("照片", "Photo"),
    "ev_kind_before": ("处置前", "Before"),
    "ev_kind_after": ("处置后", "After"),
    "ev_open": ("查看原件", "Open the original"),
    "ev_by": ("上传人", "Uploaded by"),
    "ev_add": ("补充证据", "Add evidence"),
    "ev_pick_stage": ("所属环节", "Step"),
    "ev_note": ("说明（可选）", "Note (optional)"),
    "ev_drop": ("拖放或点击选择照片、录音、视频", "Drop or click to choose photos, voice notes, videos"),
    "ev_added": ("已添加 {n} 个证据文件", "{n} evidence file(s) added"),
    "ev_closed": ("案件已结束，不能再补充证据", "The case is finished: no more evidence can be added"),
}
STRINGS.update({key: pair for key, pair in EVIDENCE_STRINGS.items() if key not in STRINGS})
ACTION.setdefault("evidence", ("补充证据", "Evidence added"))
