"""``report``: the reconciliation report, a projection of the ledger in the public JSON shape.

The public contract (docs/reports.md) is exactly::

    {"migration": str,
     "objects": {OBJECT: {"source", "migrated", "quarantined", "skipped", "pending"}},
     "quarantined": [{"object", "source_id", "reason"}],
     "skipped": [{"object", "source_id", "reason"}]}

with every OBJECT of :data:`core.objects.OBJECTS` present and, per object,
``source = migrated + quarantined + skipped + pending``. Extra top-level keys (never a
rename): ``generated_at``, ``as_of_seq``, ``deleted`` (records gone from Hesk since they were
captured; they stay counted in their state, so the sums hold), ``other_objects`` (objects
outside the contract, e.g. ticket templates), ``api_calls`` (write-protocol events) and
``limits`` (see :mod:`reports.limits`), ``not_in_source``: what the captured source
cannot hold (an export file has no notes, attachments, KB...), from the newest capture.
Each of those is also listed under ``skipped`` with ``source_id`` ``*`` and the reason
("not in a Hesk export file"); it is not counted, as the source never said how many.
``exports`` (the newest ID map and redirects files written) and ``verify`` (the newest
verify's results, or null).

The per-record state comes from the ``Dispositions`` projection table, caught up first and
streamed row by row; the events table is never loaded whole.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine

from core.objects import OBJECTS
from ledger.dispositions import STATES, Dispositions
from ledger.events import (
    CaptureCompleted,
    WriteFailed,
    WriteInDoubt,
    WriteIntended,
    WriteResolved,
    WriteSucceeded,
)
from ledger.outputs import newest_verify
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from reports.errors import ReportError
from reports.exports import exports_summary
from reports.limits import limits_hit

#: The keys of one object's counts, in contract order.
COUNT_KEYS = ("source", *STATES)
_LISTED = ("quarantined", "skipped")
_API_EVENTS = {
    "writes_intended": WriteIntended.TYPE,
    "writes_succeeded": WriteSucceeded.TYPE,
    "writes_failed": WriteFailed.TYPE,
    "writes_in_doubt": WriteInDoubt.TYPE,
    "writes_resolved": WriteResolved.TYPE,
}


def _zero() -> dict[str, int]:
    return dict.fromkeys(COUNT_KEYS, 0)


def tally(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Fold dispositions rows into the report's counts and lists (pure, one pass)."""
    objects = {o: _zero() for o in OBJECTS}
    other: dict[str, dict[str, int]] = {}
    lists: dict[str, list[dict[str, str]]] = {k: [] for k in _LISTED}
    deleted: list[dict[str, str]] = []
    for row in rows:
        if not row.get("captured"):
            continue  # settled but never captured: not a Hesk record (built-in attributes)
        obj, state = row["object"], row.get("state") or "pending"
        counts = objects.get(obj)
        if counts is None:
            counts = other.setdefault(obj, _zero())
        counts["source"] += 1
        counts[state] += 1
        entry = {"object": obj, "source_id": row["source_id"]}
        if state in lists:
            lists[state].append({**entry, "reason": row.get("reason") or ""})
        if row.get("deleted"):
            deleted.append({**entry, "state": state})
    return {"objects": objects, "other_objects": other, **lists, "deleted": deleted}


def check_sums(objects: dict[str, dict[str, int]]) -> None:
    """Raise ReportError unless every object's source equals the sum of its states."""
    for obj, c in objects.items():
        if c["source"] != sum(c[s] for s in STATES):
            raise ReportError(f"the report for {obj} does not add up: {c}")


def api_calls(ledger: Ledger) -> dict[str, int]:
    """How many write-protocol events of each kind the ledger holds."""
    return {name: ledger.count(types=[t]) for name, t in _API_EVENTS.items()}


def not_in_source(ledger: Ledger) -> list[dict[str, str]]:
    """What the newest capture's source could not hold: ``{object, what, reason}``."""
    marks: dict[str, Any] = {}
    for rec in ledger.read(types=[CaptureCompleted.TYPE]):
        marks = getattr(rec.event, "watermarks", None) or {}
    reason = "not in a Hesk export file" if marks.get("source") == "export" else "not in the source"
    return [
        {"object": key.split(".")[0], "what": what, "reason": reason}
        for key, what in (marks.get("not_held") or {}).items()
    ]


def build_report(engine: Engine, migration_id: str) -> dict[str, Any]:
    """The reconciliation report of one migration, in the contract shape plus extra keys."""
    table = ProjectionTable(engine, migration_id, Dispositions())
    table.catch_up()
    counts = tally(value for _key, value in table.items())
    check_sums(counts["objects"])
    check_sums(counts["other_objects"])
    ledger = Ledger(engine, migration_id)
    absent = not_in_source(ledger)
    report: dict[str, Any] = {
        "migration": migration_id,
        "objects": counts["objects"],
        "quarantined": counts["quarantined"],
        "skipped": counts["skipped"]
        + [
            {"object": a["object"], "source_id": "*", "reason": f"{a['what']}: {a['reason']}"}
            for a in absent
        ],
        "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "as_of_seq": ledger.last_seq(),
        "deleted": counts["deleted"],
        "api_calls": api_calls(ledger),
        "limits": limits_hit(engine, migration_id, counts["objects"]),
        "exports": exports_summary(ledger),
        "verify": verify_summary(ledger),
    }
    if counts["other_objects"]:
        report["other_objects"] = counts["other_objects"]
    if absent:
        report["not_in_source"] = absent
    return report


def verify_summary(ledger: Ledger) -> dict[str, Any] | None:
    """The newest ``verify``: when, sample size, records read back and matching, fields
    compared and matched, and every difference (None before any verify)."""
    found = newest_verify(ledger)
    if found is None:
        return None
    event, at = found
    return {
        "verified_at": at,
        "sample": event.sample,
        "as_of_seq": event.as_of_seq,
        "checked": event.checked,
        "ok": event.ok,
        "fields": {
            name: {"compared": c, "matched": c - d} for name, (c, d) in event.fields.items()
        },
        "differences": event.differences,
        "limits": event.limits,
        "notes": event.notes,
    }


def totals(report: dict[str, Any]) -> dict[str, int]:
    """The sum over all contract objects of each count (source and every state)."""
    out = _zero()
    for c in report["objects"].values():
        for k in COUNT_KEYS:
            out[k] += c[k]
    return out
