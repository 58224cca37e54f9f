"""The monthly evaluation report on a schedule: on the 1st of each month (local calendar) the worker writes the
previous month's report into settings.reports_dir as 考核评价报告-YYYY-MM.docx; once (a file already there is kept)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from dispatcher.evaluation.documents.monthly import build_monthly, previous_month
from dispatcher.settings import get_settings
from workers import keys
from workers.context import worker_context

log = logging.getLogger(__name__)
REPORT_LOCK = f"{keys.PREFIX}:report-monthly-lock"
REPORT_EVERY_S = 3600  # the ticker asks at most once an hour


def report_path(reports_dir: Path, month_text: str) -> Path:
    return reports_dir / f"考核评价报告-{month_text}.docx"


def monthly_report(now: datetime | None = None) -> Path | None:
    """Write last month's report if today is the 1st (or it is missing later that month); the file, or None."""
    settings = get_settings()
    now = now or datetime.now(UTC)
    today = now.astimezone(ZoneInfo(settings.timezone)).date()
    month = previous_month(today)
    path = report_path(settings.reports_dir, f"{month:%Y-%m}")
    if path.exists():
        return None
    with worker_context().sessions.begin() as session:
        data = build_monthly(session, month=month, now=now, tz=settings.timezone)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_bytes(data)
    partial.replace(path)  # never a half-written report under the real name
    log.info("wrote the %s evaluation report to %s", f"{month:%Y-%m}", path)
    return path
