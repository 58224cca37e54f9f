"""The ledger (台账) of a period as a spreadsheet: the entries archived in it, as CSV (UTF-8 with BOM) or xlsx.

Text that a spreadsheet would read as a formula (starting with = + - @, or a tab or carriage return) is written
with a leading single quote, in both formats; xlsx cells holding text are also typed as strings.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from dispatcher.cases.incident import Incident
from dispatcher.handling.ledger import NOT_REACHED, SATISFIED, UNSATISFIED, LedgerEntry

DEFAULT_TZ = "Asia/Shanghai"
SHEET = "台账"
COLUMNS: list[tuple[str, str, int]] = [  # (Chinese header, English header, xlsx width)
    ("案件编号", "Case", 38),
    ("大类/小类", "Category", 12),
    ("案件号", "Case number", 17),  # the short number people read (YYYY-MMDD-NNNN); 案件编号 is the internal id
    ("处置部门", "Department", 12),
    ("层级", "Level", 10),
    ("街道", "Street", 14),
    ("社区", "Community", 14),
    ("网格", "Grid", 16),
    ("来源", "Channel", 12),
    ("地址", "Address", 30),
    ("受理时间", "Reported", 17),
    ("结案时间", "Closed", 17),
    ("归档时间", "Archived", 17),
    ("归档人", "Archiver", 14),
    ("处置结果", "Result", 40),
    ("满意度", "Satisfaction", 10),
    ("退单次数", "Returns", 9),
    ("返工次数", "Reworks", 9),
    ("上报次数", "Escalations", 9),
    ("办理时长(小时)", "Duration (hours)", 12),
    ("处置过程", "Process", 60),
]
SATISFACTION = {
    SATISFIED: ("满意", "satisfied"),
    UNSATISFIED: ("不满意", "unsatisfied"),
    NOT_REACHED: ("未联系上", "not reached"),
}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def rows(
    session: Session, *, start: datetime, end: datetime, department: str | None = None, region: str | None = None
) -> list[LedgerEntry]:
    """The entries archived in [start, end), oldest first; only one department's, or one region's, if given."""
    query = select(LedgerEntry).where(LedgerEntry.archived_at >= start, LedgerEntry.archived_at < end)
    if department is not None:
        query = query.where(LedgerEntry.department_code == department)
    if region is not None:
        query = query.join(Incident, Incident.id == LedgerEntry.incident_id).where(
            or_(
                Incident.grid_district == region,
                Incident.grid_street == region,
                Incident.grid_community == region,
                Incident.grid_unit == region,
            )
        )
    return list(session.scalars(query.order_by(LedgerEntry.archived_at, LedgerEntry.id)))


def headers(lang: str = "zh") -> list[str]:
    """The header row, in Chinese (default) or English."""
    return [zh if lang == "zh" else en for zh, en, _ in COLUMNS]


def safe(value: Any) -> Any:
    """A text value a spreadsheet would take for a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _local(moment: datetime | None, tz: ZoneInfo) -> datetime | None:
    return moment.astimezone(tz).replace(tzinfo=None) if moment else None


def _process(entry: LedgerEntry, tz: ZoneInfo) -> str:
    lines = []
    for step in entry.process or []:
        at = datetime.fromisoformat(step["at"]).astimezone(tz).strftime("%Y-%m-%d %H:%M")
        lines.append(f"{step['seq']}. {at} {step['actor']} {step['action']} ({step.get('from') or '—'}→{step['to']})")
    return "\n".join(lines)


def values(entry: LedgerEntry, lang: str = "zh", tz: str = DEFAULT_TZ) -> list[Any]:
    """One entry as the cells of a row (times local and without zone; not yet protected, see `safe`)."""
    zone = ZoneInfo(tz)
    pair = SATISFACTION.get(entry.satisfaction or "")
    return [
        entry.incident_id,
        entry.category_code,
        entry.case_number,
        entry.department_code,
        entry.level,
        entry.grid_street,
        entry.grid_community,
        entry.grid_unit,
        entry.channel,
        entry.address,
        _local(entry.created_at, zone),
        _local(entry.closed_at, zone),
        _local(entry.archived_at, zone),
        entry.archiver,
        entry.result,
        (pair[0] if lang == "zh" else pair[1]) if pair else None,
        entry.return_count,
        entry.rework_count,
        entry.escalation_count,
        entry.duration_hours,
        _process(entry, zone),
    ]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(safe(value))


def to_csv(entries: Sequence[LedgerEntry], lang: str = "zh", tz: str = DEFAULT_TZ) -> bytes:
    """The entries as CSV: UTF-8 with a BOM (so Excel reads the Chinese), a header row, formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(lang))
    for entry in entries:
        writer.writerow([_text(v) for v in values(entry, lang, tz)])
    return out.getvalue().encode("utf-8-sig")


def to_xlsx(entries: Sequence[LedgerEntry], lang: str = "zh", tz: str = DEFAULT_TZ) -> bytes:
    """The entries as an xlsx workbook (write-only): one sheet 台账, a bold header, set widths, formulas defused."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    for index, (_, _, width) in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in headers(lang):
        cell = WriteOnlyCell(sheet, value=title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for entry in entries:
        row: list[Any] = []
        for value in values(entry, lang, tz):
            if isinstance(value, str):
                cell = WriteOnlyCell(sheet, value=safe(value))
                cell.data_type = "s"  # never a formula, whatever it starts with
                row.append(cell)
            else:
                row.append(value)
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
