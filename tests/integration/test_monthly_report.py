"""The monthly report (dispatcher/evaluation/documents/monthly.py, `gridcommand report monthly`, workers/reports.py): a Word
document whose ranking and indicator tables carry exactly the numbers of the tables it was built from, with a chart."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from dispatcher.evaluation.documents.monthly import Section, indicator_rows, month_of, monthly_docx, previous_month
from dispatcher.evaluation.tables import Table
from tests.integration.test_exports import table
from tests.integration.test_worker import worker_env  # noqa: F401


def words(grid) -> list[list[str]]:
    return [[cell.text for cell in row.cells] for row in grid.rows]


def check_document(data: bytes, items: list[Section]) -> None:
    """Every section's ranking and indicator table in the docx holds the table's own numbers, in order."""
    doc = Document(io.BytesIO(data))
    grids = doc.tables
    assert len(grids) == 2 * len(items)
    for index, section in enumerate(items):
        t: Table = section.table
        ranking, detail = words(grids[2 * index]), words(grids[2 * index + 1])
        assert ranking[0] == ["排名", section.heading, "综合指标值", "等级"]
        assert [r[1] for r in ranking[1:]] == [row.name for row in t.rows]
        for line, row in zip(ranking[1:], t.rows, strict=True):
            assert line[0] == ("—" if row.rank is None else str(row.rank)) and line[3] == (row.grade or "—")
            assert line[2] == ("—" if row.score is None else f"{row.score:.2f}")
        assert detail[0] == [section.heading, *[i.name_zh for i in t.indicators]]
        for line, row in zip(detail[1:], [*t.rows, t.total], strict=True):
            for text, indicator in zip(line[1:], t.indicators, strict=True):
                cell = row.cells[indicator.code]
                assert text.endswith(f"({cell.numerator}/{cell.denominator})")
                shown = "—" if cell.value is None else f"{cell.value * 100:.2f}%"
                assert text.startswith(shown)


def test_the_report_carries_the_tables_numbers_a_chart_and_its_period():
    items = [Section(heading="街道", table=table())]
    data = monthly_docx(items, month=date(2026, 11, 1))
    check_document(data, items)
    doc = Document(io.BytesIO(data))
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "2026年11月考核评价报告" in text and "2026-11-01 至 2026-11-30" in text
    assert len(doc.inline_shapes) == 1  # the score chart
    assert indicator_rows(table())[-1][0] == "合计"


def test_month_parsing_and_the_previous_month():
    assert month_of("2026-11") == date(2026, 11, 1)
    with pytest.raises(ValueError, match="2026-13"):
        month_of("2026-13")
    assert previous_month(date(2026, 12, 1)) == date(2026, 11, 1)
    assert previous_month(date(2027, 1, 1)) == date(2026, 12, 1)


def test_the_command_writes_the_month_with_the_engines_numbers(client, city, clock, db, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from dashboard.cli import main
    from dispatcher.evaluation.catalogue import load_catalogue
    from dispatcher.evaluation.documents.monthly import sections
    from dispatcher.settings import get_settings
    from tests.integration.test_wall import scripted_day

    scripted_day(client, city, clock, db[2])
    monkeypatch.setenv("DATABASE_URL", db[0])
    get_settings.cache_clear()
    out = tmp_path / "reports" / "2026-12.docx"
    try:
        as_of = clock.now.strftime("%Y-%m-%dT%H:%M:%S%z")
        result = CliRunner().invoke(
            main, ["report", "monthly", "--month", "2026-12", "--out", str(out), "--as-of", as_of]
        )
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "2026-12" in result.output and out.exists()
    with db[2]() as session:  # the engine's own tables of the month, computed now
        items = sections(session, load_catalogue(), month=date(2026, 12, 1), now=clock.now, tz="Asia/Shanghai")
    assert any(s.table.rows for s in items)
    check_document(out.read_bytes(), items)
    bad = CliRunner().invoke(main, ["report", "monthly", "--month", "2026-13", "--out", str(out)])
    assert bad.exit_code == 2 and "2026-13" in bad.output


def test_the_worker_writes_last_months_report_on_the_first_once(
    worker_env,  # noqa: F811
    client,
    city,
    clock,
    db,
    tmp_path,
    monkeypatch,
):
    from datetime import UTC, datetime

    from tests.integration.test_wall import scripted_day
    from workers import reports

    scripted_day(client, city, clock, db[2])  # cases of December 2026
    monkeypatch.setenv("GRIDCOMMAND_REPORTS_DIR", str(tmp_path / "monthly"))
    first_of_january = datetime(2027, 1, 1, 0, 30, tzinfo=UTC)  # 08:30 in Shanghai
    written = reports.monthly_report(first_of_january)
    assert written == tmp_path / "monthly" / "考核评价报告-2026-12.docx" and written.exists()
    assert "2026年12月考核评价报告" in Document(str(written)).paragraphs[0].text
    before = written.stat().st_mtime_ns
    assert reports.monthly_report(first_of_january) is None and written.stat().st_mtime_ns == before
