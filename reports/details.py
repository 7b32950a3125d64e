"""What the HTML report shows beyond the reconciliation: how the run went and where to go.

The newest run that wrote anything (a ``migrate`` or a ``delta``): its timeline of calls,
429s, faults and retries, the time each phase took; every run in a table; a few migrated
tickets with their inbox links (from the workspace a ``GET /me`` recorded, no API call
here). All from the ledger, by aggregate queries (ledger/run_report.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from ledger.run_report import Phases, Run, migrated_tickets, phase_times, runs, timeline
from ledger.store import Ledger
from reports.links import recorded_links
from reports.svg import timeline_svg

#: How many migrated tickets the report shows with their links.
SHOWN_TICKETS = 10


def _run_row(run: Run) -> dict[str, Any]:
    return {
        "run": run.run,
        "kind": run.kind,
        "started_at": run.started_at.isoformat(timespec="seconds"),
        "seconds": round((run.ended_at - run.started_at).total_seconds(), 1),
        "writes": run.writes,
    }


def report_details(engine: Engine, migration_id: str, phases: Phases) -> dict[str, Any]:
    """The run's timeline (with its SVG), phases (the coordinator's ``phases``), runs and a
    few tickets with their links.

    Call after ``build_report`` (it catches up the projection the tickets come from).
    """
    all_runs = runs(engine, migration_id)
    focus = next((r for r in reversed(all_runs) if r.writes), all_runs[-1] if all_runs else None)
    links = recorded_links(engine, Ledger(engine, migration_id))
    tickets = [
        {**t, "url": links.inbox(t["intercom_id"]) or ""}
        for t in migrated_tickets(engine, migration_id, SHOWN_TICKETS)
    ]
    details: dict[str, Any] = {
        "runs": [_run_row(r) for r in all_runs],
        "run": _run_row(focus) if focus else None,
        "timeline": {"points": [], "bucket_seconds": 1, "start": None},
        "timeline_svg": "",
        "phases": [],
        "tickets": tickets,
        "inbox_links": bool(links.app_id),
    }
    if focus is not None:
        line = timeline(engine, migration_id, focus)
        details["timeline"] = line
        details["timeline_svg"] = timeline_svg(line["points"], line["bucket_seconds"])
        details["phases"] = phase_times(engine, migration_id, focus, phases)
        details["totals"] = {
            k: sum(p[k] for p in line["points"])
            for k in ("calls", "rate_limited", "server_errors", "in_doubt", "failed", "reattempts")
        }
    return details
