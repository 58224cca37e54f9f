"""The monthly report (月度考核评价报告) as a Word document: the composite ranking of streets and departments, the key
tables (streets, departments, posts: every indicator with numerator and denominator) and charts (matplotlib PNGs in a
CJK font found on this machine, never downloaded). Built from the engine's tables, so its numbers are the engine's."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from dispatcher.evaluation.documents.spreadsheet import pct, period_label
from dispatcher.evaluation.tables import ObjectKind, Table

SECTIONS = (  # the key tables of the month, in the report's order
    (ObjectKind.STREET, "街道"),
    (ObjectKind.DEPARTMENT, "部门"),
    (ObjectKind.POST, "岗位"),
)
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "SimHei", "Droid Sans")


class Section(BaseModel):
    """One object kind's table of the month, with its heading."""

    model_config = ConfigDict(frozen=True)
    heading: str
    table: Table


def month_of(text: str) -> date:
    """'2026-11' → the first of that month (ValueError names the text when it is not YYYY-MM)."""
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise ValueError(f"month {text!r} is not YYYY-MM") from None


def previous_month(today: date) -> date:
    """The first day of the month before the one containing `today`."""
    return date(today.year - 1, 12, 1) if today.month == 1 else date(today.year, today.month - 1, 1)


def sections(session: Any, catalogue: Any, *, month: date, now: datetime, tz: str, scope: Any = None) -> list[Section]:
    """The engine's month tables for streets, departments and posts (inside `scope` when given)."""
    from dispatcher.evaluation import engine, periods

    period = periods.period_of("month", month, tz)
    return [
        Section(
            heading=heading,
            table=engine.evaluate(session, catalogue, kind=kind, period=period, now=now, tz=tz, scope=scope),
        )
        for kind, heading in SECTIONS
    ]


def scope_of(code: str | None) -> Any:
    """`--scope CODE`: the cases of that grid (any level) or that department; None: everything."""
    if not code:
        return None
    from sqlalchemy import or_

    from dispatcher.cases.incident import Incident

    columns = (Incident.grid_district, Incident.grid_street, Incident.grid_community, Incident.grid_unit)
    return or_(*[column == code for column in columns], Incident.department_code == code)


def build_monthly(session: Any, *, month: date, now: datetime, tz: str, scope_code: str | None = None) -> bytes:
    """The month's report as .docx bytes, from the catalogue version in force and the engine's tables."""
    from dispatcher.evaluation.catalogue import load_catalogue

    items = sections(session, load_catalogue(), month=month, now=now, tz=tz, scope=scope_of(scope_code))
    return monthly_docx(items, month=month, scope_name=scope_code)


# ---- charts --------------------------------------------------------------------------------------------------------


def cjk_font() -> str | None:
    """The first CJK font matplotlib finds installed here (None: charts fall back to the default font)."""
    from matplotlib import font_manager

    installed = {f.name for f in font_manager.fontManager.ttflist}
    return next((name for name in CJK_FONTS if name in installed), None)


def score_chart(table: Table, title: str) -> bytes:
    """A horizontal bar chart of the composite score per object, best on top, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    font = cjk_font()
    rows = [r for r in table.rows if r.score is not None][:15]
    fig, ax = plt.subplots(figsize=(6.3, 0.35 * max(len(rows), 3) + 0.8), dpi=120)
    try:
        if font:
            plt.rcParams["font.sans-serif"] = [font]
        ax.barh([r.name for r in reversed(rows)], [r.score or 0 for r in reversed(rows)], color="#2563eb")
        for y, r in enumerate(reversed(rows)):
            ax.text((r.score or 0) + 0.5, y, f"{r.score:.1f} {r.grade or ''}", va="center", fontsize=8)
        ax.set_xlim(0, 105)
        ax.set_title(title, fontsize=11)
        ax.tick_params(labelsize=8)
        fig.tight_layout()
        out = io.BytesIO()
        fig.savefig(out, format="png")
        return out.getvalue()
    finally:
        plt.close(fig)


# ---- the document --------------------------------------------------------------------------------------------------


def _percent(value: float | None) -> str:
    shown = pct(value)
    return "—" if shown is None else f"{shown:.2f}%"


def _cell_text(value: Any) -> str:
    return "—" if value is None else str(value)


def _grid(doc: Any, head: list[str], rows: Sequence[Sequence[Any]]) -> Any:
    """A bordered Word table with a header row."""
    grid = doc.add_table(rows=1, cols=len(head))
    grid.style = "Table Grid"
    for cell, text in zip(grid.rows[0].cells, head, strict=True):
        cell.text = text
    for values in rows:
        for cell, value in zip(grid.add_row().cells, values, strict=True):
            cell.text = _cell_text(value)
    return grid


def ranking_rows(table: Table) -> list[list[Any]]:
    """排名, 对象, 综合指标值, 等级 of every ranked row."""
    return [[r.rank, r.name, None if r.score is None else f"{r.score:.2f}", r.grade] for r in table.rows]


def indicator_rows(table: Table) -> list[list[Any]]:
    """对象, then per indicator 'value% (n/d)', and the total last."""
    out = []
    for r in [*table.rows, table.total]:
        line: list[Any] = [r.name]
        for ind in table.indicators:
            cell = r.cells.get(ind.code)
            line.append(None if cell is None else f"{_percent(cell.value)} ({cell.numerator}/{cell.denominator})")
        out.append(line)
    return out


def _add_section(doc: Any, number: int, section: Section) -> None:
    from docx.shared import Cm

    table = section.table
    doc.add_heading(f"{number}. {section.heading}考核结果", level=1)
    doc.add_heading("综合排名", level=2)
    _grid(doc, ["排名", section.heading, "综合指标值", "等级"], ranking_rows(table))
    if any(r.score is not None for r in table.rows):
        doc.add_picture(io.BytesIO(score_chart(table, f"{section.heading}综合指标值")), width=Cm(15))
    doc.add_heading("指标明细", level=2)
    _grid(doc, [section.heading, *[i.name_zh for i in table.indicators]], indicator_rows(table))


def monthly_docx(items: Sequence[Section], *, month: date, scope_name: str | None = None) -> bytes:
    """The month's report as .docx bytes: a title with the period and catalogue version, then one part per section."""
    from docx import Document

    doc = Document()
    doc.add_heading(f"{month:%Y年%m月}考核评价报告", level=0)
    if items:
        first = items[0].table
        made = first.computed_at.strftime("%Y-%m-%d %H:%M")
        lines = [f"统计周期：{period_label(first)}", f"指标版本：{first.catalogue_version}", f"生成时间：{made}"]
        if scope_name:
            lines.insert(0, f"范围：{scope_name}")
        for line in lines:
            doc.add_paragraph(line)
    for number, section in enumerate(items, start=1):
        _add_section(doc, number, section)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()
