"""Capture: read the Hesk source and record every record as a SourceCaptured event.

An unchanged record captured again is a no-op (same key); a changed one is a new event.
Fields the confirmed map does not migrate (the requester's IP unless the map says so) are
dropped first: they never reach the ledger, and changing only them is no change.
Streams in batches: memory stays flat whatever the size of the help desk. Each ticket with
a history also yields a ``history`` record (source id = the ticket id): its timeline note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from core.errors import H2IError
from core.hashing import content_hash
from core.objects import CAPTURE_ORDER
from hesk.reader_base import SourceReader, records_of
from hesk.records import Record, Ticket
from ledger.events import CaptureCompleted, SourceCaptured, confirmed_map_event
from ledger.store import Ledger
from mapping.plan import history_record
from mapping.retention import retained

BATCH = 1000


@dataclass
class CaptureStats:
    """How many records were read, and how many were new or changed, per object."""

    read: dict[str, int] = field(default_factory=dict)
    new: dict[str, int] = field(default_factory=dict)

    def add(self, obj: str, is_new: bool) -> None:
        """Count one record."""
        self.read[obj] = self.read.get(obj, 0) + 1
        if is_new:
            self.new[obj] = self.new.get(obj, 0) + 1


def to_events(record: Record, capture: str, the_map: dict[str, Any]) -> Iterator[SourceCaptured]:
    """The capture events of one record (a ticket also yields its history record), holding
    only what ``the_map`` migrates (:func:`mapping.retention.retained`)."""
    record = retained(record, the_map)
    yield SourceCaptured(
        object=record.OBJECT,
        source_id=record.source_id,
        content_hash=record.content_hash,
        record=record.to_payload(),
        capture=capture,
    )
    if isinstance(record, Ticket):
        # The report's ``history`` object: one per ticket, settled by its timeline note.
        history = history_record(record)
        yield SourceCaptured(
            object=history.OBJECT,
            source_id=history.source_id,
            content_hash=history.content_hash,
            record={"ticket_id": record.id, "raw": history.raw},
            capture=capture,
        )


def capture_records(
    ledger: Ledger,
    records: Iterable[Record],
    capture: str,
    *,
    the_map: dict[str, Any],
    on_batch: Callable[[CaptureStats], None] | None = None,
) -> CaptureStats:
    """Record every record (batched appends) as far as ``the_map`` (the confirmed map)
    migrates it; returns per-object counts."""
    stats = CaptureStats()
    batch: list[SourceCaptured] = []

    def flush() -> None:
        for event, is_new in zip(batch, ledger.append(batch), strict=True):
            stats.add(event.object, is_new)
        batch.clear()
        if on_batch:
            on_batch(stats)

    for record in records:
        batch.extend(to_events(record, capture, the_map))
        if len(batch) >= BATCH:
            flush()
    flush()
    return stats


def sample_records(reader: SourceReader, sample: int | None) -> Iterator[Record]:
    """Every record (sample None), or a slice: the first N tickets with all they need."""
    if sample is None:
        for obj in CAPTURE_ORDER:
            yield from reader.iter_records(obj)
        return
    ticket_ids: set[int] = set()
    contacts: set[str] = set()
    for obj in CAPTURE_ORDER:
        if obj == "ticket":
            for ticket in records_of(reader, Ticket):
                if len(ticket_ids) >= sample:
                    break
                ticket_ids.add(ticket.id)
                if ticket.requester_contact_id:
                    contacts.add(ticket.requester_contact_id)
                contacts.update(ticket.follower_contact_ids)
                yield ticket
        elif obj == "contact":
            yield from (c for c in reader.iter_records("contact") if c.source_id in contacts)
        elif obj in ("reply", "note", "attachment"):
            yield from (
                r for r in reader.iter_records(obj) if getattr(r, "ticket_id", None) in ticket_ids
            )
        elif obj == "kb_article":
            for n, article in enumerate(reader.iter_records("kb_article")):
                if n >= sample:
                    break
                yield article
        else:
            yield from reader.iter_records(obj)


#: The unit that sets up the workspace (attributes) before anything else is written.
WORKSPACE_UNIT = ("workspace", "attributes")


def capture_source(
    ledger: Ledger,
    reader: SourceReader,
    run: str,
    *,
    the_map: dict[str, Any],
    sample: int | None = None,
    on_batch: Callable[[CaptureStats], None] | None = None,
) -> CaptureStats:
    """Capture the source (or a sample of ``sample`` tickets) into the ledger as far as
    ``the_map`` (the confirmed map) migrates it, closed by the workspace unit and
    ``CaptureCompleted`` with the watermarks for the next delta."""
    stats = capture_records(
        ledger, sample_records(reader, sample), run, the_map=the_map, on_batch=on_batch
    )
    map_event = confirmed_map_event(ledger)
    map_hash = map_event.map_hash if map_event else ""
    workspace = {"map_hash": map_hash}
    ledger.append(
        [
            SourceCaptured(
                object=WORKSPACE_UNIT[0],
                source_id=WORKSPACE_UNIT[1],
                content_hash=content_hash(workspace),
                record=workspace,
                capture=run,
            ),
            CaptureCompleted(
                object="capture",
                source_id=run,
                capture=run,
                kind="full",
                watermarks=capture_watermarks(reader),
                counts=stats.read,
            ),
        ]
    )
    return stats


def capture_watermarks(reader: SourceReader) -> dict[str, Any]:
    """Where this capture ended, for the next delta (max ids and lastchange), and what
    kind of source it read and what that source cannot hold (for the report)."""
    marks: dict[str, Any] = {"source": getattr(reader, "kind", "database")}
    not_held = reader.not_held() if hasattr(reader, "not_held") else {}
    if not_held:
        marks["not_held"] = not_held
    try:
        marks["max_ids"] = reader.max_ids()
        watermark = reader.watermark()
        marks["lastchange"] = watermark.isoformat() if watermark else None
    except (AttributeError, H2IError):
        pass
    return marks
