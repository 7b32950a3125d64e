"""What the run left for people, as recorded: the workspace linked to, the files written,
the newest verify. Small indexed reads of a few event types."""

from __future__ import annotations

from ledger.events import ExportWritten, VerifyCompleted, WorkspaceIdentified
from ledger.store import Ledger


def recorded_workspace(ledger: Ledger) -> WorkspaceIdentified | None:
    """The workspace the newest ``GET /me`` of this migration named, if any."""
    rec = ledger.latest(WorkspaceIdentified.TYPE)
    return rec.event if rec is not None and isinstance(rec.event, WorkspaceIdentified) else None


def newest_exports(ledger: Ledger) -> dict[str, ExportWritten]:
    """The newest file written of each kind (``idmap``, ``redirects``)."""
    found: dict[str, ExportWritten] = {}
    for rec in ledger.read(types=[ExportWritten.TYPE]):
        if isinstance(rec.event, ExportWritten):
            found[rec.event.source_id] = rec.event
    return found


def newest_verify(ledger: Ledger) -> tuple[VerifyCompleted, str] | None:
    """The newest verify's results and when it ran (ISO-8601 UTC), if any."""
    rec = ledger.latest(VerifyCompleted.TYPE)
    if rec is None or not isinstance(rec.event, VerifyCompleted):
        return None
    return rec.event, rec.recorded_at.isoformat(timespec="seconds")


#: Events that record what was shown or written, not what moved: a file stays current.
OUTPUT_TYPES = (ExportWritten.TYPE, WorkspaceIdentified.TYPE, VerifyCompleted.TYPE)
_MOVED_SINCE = (
    "SELECT 1 FROM events WHERE migration_id = %(m)s AND seq > %(s)s AND type <> ALL(%(t)s) LIMIT 1"
)


def moved_since(ledger: Ledger, seq: int) -> bool:
    """Whether anything but outputs was recorded after ``seq`` (a file written then is old)."""
    with ledger.engine.connect() as conn:
        found = conn.exec_driver_sql(
            _MOVED_SINCE, {"m": ledger.migration_id, "s": seq, "t": list(OUTPUT_TYPES)}
        ).first()
    return found is not None


def has_captures(ledger: Ledger) -> bool:
    """Whether anything was captured from Hesk in this migration (one indexed row)."""
    return ledger.latest("SourceCaptured") is not None
