"""``delta``: move only what changed in Hesk since the last capture.

The delta is a projection of the ledger like everything else: its starting point is the
newest ``CaptureCompleted``'s watermarks (max ids, newest ticket ``lastchange``). It
re-captures cheaply — tickets changed since the watermark (with their history), replies,
notes and attachments past the max ids, contacts of new tickets, and the small catalogs
(staff, categories, custom fields, KB, canned responses) — where an unchanged record is a
no-op by key, so only new or changed records become pending. Ids gone from Hesk are
recorded as ``SourceDeleted`` (reported; applied only with ``--apply-deletions``). The
pending records then go through the same phases as ``migrate``: a changed ticket's unit
re-plans its thread and writes only the steps not already settled (new parts, a new
title, a close or a reopen). Running it twice in a row writes nothing the second time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commands.coordinator import Coordinator, PhaseProgress
from commands.migrate import require_map, run_number
from commands.options import MigrateOptions
from commands.worker_pool import in_process_sender, unit_runner
from core.errors import H2IError
from core.logs import get_logger
from core.objects import DELETION_TRACKED, PHASES
from core.settings import Settings
from engine.capture import CaptureStats, capture_records, capture_watermarks, sample_records
from engine.deletion import Target, delete_created
from engine.resources import Resources
from hesk.open import open_source
from hesk.reader_base import SourceReader
from hesk.records import Record
from ledger.dispositions import Dispositions, present_ids, present_summary
from ledger.events import (
    CaptureCompleted,
    DeltaStarted,
    RunStarted,
    SourceDeleted,
    WriteIntended,
)
from ledger.projections import ProjectionTable
from ledger.rollback_plan import RollbackPlan
from ledger.store import Ledger

log = get_logger(__name__)

#: What ``--apply-deletions`` can delete in Intercom, by source object.
DELETES = {"ticket": "conversation", "kb_article": "article", "kb_category": "collection"}


class NoFullCapture(H2IError):
    """A delta needs a full capture (a migrate) to start from."""

    exit_code = 2


class NotTheSameHelpDesk(H2IError):
    """A newer export whose tickets do not match the migrated ones by tracking id."""

    exit_code = 2


def check_tracking_ids(res: Resources, reader: SourceReader, batch: int = 500) -> None:
    """Each ticket of a re-read source must keep the tracking id it was captured with.

    An export is matched to the migration ticket by ticket: the same ``#`` with another
    tracking id means a file of another help desk (or one renumbered), and writing it
    would attach its replies to the wrong conversations.
    """
    chunk: list[Any] = []

    def check() -> None:
        known = res.ledger.latest_captures([("ticket", t.source_id) for t in chunk])
        for t in chunk:
            rec = known.get(("ticket", t.source_id))
            old = (getattr(rec.event, "record", None) or {}).get("trackid") if rec else None
            if old and t.trackid and old != t.trackid:
                raise NotTheSameHelpDesk(
                    f"ticket #{t.id} is {t.trackid} in this export, but {old} was migrated",
                    hint="give an export of the help desk this migration read (or start a "
                    "new migration with another H2I_MIGRATION)",
                )
        chunk.clear()

    for ticket in reader.iter_records("ticket"):
        chunk.append(ticket)
        if len(chunk) >= batch:
            check()
    if chunk:
        check()


@dataclass
class DeltaResult:
    """What a delta found and did."""

    run: str
    since: dict[str, Any]
    captured: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, list[str]] = field(default_factory=dict)
    deletions_applied: dict[str, int] = field(default_factory=dict)
    deletions_not_applicable: list[str] = field(default_factory=list)
    writes: int = 0
    capture_seconds: float = 0.0
    write_seconds: float = 0.0


def last_capture(ledger: Ledger) -> CaptureCompleted:
    """The newest completed capture (full or delta), or NoFullCapture."""
    found = None
    for rec in ledger.read(types=[CaptureCompleted.TYPE]):
        found = rec.event
    if not isinstance(found, CaptureCompleted):
        raise NoFullCapture(
            f"migration {ledger.migration_id!r} has no completed capture: a delta moves what "
            "changed since one",
            hint="run `hesk2intercom migrate` first (then delta, or cutover)",
        )
    return found


def _parse(mark: Any) -> datetime | None:
    return datetime.fromisoformat(mark) if isinstance(mark, str) and mark else None


def changed_records(
    res: Resources, reader: SourceReader, since: dict[str, Any], *, customers: bool = False
) -> Iterator[Record]:
    """The records that may be new or changed since the watermarks.

    Cheap reads only, unless ``customers``: Hesk keeps no edit time for customers, so
    finding an edited one means reading them all (a cost that grows with the history).
    """
    if not getattr(reader, "incremental", True):
        # A newer export file is read whole: an unchanged record is a no-op by key, so
        # only new tickets and replies and changed rows (status, title...) become pending.
        yield from sample_records(reader, None)
        return
    max_ids: dict[str, int] = since.get("max_ids") or {}
    lastchange = _parse(since.get("lastchange"))
    yield from reader.iter_records("staff")
    yield from reader.iter_records("category")
    yield from reader.iter_records("custom_field")
    if lastchange is not None:
        yield from reader.iter_records("ticket", changed_since=lastchange)
    # New tickets, even one written with an old ``lastchange`` (an import, a copy).
    yield from reader.iter_records("ticket", since_id=max_ids.get("ticket", 0))
    if customers:  # every customer; an unchanged one is a no-op
        yield from reader.iter_records("contact")
    else:  # only requesters not seen before
        yield from _new_contacts(
            res, reader.iter_records("contact", since_id=max_ids.get("ticket", 0))
        )
    for obj in ("reply", "note", "attachment"):
        yield from reader.iter_records(obj, since_id=max_ids.get(obj, 0))
    for obj in ("kb_category", "kb_article", "canned_response"):
        yield from reader.iter_records(obj)


def _new_contacts(res: Resources, contacts: Iterator[Record], batch: int = 500) -> Iterator[Record]:
    """Contacts not captured yet (a known requester seen on a new ticket is not a change)."""
    chunk: list[Record] = []

    def fresh() -> list[Record]:
        known = res.ledger.latest_captures([("contact", c.source_id) for c in chunk])
        return [c for c in chunk if ("contact", c.source_id) not in known]

    for contact in contacts:
        chunk.append(contact)
        if len(chunk) >= batch:
            yield from fresh()
            chunk.clear()
    if chunk:
        yield from fresh()


def nothing_deleted(res: Resources, reader: SourceReader, obj: str) -> bool:
    """True when counts alone prove no captured record of ``obj`` is gone from Hesk.

    Every Hesk record up to the largest captured id has been captured (ids only grow), so
    when Hesk has no id above it and as many rows as we hold, none can be missing. Two
    counts in the databases replace comparing every id in Python.
    """
    count, top = present_summary(res.engine, res.ledger.migration_id, obj)
    try:
        hesk_top = int(reader.max_ids().get(obj, 0))
    except (AttributeError, H2IError):
        return False
    return hesk_top <= top and reader.count(obj) == count


def find_deletions(res: Resources, reader: SourceReader, run: str) -> dict[str, list[str]]:
    """Record a SourceDeleted for every captured id now gone from Hesk; returns them."""
    gone: dict[str, list[str]] = {}
    if not getattr(reader, "tracks_deletions", True):
        return gone  # an export may be filtered: a missing row is not a deletion
    ProjectionTable(res.engine, res.ledger.migration_id, Dispositions()).catch_up()
    for obj in DELETION_TRACKED:
        try:
            if nothing_deleted(res, reader, obj):
                continue
            now = {str(i) for i in reader.id_set(obj)}
        except (KeyError, H2IError):
            continue
        known = present_ids(res.engine, res.ledger.migration_id, obj)
        missing = sorted(known - now, key=lambda s: (len(s), s))
        if missing:
            gone[obj] = missing
            events = [SourceDeleted(object=obj, source_id=s, capture=run) for s in missing]
            if obj == "ticket":
                events += [
                    SourceDeleted(object="history", source_id=s, capture=run) for s in missing
                ]
            res.ledger.append(events)
    return gone


def capture_delta(
    res: Resources, reader: SourceReader, run: str, *, customers: bool = False
) -> tuple[CaptureStats, dict, dict]:
    """Record DeltaStarted, the changed records, deletions and CaptureCompleted(kind=delta)."""
    since = last_capture(res.ledger).watermarks
    if not getattr(reader, "incremental", True):
        check_tracking_ids(res, reader)
    marks = capture_watermarks(reader)  # read first: a write during the capture is re-read
    res.ledger.append_one(
        DeltaStarted(object="capture", source_id=run, capture=run, watermarks=since)
    )
    records = changed_records(res, reader, since, customers=customers)
    stats = capture_records(res.ledger, records, run, the_map=require_map(res))
    gone = find_deletions(res, reader, run)
    res.ledger.append_one(
        CaptureCompleted(
            object="capture",
            source_id=run,
            capture=run,
            kind="delta",
            watermarks=marks,
            counts=stats.new,
        )
    )
    return stats, since, gone


def apply_deletions(res: Resources, result: DeltaResult) -> None:
    """Delete the Intercom objects of records deleted in Hesk (only those we created)."""
    table = ProjectionTable(res.engine, res.ledger.migration_id, RollbackPlan())
    table.catch_up()
    for obj, ids in result.deleted.items():
        if obj not in DELETES:
            result.deletions_not_applicable += [f"{obj} {i}" for i in ids]
            continue
        wanted = set(ids)
        for key, row in table.items():
            if row.get("object") != obj or row.get("source_id") not in wanted:
                continue
            wanted_type = (
                "ticket" if obj == "ticket" and row.get("type") == "ticket" else DELETES[obj]
            )  # a ticket is a conversation or, by the map, a ticket
            if row.get("state") != "created" or row.get("type") != wanted_type:
                continue
            target = Target(
                key,
                obj,
                row["source_id"],
                str(row["id"]),
                row["type"],
                row.get("proof", ""),
                row.get("op", ""),
                row.get("why", ""),
            )
            if delete_created(res, result.run, target) in ("deleted", "already_gone"):
                result.deletions_applied[obj] = result.deletions_applied.get(obj, 0) + 1


def run_delta(
    res: Resources,
    options: MigrateOptions,
    *,
    apply: bool = False,
    send: Callable[[Sequence[str]], None] | None = None,
    on_progress: Callable[[PhaseProgress], None] | None = None,
    customers: bool = False,
) -> DeltaResult:
    """Capture what changed, then write it through the usual phases.

    ``customers``: also re-read every customer to find edited ones (see changed_records).
    """

    last_capture(res.ledger)
    require_map(res)
    run = f"run-{run_number(res)}"
    res.ledger.append_one(
        RunStarted(
            object="run",
            source_id=run,
            run=run,
            kind="delta",
            options={"apply_deletions": apply, "customers": customers},
        )
    )
    started_seq = res.ledger.last_seq()
    t0 = time.monotonic()
    with open_source(res.settings) as reader:
        stats, since, gone = capture_delta(res, reader, run, customers=customers)
    result = DeltaResult(
        run,
        since,
        captured=dict(stats.new),
        deleted=gone,
        capture_seconds=round(time.monotonic() - t0, 3),
    )
    t1 = time.monotonic()
    coordinator = Coordinator(res, options, send or in_process_sender(res))
    for _name, objects in PHASES:
        coordinator.run_phase(objects, on_progress or (lambda _p: None))
    if apply and gone:
        apply_deletions(res, result)
    result.write_seconds = round(time.monotonic() - t1, 3)
    result.writes = sum(
        1 for _ in res.ledger.read(types=[WriteIntended.TYPE], after_seq=started_seq)
    )
    return result


def render_delta(result: DeltaResult, console: Any) -> None:
    """Print what a delta moved and found."""
    captured = ", ".join(f"{n} {o}" for o, n in sorted(result.captured.items())) or "nothing"
    console.print(
        f"Delta {result.run}: new or changed in Hesk: {captured} "
        f"(captured in {result.capture_seconds} s)",
        highlight=False,
        markup=False,
    )
    console.print(f"Intercom writes: {result.writes} (in {result.write_seconds} s)")
    for obj, ids in result.deleted.items():
        shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
        console.print(
            f"  deleted in Hesk: {len(ids)} {obj}(s): {shown}", highlight=False, markup=False
        )
    for obj, n in result.deletions_applied.items():
        console.print(f"  deleted in Intercom: {n} {obj}(s)")
    if result.deletions_not_applicable:
        console.print(
            f"  {len(result.deletions_not_applicable)} deleted record(s) cannot be "
            "deleted in Intercom (a conversation part has no delete API): left as is"
        )
    if result.deleted and not result.deletions_applied and not result.deletions_not_applicable:
        console.print(
            "  Deletions are reported, not applied: `hesk2intercom delta "
            "--apply-deletions` deletes what this migration created for them."
        )


def delta_command(
    settings: Settings, *, apply: bool = False, workers: int = 0, customers: bool = False
) -> DeltaResult:
    """The ``delta`` command: run a delta with units run here or by N worker processes."""
    res = Resources.from_settings(settings)
    opts = MigrateOptions(workers=workers, stall_seconds=settings.stall_seconds)
    try:
        with unit_runner(res, opts) as send:
            return run_delta(res, opts, apply=apply, send=send, customers=customers)
    finally:
        res.close()
