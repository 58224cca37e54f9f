"""Exports of an indicator table (dispatcher/evaluation/documents/spreadsheet.py): CSV with BOM and xlsx hold exactly the table's
numbers — rank, score, grade, every indicator's value, numerator, denominator, 环比 and 同比 — and the total."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from dispatcher.evaluation.documents.spreadsheet import filename, headers, to_csv, to_xlsx
from dispatcher.evaluation.periods import Period
from dispatcher.evaluation.tables import Cell, IndicatorDef, ObjectKind, Row, Table

SH = ZoneInfo("Asia/Shanghai")
CLOSED = IndicatorDef(code="closure", name_zh="结案率", name_en="Closure rate", numerator="closed", denominator="due")
REWORK = IndicatorDef(
    code="rework", name_zh="返工率", name_en="Rework rate", numerator="reworked", denominator="handled"
)


def period(key: str, y: int, m: int, y2: int, m2: int) -> Period:
    return Period(key=key, start=datetime(y, m, 1, tzinfo=SH), end=datetime(y2, m2, 1, tzinfo=SH))


def row(code: str, name: str, closed: tuple[int, int], rework: tuple[int, int], **extra) -> Row:
    cells = {
        "closure": Cell(numerator=closed[0], denominator=closed[1], previous=0.5, last_year=None, trend=[0.5, 0.6]),
        "rework": Cell(numerator=rework[0], denominator=rework[1]),
    }
    counts = {"closed": closed[0], "due": closed[1], "reworked": rework[0], "handled": rework[1]}
    return Row(code=code, name=name, counts=counts, cells=cells, **extra)


def table() -> Table:
    rows = [
        row("S1", "湖滨街道", (9, 10), (1, 9), score=92.5, grade="A", rank=1),
        row("S2", "=cmd|' /C calc'!A0", (3, 7), (0, 0), score=61.0, grade="D", rank=2),
    ]
    return Table(
        kind=ObjectKind.STREET,
        parent=None,
        period=period("2026-11", 2026, 11, 2026, 12),
        previous=period("2026-10", 2026, 10, 2026, 11),
        last_year=period("2025-11", 2025, 11, 2025, 12),
        catalogue_version="2026-01-01",
        indicators=[CLOSED, REWORK],
        rows=rows,
        total=row("*", "合计", (12, 17), (1, 9)),
        computed_at=datetime(2026, 12, 1, 1, 0, tzinfo=UTC),
    )


def expected(r: Row) -> list:
    """What a reader checks: object, score, grade, and per indicator value %, n, d from the row itself."""
    out: list = [r.code, r.score, r.grade]
    for code in ("closure", "rework"):
        cell = r.cells[code]
        out += [None if cell.value is None else round(cell.value * 100, 2), cell.numerator, cell.denominator]
    return out


def picked(values: list) -> list:
    """Code, score, grade and the (value, n, d) of both indicators from an exported row."""
    return [values[1], values[3], values[4], *values[5:8], *values[10:13]]


def test_csv_has_bom_chinese_headers_every_number_and_defused_formulas():
    t = table()
    data = to_csv(t)
    assert data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert lines[0] == headers(t) and lines[0][:3] == ["排名", "编码", "对象"] and "结案率(%)" in lines[0]
    assert len(lines) == 1 + len(t.rows) + 1
    as_numbers = lambda cells: [None if c == "" else float(c) if c[0].isdigit() else c for c in cells]
    for line, r in zip(lines[1:], [*t.rows, t.total], strict=True):
        assert picked(as_numbers(line)) == [v if not isinstance(v, int) else float(v) for v in expected(r)]
    assert lines[2][2].startswith("'=")  # a name that would run as a formula in Excel
    assert lines[-1][0] == "合计"
    closure_mom = lines[1][8]
    assert float(closure_mom) == round((0.9 - 0.5) * 100, 2)  # 环比 in percentage points
    assert lines[1][9] == ""  # no 同比: a blank, never a fake 0


def test_xlsx_holds_the_same_numbers_typed_and_english_when_asked():
    t = table()
    book = load_workbook(io.BytesIO(to_xlsx(t, "en")))
    sheet = book.active
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert "2026-11-01" in cells[0][0] and "2026-11-30" in cells[0][0]
    assert list(cells[1]) == headers(t, "en") and "Closure rate (%)" in cells[1]
    for line, r in zip(cells[2:], [*t.rows, t.total], strict=True):
        assert picked(list(line)) == expected(r)
    assert cells[3][2] == "'=cmd|' /C calc'!A0"
    assert cells[-1][0] == "Total"


def test_filename_names_kind_and_period():
    assert filename(table(), "xlsx") == "evaluation-street-2026-11-01-2026-11-30.xlsx"
