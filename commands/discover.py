"""``discover`` and ``demo-data``: what the Hesk source holds, and a demo one to rehearse on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.settings import Settings
from hesk.demo_claim import demo_database_url
from hesk.demo_data import generate
from hesk.discover import discover, render_discover
from hesk.open import open_source


def discover_source(settings: Settings) -> dict[str, Any]:
    """Scan the Hesk source (database or export file) and report its scope."""
    with open_source(settings) as reader:
        return discover(reader)


def show_discovery(report: dict[str, Any], console: Any) -> None:
    """Print a discover report."""
    render_discover(report, console)


def make_demo_data(
    settings: Settings,
    *,
    tickets: int,
    seed: int,
    database: str,
    attachments_dir: Path | None,
    clean: bool,
    force: bool = False,
) -> tuple[Any, Path]:
    """(Re)create the demo Hesk database ``database`` on H2I_HESK_URL's server; returns its
    summary and the attachments folder (default ``demo-output/DATABASE/attachments``).

    Never the settings' database or attachments folder; only a database and folder the
    generator created, unless ``force`` (see :mod:`hesk.demo_claim`).
    """
    url = demo_database_url(settings.hesk_url, database)
    folder = attachments_dir or Path("demo-output") / database / "attachments"
    summary = generate(
        url,
        folder,
        tickets=tickets,
        seed=seed,
        table_prefix=settings.hesk_table_prefix,
        force=force,
        clean_files=clean,
    )
    return summary, folder
