"""``status``: where the migration stands per object, from the dispositions projection."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

from core.settings import Settings
from ledger.database import open_engine
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from reports.projections import STATES, Dispositions, summarise


def status_summary(settings: Settings) -> dict[str, Any]:
    """The migration's name, event count and per-object counts, caught up from the ledger."""
    engine = open_engine(settings.ledger_url)
    try:
        ledger = Ledger(engine, settings.migration)
        table = ProjectionTable(engine, settings.migration, Dispositions())
        table.catch_up()
        counts = summarise(value for _key, value in table.items())
        return {
            "migration": settings.migration,
            "events": ledger.count(),
            "last_seq": ledger.last_seq(),
            "objects": counts,
        }
    finally:
        engine.dispose()


def render_status(summary: dict[str, Any], console: Console) -> None:
    """Print the status as a Rich table."""
    console.print(
        f"Migration [bold]{summary['migration']}[/]: {summary['events']} events in the ledger"
    )
    if not summary["events"]:
        console.print("Nothing recorded yet: run `hesk2intercom discover`, then `map propose`.")
    table = Table("object", "source", *STATES)
    for obj, c in summary["objects"].items():
        table.add_row(obj, *(str(c[k]) for k in ("source", *STATES)))
    console.print(table)
