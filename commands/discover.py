"""``discover`` and ``demo-data``: what the Hesk source holds, and a demo one to rehearse on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings
from hesk.demo_data import generate
from hesk.discover import discover, render_discover
from hesk.open import clean_attachments_dir, demo_target, open_source


def discover_source(settings: Settings) -> dict[str, Any]:
    """Scan the Hesk source (database or export file) and report its scope."""
    with open_source(settings) as reader:
        return discover(reader)


def show_discovery(report: dict[str, Any], console: Any) -> None:
    """Print a discover report."""
    render_discover(report, console)


def make_demo_data(
    settings: Settings, *, tickets: int, seed: int, database: str | None,
    attachments_dir: Path | None, clean: bool,
) -> tuple[Any, Path]:
    """(Re)create a demo Hesk database; returns its summary and the attachments folder."""
    url, folder = demo_target(settings, database, attachments_dir)
    if clean:
        clean_attachments_dir(folder)
    summary = generate(url, folder, tickets=tickets, seed=seed,
                       table_prefix=settings.hesk_table_prefix)  # fmt: skip
    return summary, folder
