"""An indicator table (dispatcher/evaluation/tables.py) as a spreadsheet: CSV (UTF-8 with BOM, so Excel reads the
Chinese) or xlsx, exactly the table on screen: rank, object, composite score and grade, then per indicator its value
in %, numerator, denominator and the change against the previous period (环比) and the year before (同比), in
percentage points; the table's total last. Text a spreadsheet would take for a formula is defused as in the ledger.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

from dispatcher.evaluation.tables import Cell, IndicatorDef, Row, Table

SHEET = "考核评价"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
HEAD = [("排名", "Rank"), ("编码", "Code"), ("对象", "Object"), ("综合指标值", "Score"), ("等级", "Grade")]
PER_INDICATOR = [("(%)", " (%)"), (" 分子", " numerator"), (" 分母", " denominator"), (" 环比", " MoM (pp)")]
PER_INDICATOR += [(" 同比", " YoY (pp)")]
TOTAL = ("合计", "Total")


def safe(value: Any) -> Any:
    """A text value a spreadsheet would take for a formula, prefixed with a single quote; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _name(indicator: IndicatorDef, lang: str) -> str:
    return indicator.name_zh if lang == "zh" else indicator.name_en


def headers(table: Table, lang: str = "zh") -> list[str]:
    """The header row: the object's columns, then five columns per indicator of the table."""
    out = [zh if lang == "zh" else en for zh, en in HEAD]
    for indicator in table.indicators:
        out += [_name(indicator, lang) + (zh if lang == "zh" else en) for zh, en in PER_INDICATOR]
    return out


def pct(value: float | None) -> float | None:
    """A share as a percentage with 2 decimals (None stays None: no denominator is not 0 %)."""
    return None if value is None else round(value * 100, 2)


def change(cell: Cell, before: float | None) -> float | None:
    """This period's value minus an earlier one, in percentage points (None when either is missing)."""
    return None if cell.value is None or before is None else round((cell.value - before) * 100, 2)


def values(table: Table, row: Row, lang: str = "zh") -> list[Any]:
    """One row of the table as cells (the total's rank column says 合计 / Total)."""
    label = (TOTAL[0] if lang == "zh" else TOTAL[1]) if row.code == table.total.code and row is table.total else None
    out: list[Any] = [label or row.rank, row.code, row.name, row.score, row.grade]
    for indicator in table.indicators:
        cell = row.cells.get(indicator.code)
        if cell is None:
            out += [None] * len(PER_INDICATOR)
            continue
        out += [pct(cell.value), cell.numerator, cell.denominator, change(cell, cell.previous)]
        out.append(change(cell, cell.last_year))
    return out


def period_label(table: Table) -> str:
    """The table's period as local dates, both included: 2026-11-01 至 2026-11-30."""
    start = table.period.start.date().isoformat()
    last = (table.period.end - timedelta(days=1)).date().isoformat()
    return start if start == last else f"{start} 至 {last}"


def all_rows(table: Table, lang: str = "zh") -> list[list[Any]]:
    """The rows on screen, best first, then the total."""
    return [values(table, row, lang) for row in table.rows] + [values(table, table.total, lang)]


def _text(value: Any) -> str:
    return "" if value is None else str(safe(value))


def to_csv(table: Table, lang: str = "zh") -> bytes:
    """The table as CSV: UTF-8 with a BOM, a header row, one row per object and the total, formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(headers(table, lang))
    for row in all_rows(table, lang):
        writer.writerow([_text(v) for v in row])
    return out.getvalue().encode("utf-8-sig")


def _xlsx_row(sheet: Any, row: list[Any], *, bold: bool = False) -> list[Any]:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    cells = []
    for value in row:
        cell = WriteOnlyCell(sheet, value=safe(value))
        if isinstance(value, str):
            cell.data_type = "s"  # never a formula, whatever it starts with
        if bold:
            cell.font = Font(bold=True)
        cells.append(cell)
    return cells


def to_xlsx(table: Table, lang: str = "zh") -> bytes:
    """The table as an xlsx workbook (write-only): a title row with the period, a bold header, the rows, the total."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET)
    head = headers(table, lang)
    for index, title in enumerate(head, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(8, min(24, 2 * len(title)))
    sheet.freeze_panes = "D3"
    title = f"{table.kind} · {period_label(table)} · {table.catalogue_version}"
    sheet.append(_xlsx_row(sheet, [title], bold=True))
    sheet.append(_xlsx_row(sheet, head, bold=True))
    rows = all_rows(table, lang)
    for index, row in enumerate(rows):
        sheet.append(_xlsx_row(sheet, row, bold=index == len(rows) - 1))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(table: Table, ext: str) -> str:
    """A download's name: evaluation-street-2026-11-01-2026-11-30[-parent].xlsx."""
    start = table.period.start.date().isoformat()
    last = (table.period.end - timedelta(days=1)).date().isoformat()
    parent = f"-{table.parent}" if table.parent else ""
    return f"evaluation-{table.kind}-{start}-{last}{parent}.{ext}"
