"""Running one unit: load its records from the ledger, plan it (pure), write it (protocol).

A unit is named by the key of the SourceCaptured event of the record that owns it. One
worker runs a unit at a time (a Postgres advisory lock held on a connection of its own,
released by the server if the worker dies), so redelivered or duplicated messages are
harmless: a second runner finds the lock taken, or finds every step already settled.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.engine import Connection

from core.errors import H2IError
from core.logs import get_logger
from core.objects import TICKET_THREAD, WORKSPACE
from engine.context import SettledContext, build_context, dep_pair
from engine.protocol import AHEAD_MAX, Outcome, UnitRun, can_intend_ahead, intend_ahead, run_step
from engine.resources import Resources
from hesk.errors import HeskError
from hesk.records import (
    Attachment,
    CannedResponse,
    Category,
    Customer,
    CustomFieldDefinition,
    KbArticle,
    KbCategory,
    Note,
    R,
    Record,
    Reply,
    Staff,
    Ticket,
    record_from_payload,
)
from ledger.conversation_state import (
    conversation_closed,
    ticket_content_written,
    ticket_state_written,
)
from ledger.events import (
    Event,
    Recorded,
    RecordMigrated,
    RecordQuarantined,
    RecordSkipped,
    SourceCaptured,
)
from ledger.keys import parse_source_key
from ledger.sessions import held_lock
from ledger.store import SettlementsRead, recorded_rows
from mapping import plan as planner
from mapping.common import option
from mapping.steps import UNIT_ID, Disposition, FileRef, Plan, Step, UnitContext

log = get_logger(__name__)


class DependencyPending(H2IError):
    """A record this unit needs has not been settled yet; the message is retried."""

    transient = True
    #: Every record waited for is of the unit's own object (a KB category's parent):
    #: written in the same phase, so likely settled by another thread any moment.
    own_kind: bool = False

    def __init__(self, message: str, *, own_kind: bool = False) -> None:
        super().__init__(message)
        self.own_kind = own_kind


class UnitBusy(H2IError):
    """Another worker is running this unit right now."""

    transient = True


def _lock_name(res: Resources, obj: str, source_id: str) -> str:
    return f"unit:{res.ledger.migration_id}:{obj}:{source_id}"


@contextmanager
def unit_session(res: Resources, obj: str, source_id: str) -> Iterator[tuple[bool, Connection]]:
    """The unit's advisory lock and the autocommit connection that holds it.

    The unit's appends reuse this connection (see ``UnitRun.conn``): that saves a pool
    checkout and its pre-ping round trip per write, and an append can only succeed while
    the session that holds the lock is alive.
    """
    with held_lock(res.engine, _lock_name(res, obj, source_id)) as lock:
        yield lock.got, lock.conn


def process_unit(res: Resources, key: str) -> str:
    """Run the unit whose capture key is ``key``; returns how it ended (for logs/tests)."""
    named = parse_source_key(key)
    if named is None:
        return "unknown-key"
    if named[0] in TICKET_THREAD:
        child = res.ledger.get(key)
        if child is None or not isinstance(child.event, SourceCaptured):
            return "unknown-key"
        parent = _parent_ticket_key(res, child.event, child.seq)
        if parent is not None:
            # A reply/note/attachment/history of a captured ticket is written by the
            # ticket's unit (a delta's new reply, or one left pending): run that instead.
            return process_unit(res, parent)
    obj, source_id = named
    # The unit's own events (the capture the message names among them) and a ticket's
    # thread are read in the lock's round trip, on its connection, once it is taken.
    # A ticket's dependencies' settlements too: those of every ticket of the map, and those
    # its record names (read by the function from the record it holds).
    ticket = source_id if obj == "ticket" else None
    reads = [res.ledger.unit_events_read(obj, source_id)]
    ahead = None
    if ticket is not None:
        reads.append(res.ledger.ticket_children_read(ticket))
        ahead = [dep_pair(d) for d in planner.ticket_dependencies_of_map(res.confirmed_map())]
    name = _lock_name(res, obj, source_id)
    call = res.ledger.take_unit_call(name, obj, source_id, ticket, ahead)
    with held_lock(res.engine, name, reads, call=call) as lock:
        if not lock.got:
            raise UnitBusy(f"{obj}:{source_id} is being written by another worker")
        run = UnitRun.load(res, obj, source_id, conn=lock.conn, found=recorded_rows(lock.rows[0]))
        if ticket is not None:
            run.children = recorded_rows(lock.rows[1])
            run.settled_ahead = SettlementsRead.of_call(lock.more)
        captured = run.known.get(key)
        if not isinstance(captured, Recorded) or not isinstance(captured.event, SourceCaptured):
            return "unknown-key"
        event = captured.event
        newest = run.newest(SourceCaptured)
        if isinstance(newest, SourceCaptured):
            event = newest  # a newer capture supersedes the one in the message
        plan = _plan(res, event, run)
        _record_dispositions(run, plan.dispositions)
        try:
            outcome = _execute(run, plan)
        except BaseException:
            run.abandon()
            raise
        if event.object == "workspace" and outcome == "done":
            run.record(
                RecordMigrated(
                    object=event.object,
                    source_id=event.source_id,
                    content_hash=event.content_hash,
                    intercom_type="setup",
                )
            )
        run.finish(lock)  # its last events committed as the lock is let go
        return outcome


#: How long a unit whose dependency another thread is writing looks again, in its thread,
#: before its message goes back to the broker (whose retry waits half a second or more).
DEPENDENCY_PATIENCE_SECONDS = 1.0
DEPENDENCY_POLL_SECONDS = 0.05


def process_unit_patiently(
    res: Resources, key: str, *, patience: float = DEPENDENCY_PATIENCE_SECONDS
) -> str:
    """Run the unit as :func:`process_unit`; while it waits for records of its own object,
    try again every 50 ms for up to ``patience`` seconds before raising DependencyPending.

    Inside a phase one unit may need another of the same phase (a KB category its parent):
    the parent is usually settled by another thread within milliseconds, and the broker's
    backoff would idle the phase for a second. A unit waiting for another phase's records
    (a ticket for its contact, when ``--only ticket`` left them) raises at once, as before.
    """
    deadline = time.monotonic() + patience
    while True:
        try:
            return process_unit(res, key)
        except DependencyPending as err:
            if not err.own_kind or time.monotonic() + DEPENDENCY_POLL_SECONDS > deadline:
                raise
            time.sleep(DEPENDENCY_POLL_SECONDS)


def _parent_ticket_key(res: Resources, event: SourceCaptured, seq: int) -> str | None:
    """The capture key of the ticket that owns this child record (captured at ``seq``)."""
    if event.object not in TICKET_THREAD:
        return None
    ticket_id = event.record.get("ticket_id")
    if ticket_id is None:
        return None
    found = res.ledger.latest_captures([("ticket", str(ticket_id))])
    rec = found.get(("ticket", str(ticket_id)))
    if rec is None:
        return None
    own_key, ticket_key = (event.object, event.source_id), ("ticket", str(ticket_id))
    settled = res.ledger.settlements([own_key, ticket_key])
    ticket_done = settled.get(ticket_key)
    if own_key not in settled and ticket_done is not None and ticket_done.seq > seq:
        return None  # the ticket's unit ran after this capture and did not take it
    return rec.event.key


def _plan(res: Resources, event: SourceCaptured, run: UnitRun) -> Plan:
    conn = run.conn
    the_map = res.confirmed_map()
    if the_map is None:
        raise H2IError("no confirmed map", hint="run `hesk2intercom map propose` and `map confirm`")
    if event.object == WORKSPACE:
        ctx = build_context(res, the_map, [], conn=conn)
        if planner.is_tickets(the_map):
            setup = planner.plan_ticket_setup(ctx, _field_hashes(res, the_map, conn))
        else:
            setup = planner.plan_builtin_attributes(ctx)
        if option(ctx, "anonymised_tickets") == "migrate_without_requester":
            anonymous = planner.plan_anonymised_contact(ctx)
            setup = Plan(steps=setup.steps + anonymous.steps, dispositions=setup.dispositions)
        return setup
    if event.object in TICKET_THREAD:
        return _plan_child(res, event, conn)
    record = record_from_payload(event.object, event.record, content_hash=event.content_hash)
    deps = planner.dependencies(record, the_map)
    ctx = build_context(res, the_map, deps, conn=conn, read=run.settled_ahead)
    _check_dependencies(res, event.object, deps, ctx, conn)
    obj = event.object
    if obj == "ticket":
        return _plan_ticket(res, _typed(Ticket, record), ctx, run)
    if obj == "custom_field" and planner.is_tickets(the_map):
        return planner.plan_ticket_field(_typed(CustomFieldDefinition, record), ctx)
    if obj == "kb_article":
        article = _typed(KbArticle, record)
        files = []
        for rec in res.ledger.attachments_of("kb_article", str(article.id), conn=conn):
            ev = rec.event
            assert isinstance(ev, SourceCaptured)
            attachment = record_from_payload("attachment", ev.record, content_hash=ev.content_hash)
            files.append(_typed(Attachment, attachment))
        return planner.plan_kb_article(article, ctx, files)
    if obj == "contact":
        before = run.newest(RecordMigrated, RecordQuarantined, RecordSkipped)
        changed = isinstance(before, RecordMigrated) and before.content_hash != event.content_hash
        return planner.plan_contact(_typed(Customer, record), ctx, changed=changed)
    if obj == "custom_field":
        return planner.plan_custom_field(_typed(CustomFieldDefinition, record), ctx)
    if obj == "category":
        return planner.plan_category(_typed(Category, record), ctx)
    if obj == "staff":
        return planner.plan_staff(_typed(Staff, record), ctx)
    if obj == "kb_category":
        return planner.plan_kb_category(_typed(KbCategory, record), ctx)
    if obj == "canned_response":
        return planner.plan_canned_response(_typed(CannedResponse, record), ctx)
    raise KeyError(obj)


def _typed(cls: type[R], record: Record) -> R:
    """``record`` as ``cls``: the class :func:`record_from_payload` gives its object name."""
    if not isinstance(record, cls):
        raise TypeError(f"{record.OBJECT} {record.source_id} is not a {cls.__name__}")
    return record


def _plan_child(res: Resources, event: SourceCaptured, conn: Connection | None) -> Plan:
    """A reply, note, attachment or history left over after its ticket's unit: quarantined."""
    ticket_id = event.record.get("ticket_id")
    if ticket_id is not None and res.ledger.latest_captures(
        [("ticket", str(ticket_id))], conn=conn
    ):
        reason = f"its ticket {ticket_id} was written without it; re-run migrate to retry"
    elif event.object == "history":
        reason = f"its ticket {ticket_id} no longer exists in Hesk"
    else:
        orphan = record_from_payload(event.object, event.record)
        assert isinstance(orphan, Reply | Note | Attachment)  # history returned above
        return planner.plan_orphan(orphan)
    return Plan(
        dispositions=(
            Disposition(event.object, event.source_id, event.content_hash, "quarantined", reason),
        )
    )


def _check_dependencies(
    res: Resources, obj: str, deps: list[str], ctx: SettledContext, conn: Connection | None
) -> None:
    """Raise DependencyPending while a captured dependency was not settled when read."""
    unsettled = [d for d in deps if d not in ctx.settled]
    if not unsettled:
        return
    captured = res.ledger.latest_captures(
        [dep_pair(d) for d in unsettled],
        conn=conn,
    )
    if captured:
        waiting = ", ".join(f"{o}:{s}" for o, s in list(captured)[:3])
        own_kind = all(o == obj for o, _s in captured)
        raise DependencyPending(f"waiting for {waiting}", own_kind=own_kind)


def _plan_ticket(res: Resources, ticket: Ticket, ctx: UnitContext, run: UnitRun) -> Plan:
    children: dict[str, list[Record]] = {"reply": [], "note": [], "attachment": []}
    thread = run.children
    if thread is None:
        thread = res.ledger.ticket_children(ticket.source_id, conn=run.conn)
    for rec in thread:
        ev = rec.event
        assert isinstance(ev, SourceCaptured)
        if ev.object in children:
            children[ev.object].append(
                record_from_payload(ev.object, ev.record, content_hash=ev.content_hash)
            )
    replies = [_typed(Reply, r) for r in children["reply"]]
    notes = [_typed(Note, r) for r in children["note"]]
    files = [_typed(Attachment, r) for r in children["attachment"]]
    if planner.is_tickets(ctx.map):
        return planner.plan_ticket_as_ticket(
            ticket,
            replies,
            notes,
            files,
            ctx,
            last_state=ticket_state_written(run.recorded()),
            written=ticket_content_written(run.recorded()),
        )
    return planner.plan_ticket(
        ticket,
        replies,
        notes,
        files,
        None,  # the history comes with the ticket record
        ctx,
        was_closed=conversation_closed(run.recorded()),
    )


def _field_hashes(
    res: Resources, the_map: dict[str, Any], conn: Connection | None
) -> dict[str, str]:
    """Custom field id -> content hash of its newest capture (the set-up settles them)."""
    pairs = [("custom_field", str(f["hesk_id"])) for f in the_map.get("custom_fields") or ()]
    found = res.ledger.latest_captures(pairs, conn=conn) if pairs else {}
    out = {}
    for (_obj, sid), rec in found.items():
        if isinstance(rec.event, SourceCaptured):
            out[sid] = rec.event.content_hash
    return out


def _record_dispositions(run: UnitRun, dispositions: tuple[Disposition, ...]) -> None:
    for d in dispositions:
        common = {"object": d.object, "source_id": d.source_id, "content_hash": d.content_hash}
        if d.state == "skipped":
            run.record(RecordSkipped(**common, reason=d.reason))
        elif d.state == "quarantined":
            run.record(RecordQuarantined(**common, reason=d.reason))
        else:
            run.record(RecordMigrated(**common, intercom_id=d.intercom_id, intercom_type="linked"))


def _execute(run: UnitRun, plan: Plan) -> str:
    unit_id = ""
    for index, step in enumerate(plan.steps):
        if UNIT_ID in step.path and not unit_id:
            _quarantine_rest(run, plan.steps[index:], "its conversation was not created")
            return "quarantined"
        run.unit_id = unit_id
        path = step.path.replace(UNIT_ID, unit_id)
        _intend_ahead(run, plan.steps[index:], unit_id)
        # Only a path names the unit's object: a body is the customer's words, sent as
        # they are even when they hold the placeholder's text.
        body = _with_files(run, step, step.body)
        outcome = run_step(run, step, path, body)
        if not outcome.ok:
            _settle(run, step, outcome)
            if step.creates:  # nothing after a failed create can be written
                _quarantine_rest(run, plan.steps[index + 1 :], outcome.failed)
                return "quarantined"
            continue
        if step.creates and not unit_id:
            unit_id = outcome.intercom_id
            # made by this migration (not found existing): what the unit creates inside it
            # was never attempted (no intent) unless its own intent says so
            run.created_unit = outcome.created and step.find_first
        _settle(run, step, outcome, unit_id)
    return "done"


def _intend_ahead(run: UnitRun, steps: tuple[Step, ...], unit_id: str) -> None:
    """Record ahead the intents of the next steps that allow it (two or more in a row)."""
    batch: list[tuple[Step, str]] = []
    for step in steps[:AHEAD_MAX]:
        if (UNIT_ID in step.path and not unit_id) or not can_intend_ahead(run, step):
            break
        batch.append((step, step.path.replace(UNIT_ID, unit_id)))
    if len(batch) > 1:
        intend_ahead(run, batch)


def _with_files(run: UnitRun, step: Step, body: dict[str, Any]) -> dict[str, Any]:
    """The body with its attachment files read (path-guarded) and base64-encoded."""
    if not step.files:
        return body
    files = []
    for ref in step.files:
        data = _read_file(run, ref)
        if data is not None:
            files.append(
                {
                    "name": ref.real_name,
                    "content_type": ref.content_type,
                    "data": base64.b64encode(data).decode("ascii"),
                }
            )
    return {**body, "attachment_files": files} if files else body


def _read_file(run: UnitRun, ref: FileRef) -> bytes | None:
    folder = run.res.attachments
    reason = ""
    if folder is None:
        reason = "attachments folder not configured (set H2I_HESK_ATTACHMENTS_DIR)"
    else:
        try:
            return folder.read_bytes(ref.saved_name, ref.size)
        except (HeskError, OSError) as err:
            reason = getattr(err, "message", None) or f"cannot read file: {type(err).__name__}"
    run.unreadable_files.add(ref.attachment_id)
    run.record(
        RecordQuarantined(
            object="attachment",
            source_id=ref.attachment_id,
            content_hash=ref.content_hash,
            reason=reason,
        )
    )
    return None


def _settle(run: UnitRun, step: Step, outcome: Outcome, unit_id: str = "") -> None:
    quarantined = run.unreadable_files
    for c in step.completes:
        common = {"object": c.object, "source_id": c.source_id, "content_hash": c.content_hash}
        settled: Event
        if not outcome.ok:
            settled = RecordQuarantined(**common, reason=outcome.failed)
        elif c.object == "attachment" and c.source_id in quarantined:
            continue
        else:
            settled = RecordMigrated(
                **common,
                # a create settles with what it created; a part with its conversation
                intercom_id=outcome.intercom_id if step.creates else unit_id,
                intercom_type=step.creates or _part_type(step),
                note=getattr(c, "reason", ""),
            )
        run.record(settled)


def _part_type(step: Step) -> str:
    return "ticket_part" if step.path.startswith("/tickets/") else "conversation_part"


def _quarantine_rest(run: UnitRun, steps: tuple[Step, ...] | list[Step], why: str) -> None:
    for step in steps:
        for c in step.completes:
            run.record(
                RecordQuarantined(
                    object=c.object,
                    source_id=c.source_id,
                    content_hash=c.content_hash,
                    reason=f"not written: {why}",
                )
            )
