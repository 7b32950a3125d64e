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
