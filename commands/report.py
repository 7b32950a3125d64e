"""``report``: the reconciliation of the active generation, as JSON, HTML or a table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.table import Table

from core.objects import PHASES
from core.settings import Settings
from ledger.database import open_engine
from ledger.generations import active_ledger_id
from reports.details import report_details
from reports.exports import export_lines
from reports.html import write_html_report
from reports.report import build_report


def current_report(settings: Settings) -> dict[str, Any]:
    """The reconciliation report of the migration's active generation."""
    engine = open_engine(settings.ledger_url)
    try:
        return build_report(engine, active_ledger_id(engine, settings.migration))
    finally:
        engine.dispose()


def current_details(settings: Settings) -> dict[str, Any]:
    """How the run went, for the HTML report (call after :func:`current_report`)."""
    engine = open_engine(settings.ledger_url)
    try:
        return report_details(engine, active_ledger_id(engine, settings.migration), PHASES)
    finally:
        engine.dispose()


def write_html(report: dict[str, Any], path: Path, details: dict[str, Any] | None = None) -> Path:
    """Write the HTML report; returns where it went."""
    return write_html_report(report, path, details)


def render_report_summary(report: dict[str, Any], console: Any) -> None:
    """Print the per-object reconciliation table of a report."""
    table = Table("object", "source", "migrated", "quarantined", "skipped", "pending")
    for obj, c in report["objects"].items():
        table.add_row(
            obj, *(str(c[k]) for k in ("source", "migrated", "quarantined", "skipped", "pending"))
        )
    console.print(table)


def render_exports(report: dict[str, Any], console: Any) -> None:
    """Print where the ID map and redirects were written, or how to write them."""
    for line in export_lines(report.get("exports") or {}):
        console.print(line, highlight=False, markup=False)


def render_quarantined(report: dict[str, Any], console: Any, limit: int = 20) -> None:
    """Print the first quarantined records with their reasons."""
    for item in report["quarantined"][:limit]:
        console.print(
            f"  quarantined {item['object']} {item['source_id']}: {item['reason']}",
            highlight=False,
            markup=False,
        )
