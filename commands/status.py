"""``status``: where the migration stands per object, from the dispositions projection.

After a completed rollback the migration's next generation is empty until a new
``migrate`` starts (ledger.generations): status then says the migration is rolled back.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table
from sqlalchemy.engine import Engine

from core.settings import Settings
from ledger.database import open_engine
from ledger.dispositions import STATES, Dispositions, summarise
from ledger.events import RollbackCompleted, RollbackDeleted, RollbackStarted, RunStarted
from ledger.generations import Generation, active_generation
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from reports.exports import export_lines, exports_summary


def rollback_state(engine: Engine, gen: Generation) -> dict[str, Any] | None:
    """The rollback to show: one in progress, or the last completed with no run since."""
    ledger = Ledger(engine, gen.ledger_id)
    if ledger.count(types=[RollbackStarted.TYPE]):
        done = ledger.count(types=[RollbackDeleted.TYPE])
        return {
            "state": "in progress",
            "deleted": done,
            "line": f"rollback in progress: {done} object(s) deleted so far; run "
            "`hesk2intercom rollback --yes` to finish it",
        }
    if gen.previous_id is None or ledger.count(types=[RunStarted.TYPE]):
        return None
    previous = Ledger(engine, gen.previous_id)
    completed = None
    for rec in previous.read(types=[RollbackCompleted.TYPE]):
        completed = rec
    if completed is None:
        return None
    event = completed.event
    assert isinstance(event, RollbackCompleted)
    total = sum(event.counts.values())
    kept = (
        f"; {len(event.kept)} left in Intercom on purpose (`hesk2intercom rollback "
        "--dry-run` names them)"
        if event.kept
        else ""
    )
    return {
        "state": "rolled back",
        "at": completed.recorded_at.isoformat(),
        "counts": event.counts,
        "kept": event.kept,
        "line": f"rolled back at {completed.recorded_at:%Y-%m-%d %H:%M} UTC: {total} "
        f"created object(s) removed from Intercom{kept}; `hesk2intercom migrate` "
        "starts again",
    }


def status_summary(settings: Settings) -> dict[str, Any]:
    """The migration's name, event count and per-object counts, caught up from the ledger."""
    engine = open_engine(settings.ledger_url)
    try:
        gen = active_generation(engine, settings.migration)
        ledger = Ledger(engine, gen.ledger_id)
        table = ProjectionTable(engine, gen.ledger_id, Dispositions())
        table.catch_up()
        counts = summarise(value for _key, value in table.items())
        return {
            "migration": settings.migration,
            "generation": gen.number,
            "events": ledger.count(),
            "last_seq": ledger.last_seq(),
            "objects": counts,
            "rolled_back": rollback_state(engine, gen),
            "exports": exports_summary(ledger),
        }
    finally:
        engine.dispose()


def render_status(summary: dict[str, Any], console: Console) -> None:
    """Print the status as a Rich table."""
    console.print(
        f"Migration [bold]{escape(summary['migration'])}[/]: {summary['events']} events in "
        "the ledger"
    )
    rolled = summary.get("rolled_back")
    if rolled:
        console.print(
            f"[bold yellow]{escape(rolled['state'])}[/]: {escape(rolled['line'])}", highlight=False
        )
    elif not summary["events"]:
        console.print("Nothing recorded yet: run `hesk2intercom discover`, then `map propose`.")
    table = Table("object", "source", *STATES)
    for obj, c in summary["objects"].items():
        table.add_row(obj, *(str(c[k]) for k in ("source", *STATES)))
    console.print(table)
    if summary["events"]:
        for line in export_lines(summary.get("exports") or {}):
            console.print(line, highlight=False, markup=False)
