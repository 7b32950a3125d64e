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

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from core.errors import H2IError
from core.logs import get_logger
from hesk.records import Record
from ledger.events import (
    CaptureCompleted,
    DeltaStarted,
    Recorded,
    RunStarted,
    SourceDeleted,
    WriteIntended,
    WriteResolved,
    WriteSucceeded,
)
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from reports.projections import Dispositions
from workers.capture import CaptureStats, capture_records, sample_records
from workers.migrate import PHASES, Coordinator, MigrateOptions, PhaseProgress, capture_watermarks
from workers.resources import Resources

log = get_logger(__name__)

#: Small tables re-captured whole (unchanged rows are no-ops by key).
CATALOGS = ("staff", "category", "custom_field", "kb_category", "kb_article", "canned_response")
#: Objects whose deletion in Hesk is looked for, by comparing id sets.
DELETABLE = ("ticket", "reply", "note", "kb_article", "kb_category", "canned_response")
#: What ``--apply-deletions`` can delete in Intercom, by source object.
DELETES = {"ticket": "conversation", "kb_article": "article", "kb_category": "collection"}


class NoFullCapture(H2IError):
    """A delta needs a full capture (a migrate) to start from."""

    exit_code = 2


class NotTheSameHelpDesk(H2IError):
    """A newer export whose tickets do not match the migrated ones by tracking id."""

    exit_code = 2


def check_tracking_ids(res: Resources, reader: Any, batch: int = 500) -> None:
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
                         "new migration with another H2I_MIGRATION)")
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


def conversation_closed(events: Iterable[Recorded]) -> bool:
    """Whether the last state write (close/open) made on a ticket's conversation closed it.

    ``events``: the ticket unit's events in seq order (others are ignored).
    """
    intents: dict[str, str] = {}
    last = ""
    for rec in events:
        e = rec.event
        if isinstance(e, WriteIntended) and e.operation in ("close", "open"):
            intents[e.key] = e.operation
        elif (
            isinstance(e, WriteSucceeded | WriteResolved)
            and e.intent_key in intents
            and getattr(e, "found", True)
        ):
            last = intents[e.intent_key]
    return last == "close"


def _parse(mark: Any) -> datetime | None:
    return datetime.fromisoformat(mark) if isinstance(mark, str) and mark else None


def changed_records(
    res: Resources, reader: Any, since: dict[str, Any], *, customers: bool = False
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


#: Captured records of one object that Hesk still had at the last look.
_PRESENT = (
    "FROM projection_rows WHERE projection = %(p)s AND migration_id = %(m)s "
    "AND value->>'object' = %(o)s AND NOT (value ? 'deleted') AND (value ? 'captured')"
)


def _query_present(res: Resources, select: str, obj: str) -> list[Any]:
    with res.engine.connect() as conn:
        params = {"p": Dispositions.name, "m": res.ledger.migration_id, "o": obj}
        return list(conn.exec_driver_sql(f"SELECT {select} {_PRESENT}", params))


def _present(res: Resources, obj: str) -> set[str]:
    """Source ids of this object captured and not yet marked deleted (from the projection)."""
    return {s for (s,) in _query_present(res, "value->>'source_id'", obj)}


def _present_summary(res: Resources, obj: str) -> tuple[int, int]:
    """How many ids of this object are captured and not deleted, and the largest of them."""
    select = "count(*), coalesce(max((value->>'source_id')::bigint), 0)"
    count, top = _query_present(res, select, obj)[0]
    return int(count), int(top)


def nothing_deleted(res: Resources, reader: Any, obj: str) -> bool:
    """True when counts alone prove no captured record of ``obj`` is gone from Hesk.

    Every Hesk record up to the largest captured id has been captured (ids only grow), so
    when Hesk has no id above it and as many rows as we hold, none can be missing. Two
    counts in the databases replace comparing every id in Python.
    """
    count, top = _present_summary(res, obj)
    try:
        hesk_top = int(reader.max_ids().get(obj, 0))
    except (AttributeError, H2IError):
        return False
    return hesk_top <= top and reader.count(obj) == count


def find_deletions(res: Resources, reader: Any, run: str) -> dict[str, list[str]]:
    """Record a SourceDeleted for every captured id now gone from Hesk; returns them."""
    gone: dict[str, list[str]] = {}
    if not getattr(reader, "tracks_deletions", True):
        return gone  # an export may be filtered: a missing row is not a deletion
    ProjectionTable(res.engine, res.ledger.migration_id, Dispositions()).catch_up()
    for obj in DELETABLE:
        try:
            if nothing_deleted(res, reader, obj):
                continue
            now = {str(i) for i in reader.id_set(obj)}
        except (KeyError, H2IError):
            continue
        missing = sorted(_present(res, obj) - now, key=lambda s: (len(s), s))
        if missing:
            gone[obj] = missing
            events = [SourceDeleted(object=obj, source_id=s, capture=run) for s in missing]
            if obj == "ticket":
                events += [SourceDeleted(object="history", source_id=s, capture=run)
                           for s in missing]  # fmt: skip
            res.ledger.append(events)
    return gone


def capture_delta(
    res: Resources, reader: Any, run: str, *, customers: bool = False
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
    stats = capture_records(res.ledger, records, run)
    gone = find_deletions(res, reader, run)
    res.ledger.append_one(
        CaptureCompleted(
            object="capture",
            source_id=run,
            capture=run,
            kind="delta",
            watermarks=marks,
            counts=stats.new,
        )  # fmt: skip
    )
    return stats, since, gone


def in_process_sender(res: Resources) -> Callable[[str], None]:
    """Run each unit here, now (tests and small deltas); the coordinator resends stalls."""
    from workers.units import DependencyPending, UnitBusy, process_unit

    def send(key: str) -> None:
        with contextlib.suppress(DependencyPending, UnitBusy):
            process_unit(res, key)

    return send


def apply_deletions(res: Resources, result: DeltaResult) -> None:
    """Delete the Intercom objects of records deleted in Hesk (only those we created)."""
    from reports.rollback_plan import RollbackPlan
    from workers.rollback import Target, _delete

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
            if row.get("state") != "created" or row.get("type") != DELETES[obj]:
                continue
            target = Target(key, obj, row["source_id"], str(row["id"]), row["type"],
                            row.get("proof", ""), row.get("op", ""))  # fmt: skip
            if _delete(res, result.run, target) in ("deleted", "already_gone"):
                result.deletions_applied[obj] = result.deletions_applied.get(obj, 0) + 1


def run_delta(
    res: Resources,
    options: MigrateOptions,
    *,
    apply: bool = False,
    send: Callable[[str], None] | None = None,
    on_progress: Callable[[PhaseProgress], None] | None = None,
    customers: bool = False,
) -> DeltaResult:
    """Capture what changed, then write it through the usual phases.

    ``customers``: also re-read every customer to find edited ones (see changed_records).
    """
    from hesk.open import open_source
    from workers.migrate import require_map, run_number

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
        )  # fmt: skip
    )
    started_seq = res.ledger.last_seq()
    t0 = time.monotonic()
    with open_source(res.settings) as reader:
        stats, since, gone = capture_delta(res, reader, run, customers=customers)
    result = DeltaResult(run, since, captured=dict(stats.new), deleted=gone,
                         capture_seconds=round(time.monotonic() - t0, 3))  # fmt: skip
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
    console.print(f"Delta {result.run}: new or changed in Hesk: {captured} "
                  f"(captured in {result.capture_seconds} s)", highlight=False)  # fmt: skip
    console.print(f"Intercom writes: {result.writes} (in {result.write_seconds} s)")
    for obj, ids in result.deleted.items():
        shown = ", ".join(ids[:10]) + (" …" if len(ids) > 10 else "")
        console.print(f"  deleted in Hesk: {len(ids)} {obj}(s): {shown}", highlight=False)
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


@contextlib.contextmanager
def unit_runner(res: Resources, options: MigrateOptions) -> Iterator[Callable[[str], None]]:
    """How units are run: here, in this process (``workers=0``), or by N worker processes."""
    if not options.workers:
        yield in_process_sender(res)
        return
    from workers.broker import make_broker
    from workers.migrate import WorkerPool, unit_sender

    send = unit_sender(make_broker(res.settings), res.ledger.migration_id)
    pool = WorkerPool(res.settings, options.workers, options.threads, options.log_dir)
    pool.start()
    try:
        yield send
    finally:
        pool.stop()
