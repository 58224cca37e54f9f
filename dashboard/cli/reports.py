"""`gridcommand report monthly --month 2026-11 [--scope CODE] --out FILE.docx`: the month's evaluation report
(考核评价报告: rankings, key tables, charts) from the indicator engine (dispatcher/evaluation/documents/monthly.py);
`gridcommand analysis refreeze`: drop the kept counts of finished periods after a correction of past data."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import click

from dashboard.cli.base import admin_session, main, open_database
from dispatcher.evaluation import frozen
from dispatcher.evaluation.documents.monthly import build_monthly, month_of
from dispatcher.settings import get_settings


@main.group("report")
def report() -> None:
    """Evaluation reports (考核评价报告)."""


@report.command("monthly")
@click.option("--month", "month_text", required=True, help="The month, YYYY-MM (local calendar).")
@click.option("--scope", default=None, help="Only this grid (any level) or department code; default: everything.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path), help="The .docx file.")
@click.option(
    "--as-of", "as_of", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z"]), help="Count as of this moment (default now)."
)
def monthly(month_text: str, scope: str | None, out: Path, as_of: datetime | None) -> None:
    """Write the month's report as a Word document (exit 2 naming the problem when the month is not YYYY-MM)."""
    try:
        month = month_of(month_text)
    except ValueError as exc:
        click.echo(str(exc), err=True)
        sys.exit(2)
    settings = get_settings()
    with open_database(settings) as session:
        now = as_of or datetime.now(UTC)
        data = build_monthly(session, month=month, now=now, tz=settings.timezone, scope_code=scope)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    click.echo(f"wrote the {month:%Y-%m} report ({len(data):,} bytes) to {out}")


@main.group("analysis")
def analysis() -> None:
    """The indicator engine's store of finished periods."""


@analysis.command("refreeze")
def refreeze() -> None:
    """Drop the kept counts of finished periods: the next tables count them again from the cases."""
    with admin_session() as (session, _now):
        dropped = frozen.refreeze(session)
    click.echo(f"dropped the kept counts of {dropped} finished period(s); the next tables recount them")
