"""A ticket and its whole thread -> one conversation unit (docs/mapping.md, "What maps to what").

Steps, in order: ``create`` (the first message, plain text, from the requester, original
time) -> the first message's files as contact parts -> every reply and note by
``(created_at, id)`` (oldest beyond 480 folded into one transcript note when the thread
is too long) -> ``part:history`` -> ``update`` (title, attributes) -> ``assign`` or
``tag`` -> ``close`` (or ``open`` when a closed conversation's ticket was reopened). The
last step completes the ticket.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from core.hashing import content_hash
from core.intercom_limits import PARTS_READ_BACK as MAX_PARTS
from hesk.records import Attachment, HistoryEntry, Note, Record, Reply, Ticket
from mapping.attributes import builtin_items, custom_attribute_values
from mapping.common import (
    NotedCompletion,
    admin_for,
    completion,
    dep_key,
    disposition,
    entry,
    identity,
    option,
    unix,
)
from mapping.defaults import (
    BUILTIN_PRIORITIES,
    CLOSED_STATUS,
    IP_ATTR,
    MERGED_ATTR,
    PRIORITY_ATTR,
    TICKET_ID_ATTR,
    TRACKID_ATTR,
)
from mapping.files import file_ref, json_size, parts, sort_files
from mapping.history import history_html
from mapping.people import ANONYMISED_CONTACT
from mapping.steps import UNIT_ID, Completion, Disposition, LookupKind, Plan, Step, UnitContext
from mapping.text import escape, plain_to_html, sanitize_html, to_plain

#: Message parts kept when a longer thread is folded.
KEEP_PARTS = 480

_FOLDED = "folded into the transcript note of the oldest parts (thread over 500 parts)"


@dataclass(frozen=True)
class HistoryRecord(Record):
    """The ``history`` object of the report: one per ticket (``source_id`` = ticket id)."""

    OBJECT = "history"

    raw: str = ""

    @property
    def content_hash(self) -> str:
        """Hash of the raw history column."""
        return content_hash(self.raw)


@dataclass
class _Item:
    """One reply or note of the thread, with its sort time and files."""

    record: Reply | Note
    at: int | None
    files: list[Attachment] = field(default_factory=list)

    @property
    def kind(self) -> str:
        return "note" if isinstance(self.record, Note) else "reply"

    def sort_key(self, default: int) -> tuple[int, int, int]:
        return (self.at if self.at is not None else default, self.record.id, self.kind == "note")


@dataclass
class _Thread:
    """What the ticket planner accumulates."""

    ticket: Ticket
    ctx: UnitContext
    contact_id: str
    created_at: int | None
    max_request: int
    steps: list[Step] = field(default_factory=list)
    dispositions: list[Disposition] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: ``conversations`` or ``tickets`` (the map's target): where the parts are written.
    target: str = "conversations"

    @property
    def admin(self) -> str:
        return self.ctx.fallback_admin_id

    @property
    def reply_path(self) -> str:
        return f"/{self.target}/{UNIT_ID}/reply"

    @property
    def part_lookup(self) -> LookupKind:
        return LookupKind.TICKET_PART if self.target == "tickets" else LookupKind.PART

    @property
    def tickets(self) -> bool:
        return self.target == "tickets"


# --------------------------------------------------------------------------- helpers


def _first_time(ticket: Ticket, items: Sequence[_Item]) -> int | None:
    for candidate in (ticket.created_at, ticket.updated_at):
        if candidate is not None and unix(candidate):
            return unix(candidate)
    times = [i.at for i in items if i.at]
    return min(times) if times else None


def conversation_time(
    ticket: Ticket, replies: Sequence[Reply] = (), notes: Sequence[Note] = ()
) -> int | None:
    """The ``created_at`` a ticket's conversation gets (Unix s): the ticket's own time, else
    its last change (a zero date in Hesk), else its earliest message's."""
    messages: tuple[Reply | Note, ...] = (*replies, *notes)
    items = [_Item(r, unix(r.created_at)) for r in messages]
    return _first_time(ticket, items)


def last_activity(ticket: Ticket, replies: Sequence[Reply], notes: Sequence[Note]) -> int | None:
    """The ticket's last activity (Unix s): the latest of its own and its messages' times."""
    times: list[datetime] = [
        t for t in (ticket.created_at, ticket.updated_at, ticket.closed_at) if t is not None
    ]
    messages: tuple[Reply | Note, ...] = (*replies, *notes)
    times += [r.created_at for r in messages if r.created_at is not None]
    return unix(max(times)) if times else None


def history_record(ticket: Ticket) -> HistoryRecord:
    """The ticket's ``history`` record (for the report: one per ticket)."""
    return HistoryRecord(source_id=ticket.source_id, raw=ticket.history_raw)


def _settle_all(
    ticket: Ticket,
    records: Sequence[Record],
    state: str,
    reason: str,
    child_reason: str | None = None,
) -> Plan:
    child = child_reason or f"ticket {ticket.id} {state}: {reason}"
    return Plan(
        dispositions=(
            disposition(ticket, state, reason),
            *(disposition(r, state, child) for r in records),
        )
    )


def _with_reason(done: Completion, note: str) -> Completion:
    return completion_from(done, note) if note else done


def completion_from(done: Completion, note: str) -> Completion:
    """A copy of a completion with a report line."""
    old = getattr(done, "reason", "")
    reason = f"{old}; {note}" if old else note
    return NotedCompletion(done.object, done.source_id, done.content_hash, reason)


def _file_body(names: Sequence[Attachment], n: int, total: int) -> str:
    label = "Attachments" if total == 1 else f"Attachments ({n}/{total})"
    return f"{label}: " + ", ".join(a.real_name for a in names)


# --------------------------------------------------------------------------- parts


def _admin_body(prefix: str, html: str) -> str:
    body = sanitize_html(html) or "<p>(empty message)</p>"
    return f"<p><em>{escape(prefix)}</em></p>{body}" if prefix else body


def _message_steps(th: _Thread, item: _Item, at: int | None) -> list[Step]:
    """The part(s) of one reply or note: the body with the files that fit beside it, then
    files-only parts (at most 10 files and ``max_request_bytes`` each)."""
    rec = item.record
    op = f"part:{item.kind}:{rec.id}"
    note = ""
    if isinstance(rec, Note) or rec.author_type != "customer":
        admin, prefix = admin_for(rec.staff_id, rec.author_name, th.ctx)
        note = "authored by the fallback admin (staff has no Intercom admin)" if prefix else ""
        base: dict[str, Any] = {
            "message_type": "note" if item.kind == "note" else "comment",
            "type": "admin",
            "admin_id": admin,
            "body": _admin_body(prefix, rec.message_html or plain_to_html(rec.message_text)),
            "skip_notifications": True,
        }
        author = {"author_type": "admin", "author_id": admin}
    else:
        contact = th.contact_id
        prefix = ""
        author_key = rec.author_contact_id
        if author_key and author_key != th.ticket.requester_contact_id:
            found = th.ctx.ids.get(dep_key("contact", author_key))
            if found:
                contact = str(found)
            else:
                prefix = f"Originally by {rec.author_name or author_key}:\n"
                note = "follower contact not migrated: posted as the requester"
        text = to_plain(rec.message_html) or rec.message_text.strip() or "(empty message)"
        base = {
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": contact,
            "body": prefix + text,
        }
        if th.tickets:
            base["skip_notifications"] = True
        author = {"author_type": "user", "author_id": contact}
    if at is not None:
        base["created_at"] = at
    if th.tickets and base["type"] == "user" and item.files:
        # A contact's ticket reply takes no files: they follow in admin notes of their own.
        body_step = _message_steps(th, replace(item, files=[]), at)[0]
        who = rec.author_name or "the customer"
        return [
            body_step,
            *_file_note_steps(
                th, op, item.files, at, f"Attachments sent by {who} with the reply above"
            ),
        ]
    # the body's size only matters to files that go beside it
    groups = parts(item.files, th.max_request, json_size(base) if item.files else 0)
    steps: list[Step] = []
    for n, group in enumerate(groups, start=1):
        body = dict(base)
        step_op = op
        if n > 1:
            step_op = f"{op}:files:{n}"
            if body["type"] == "admin":
                body["body"] = escape(_file_body(group, n, len(groups)))
            else:
                body["body"] = _file_body(group, n, len(groups))
        done = [completion(a) for a in group]
        if n == 1:
            done.insert(0, _with_reason(completion(rec), note))
        steps.append(
            Step(
                op=step_op,
                method="POST",
                path=th.reply_path,
                body=body,
                identity_hash=identity(
                    {"part": step_op, "created_at": at, "files": [a.source_id for a in group]}
                ),
                lookup={
                    **author,
                    "created_at": at,
                    "body": body["body"],
                    "message_type": body["message_type"],
                },
                lookup_kind=th.part_lookup,
                files=tuple(file_ref(a) for a in group),
                completes=tuple(done),
            )
        )
    return steps


def _contact_file_steps(th: _Thread, op: str, files: Sequence[Attachment]) -> list[Step]:
    """The first message's files: contact parts at the ticket's time (as many as they fill);
    on a ticket, admin notes (a contact's ticket reply takes no files)."""
    if not files:
        return []
    if th.tickets:
        return _file_note_steps(
            th, op, files, th.created_at, "Attachments of the customer's first message", first=1
        )
    groups = parts(files, th.max_request)
    steps: list[Step] = []
    for n, group in enumerate(groups, start=1):
        body: dict[str, Any] = {
            "message_type": "comment",
            "type": "user",
            "intercom_user_id": th.contact_id,
            "body": _file_body(group, n, len(groups)),
        }
        if th.created_at is not None:
            body["created_at"] = th.created_at
        steps.append(
            Step(
                op=f"{op}:{n}",
                method="POST",
                path=f"/conversations/{UNIT_ID}/reply",
                body=body,
                identity_hash=identity(
                    {
                        "part": f"{op}:{n}",
                        "created_at": th.created_at,
                        "files": [a.source_id for a in group],
                    }
                ),
                lookup={
                    "author_type": "user",
                    "author_id": th.contact_id,
                    "created_at": th.created_at,
                    "body": body["body"],
                    "message_type": "comment",
                },
                lookup_kind=LookupKind.PART,
                files=tuple(file_ref(a) for a in group),
                completes=tuple(completion(a) for a in group),
            )
        )
    return steps


def _file_note_steps(
    th: _Thread,
    op: str,
    files: Sequence[Attachment],
    at: int | None,
    label: str,
    first: int = 2,
) -> list[Step]:
    """Files a contact sent, as admin notes named as theirs (ops ``{op}:files:N``)."""
    groups = parts(files, th.max_request)
    steps: list[Step] = []
    for n, group in enumerate(groups, start=first):
        shown = n - first + 1
        count = f" ({shown}/{len(groups)})" if len(groups) > 1 else ""
        html = escape(f"{label}{count}: " + ", ".join(a.real_name for a in group))
        step_op = f"{op}:{n}" if op.endswith(":files") else f"{op}:files:{n}"
        step = _admin_note_step(
            th,
            step_op,
            html,
            at,
            {"part": step_op, "created_at": at, "files": [a.source_id for a in group]},
            [completion(a) for a in group],
        )
        steps.append(replace(step, files=tuple(file_ref(a) for a in group)))
    return steps


def _admin_note_step(
    th: _Thread, op: str, html: str, at: int | None, ident: Any, done: Sequence[Completion]
) -> Step:
    body: dict[str, Any] = {
        "message_type": "note",
        "type": "admin",
        "admin_id": th.admin,
        "body": html,
        "skip_notifications": True,
    }
    if at is not None:
        body["created_at"] = at
    return Step(
        op=op,
        method="POST",
        path=th.reply_path,
        body=body,
        identity_hash=identity(ident),
        lookup={
            "author_type": "admin",
            "author_id": th.admin,
            "created_at": at,
            "body": html,
            "message_type": "note",
        },
        lookup_kind=th.part_lookup,
        completes=tuple(done),
    )


def _transcript_entry(item: _Item) -> str:
    rec = item.record
    when = f"{rec.created_at:%Y-%m-%d %H:%M} UTC" if rec.created_at else "date unknown"
    who = rec.author_name or ("staff" if item.kind == "note" else "customer")
    label = "internal note" if item.kind == "note" else "reply"
    body = rec.message_html or plain_to_html(rec.message_text)
    return f"<hr><p><strong>{escape(when)} — {escape(who)} ({label})</strong></p>" + (
        sanitize_html(body) or "<p>(empty message)</p>"
    )


def _fold_steps(th: _Thread, folded: Sequence[_Item], default_at: int | None) -> list[Step]:
    """One transcript note for the oldest messages (their files in file parts after it)."""
    html = (
        f"<p><strong>{len(folded)} earlier messages, folded into one note</strong>: Intercom "
        "reads back only the newest 500 parts of a conversation.</p>"
        + "".join(_transcript_entry(i) for i in folded)
    )
    at = next((i.at for i in reversed(folded) if i.at is not None), default_at)
    done = [completion_from(completion(i.record), _FOLDED) for i in folded]
    ident = {"part": "transcript", "items": [f"{i.kind}:{i.record.id}" for i in folded]}
    steps = [_admin_note_step(th, "part:transcript", html, at, ident, done)]
    files = [a for i in folded for a in i.files]
    groups = parts(files, th.max_request) if files else []
    for n, group in enumerate(groups, start=1):
        step = _admin_note_step(
            th,
            f"part:transcript:files:{n}",
            escape(_file_body(group, n, len(groups))),
            at,
            {"part": f"transcript:files:{n}", "files": [a.source_id for a in group]},
            [completion(a) for a in group],
        )
        steps.append(replace(step, files=tuple(file_ref(a) for a in group)))
    return steps


# --------------------------------------------------------------------------- update etc.


def _priority_label(ticket: Ticket, ctx: UnitContext) -> str:
    item = entry(ctx.map, "priorities", ticket.priority)
    if item is not None and item.get("value"):
        return str(item["value"])
    return BUILTIN_PRIORITIES.get(ticket.priority, ticket.priority_name)


def _update_step(th: _Thread) -> Step:
    ticket, ctx = th.ticket, th.ctx
    attrs = {str(i["name"]): i for i in builtin_items(ctx)}
    custom: dict[str, Any] = {}
    id_type = attrs.get(TICKET_ID_ATTR, {}).get("data_type", "integer")
    custom[TICKET_ID_ATTR] = ticket.id if id_type == "integer" else str(ticket.id)
    if ticket.trackid:
        custom[TRACKID_ATTR] = ticket.trackid
    label = _priority_label(ticket, ctx)
    if label in (attrs.get(PRIORITY_ATTR, {}).get("options") or []):
        custom[PRIORITY_ATTR] = label
    else:
        th.notes.append(f"priority {label!r} is not an option of {PRIORITY_ATTR}: not set")
    if ticket.merged_trackids:
        custom[MERGED_ATTR] = ", ".join(ticket.merged_trackids)
    if option(ctx, "migrate_ip") and ticket.ip and ticket.ip != "0.0.0.0":
        custom[IP_ATTR] = ticket.ip
    values, problems = custom_attribute_values(ticket.custom_fields, ctx)
    custom.update(values)
    th.notes.extend(problems)
    body: dict[str, Any] = {"custom_attributes": custom}
    if ticket.subject.strip():
        body["title"] = ticket.subject.strip()
    return Step(
        op="update",
        method="PUT",
        path=f"/conversations/{UNIT_ID}",
        body=body,
        identity_hash=identity(body),
        lookup={},
        lookup_kind=LookupKind.IDEMPOTENT,
    )


def _category_step(th: _Thread) -> Step | None:
    ticket, ctx = th.ticket, th.ctx
    if ticket.category_name is None:
        th.notes.append(f"category {ticket.category_id} was deleted in Hesk: not assigned")
        return None
    item = entry(ctx.map, "categories", ticket.category_id)
    cat = str(ticket.category_id)
    linked = ctx.ids.get(dep_key("category", cat))
    if item is not None and item.get("team"):
        team = ctx.teams.get(cat) or linked
        if not team:
            th.notes.append(f"team {item['team']!r} not found: not assigned")
            return None
        body = {
            "message_type": "assignment",
            "type": "team",
            "admin_id": th.admin,
            "assignee_id": str(team),
        }
        return Step(
            op="assign",
            method="POST",
            path=f"/conversations/{UNIT_ID}/parts",
            body=body,
            identity_hash=identity(body),
            lookup={},
            lookup_kind=LookupKind.CONVERSATION_STATE,
        )
    tag = ctx.tags.get(cat) or linked
    if not tag:
        th.notes.append(f"category {ticket.category_id} has no team or tag: not assigned")
        return None
    body = {"id": str(tag), "admin_id": th.admin}
    return Step(
        op="tag",
        method="POST",
        path=f"/conversations/{UNIT_ID}/tags",
        body=body,
        identity_hash=identity(body),
        lookup={},
        lookup_kind=LookupKind.CONVERSATION_TAG,
    )


def _closed(ticket: Ticket, ctx: UnitContext) -> bool:
    item = entry(ctx.map, "statuses", ticket.status)
    if item is not None and item.get("state") in ("open", "closed"):
        return bool(item["state"] == "closed")
    return ticket.status == CLOSED_STATUS


def _state_step(th: _Thread, was_closed: bool) -> Step | None:
    """Close a closed ticket, or reopen one closed before; None when nothing changes.

    The identity carries the state's version (``closed_at`` for a close, ``updated_at``
    for a reopen), so a ticket closed again after a reopen is closed again in Intercom.
    """
    ticket = th.ticket
    if _closed(ticket, th.ctx):
        body = {"message_type": "close", "type": "admin", "admin_id": th.admin}
        version = {"state": "closed", "closed_at": unix(ticket.closed_at)}
    elif was_closed:
        body = {"message_type": "open", "type": "admin", "admin_id": th.admin}
        version = {"state": "open", "updated_at": unix(ticket.updated_at)}
    else:
        return None
    return Step(
        op=body["message_type"],
        method="POST",
        path=f"/conversations/{UNIT_ID}/parts",
        body=body,
        identity_hash=identity({**body, **version}),
        lookup={},
        lookup_kind=LookupKind.CONVERSATION_STATE,
    )


# --------------------------------------------------------------------------- planner


@dataclass
class ThreadStart:
    """A ticket ready to plan: its thread, its ordered messages and where files go."""

    th: _Thread
    items: list[_Item]
    ticket_files: list[Attachment]
    hist: HistoryRecord


def start_thread(
    ticket: Ticket,
    replies: Sequence[Reply],
    notes: Sequence[Note],
    attachments: Sequence[Attachment],
    ctx: UnitContext,
    target: str = "conversations",
) -> ThreadStart | Plan:
    """The checks every target shares (requester, contact, fallback admin) and the ordered
    thread; a Plan that settles everything when the ticket cannot move."""
    hist = history_record(ticket)
    children: list[Record] = [*replies, *notes, *attachments, hist]
    if ticket.broken:
        return _settle_all(ticket, children, "quarantined", ticket.broken)

    requester = ticket.requester_contact_id
    if ticket.anonymised:
        if option(ctx, "anonymised_tickets") != "migrate_without_requester":
            return _settle_all(
                ticket,
                children,
                "skipped",
                "anonymised (GDPR) ticket: skipped per map (anonymised_tickets)",
            )
        requester = ANONYMISED_CONTACT
    if not requester:
        return _settle_all(ticket, children, "quarantined", "ticket has no requester contact")
    contact = ctx.ids.get(dep_key("contact", requester))
    if not contact:
        return _settle_all(
            ticket,
            children,
            "quarantined",
            f"requester contact quarantined: contact {requester} has no Intercom id "
            "(see the contact's reason)",
        )
    if not ctx.fallback_admin_id:
        return _settle_all(
            ticket, children, "quarantined", "no fallback admin: set options.fallback_admin_email"
        )

    items = sorted(
        [_Item(r, unix(r.created_at)) for r in replies]
        + [_Item(n, unix(n.created_at)) for n in notes],
        key=lambda i: i.sort_key(0),
    )
    max_request = int(option(ctx, "max_request_bytes"))
    th = _Thread(ticket, ctx, str(contact), _first_time(ticket, items), max_request, target=target)
    items.sort(key=lambda i: i.sort_key(th.created_at or 0))

    parents = {("ticket", ticket.id)} | {(i.kind, i.record.id) for i in items}
    files = sort_files(attachments, parents, int(option(ctx, "max_attachment_bytes")), max_request)
    th.dispositions.extend(files.dispositions)
    for item in items:
        item.files = files.by_parent.get((item.kind, item.record.id), [])
    return ThreadStart(th, items, files.by_parent.get(("ticket", ticket.id), []), hist)


def thread_steps(start: ThreadStart, replies: Sequence[Reply], notes: Sequence[Note]) -> None:
    """Append the first message's files and every reply and note, in order (long threads
    folded per ``long_threads``). An export file's replies are parts like any others."""
    th, items = start.th, start.items
    th.steps += _contact_file_steps(th, "part:ticket:files", start.ticket_files)
    if th.ticket.fidelity == "export":
        th.notes.append(
            "imported from a Hesk export file: no notes, no attachments, replies as plain text"
        )
    ctx = th.ctx
    planned = [_message_steps(th, i, i.at if i.at else th.created_at) for i in items]
    per_item = [len(s) for s in planned]
    fold_at = 0
    if option(ctx, "long_threads") == "fold" and sum(per_item) + len(th.steps) - 1 > MAX_PARTS:
        kept = 0
        fold_at = len(items)
        while fold_at > 0 and kept + per_item[fold_at - 1] <= KEEP_PARTS:
            fold_at -= 1
            kept += per_item[fold_at]
        th.notes.append(f"{fold_at} oldest messages folded into one transcript note")
    elif sum(per_item) > MAX_PARTS:
        th.notes.append(f"thread of {sum(per_item)} parts: Intercom reads back only the newest 500")
    if fold_at:
        th.steps += _fold_steps(th, items[:fold_at], th.created_at)
    for message_steps in planned[fold_at:]:
        th.steps += message_steps


def history_note_step(
    th: _Thread,
    entries: Sequence[HistoryEntry],
    hist: HistoryRecord,
    replies: Sequence[Reply],
    notes: Sequence[Note],
    extra_html: str = "",
) -> Step:
    """The ``part:history`` admin note of the ticket's history timeline."""
    ident: dict[str, Any] = {"part": "history", "history": hist.content_hash}
    if extra_html:
        ident["extra"] = extra_html
    return _admin_note_step(
        th,
        "part:history",
        history_html(entries) + extra_html,
        last_activity(th.ticket, replies, notes),
        ident,
        [completion(hist)],
    )


def finish(th: _Thread) -> Plan:
    """The plan, with the ticket settled by its last step (and its report lines)."""
    last = th.steps[-1]
    done = completion(th.ticket, "; ".join(th.notes))
    th.steps[-1] = replace(last, completes=(*last.completes, done))
    return Plan(steps=tuple(th.steps), dispositions=tuple(th.dispositions))


def plan_ticket(
    ticket: Ticket,
    replies: Sequence[Reply],
    notes: Sequence[Note],
    attachments: Sequence[Attachment],
    history: Sequence[HistoryEntry] | None,
    ctx: UnitContext,
    *,
    was_closed: bool = False,
) -> Plan:
    """The conversation unit of a ticket with all its replies, notes, files and history.

    Every record passed in ends in the plan: completed by a step, or settled by a
    disposition (skipped/quarantined with the reason). ``was_closed``: the conversation's
    last state write was a close (a delta then reopens it if the ticket is open again).
    """
    start = start_thread(ticket, replies, notes, attachments, ctx)
    if isinstance(start, Plan):
        return start
    th, hist = start.th, start.hist

    # 1. the conversation, from the requester, with the first message as plain text
    first = to_plain(ticket.message_html) or ticket.message_text.strip() or "(no message)"
    create_body: dict[str, Any] = {"from": {"type": "user", "id": th.contact_id}, "body": first}
    if th.created_at is not None:
        create_body["created_at"] = th.created_at
    th.steps.append(
        Step(
            op="create",
            method="POST",
            path="/conversations",
            body=create_body,
            # Only what never changes: a zero-date ticket's fallback time (its lastchange)
            # moves with every edit, and a delta must never create the conversation again.
            identity_hash=identity({"ticket": ticket.id, "created_at": unix(ticket.created_at)}),
            lookup={"contact_id": th.contact_id, "created_at": th.created_at, "body": first},
            lookup_kind=LookupKind.CONVERSATION,
            creates="conversation",
            result_id="conversation_id",
        )
    )

    # 2. the first message's files, replies and notes in order
    thread_steps(start, replies, notes)

    # 3. the history timeline
    entries = list(history) if history else list(ticket.history)
    if entries:
        th.steps.append(history_note_step(th, entries, hist, replies, notes))
    else:
        th.dispositions.append(disposition(hist, "skipped", "ticket has no history"))

    # 4. title and attributes, team or tag, closed state
    th.steps.append(_update_step(th))
    category = _category_step(th)
    if category is not None:
        th.steps.append(category)
    state = _state_step(th, was_closed)
    if state is not None:
        th.steps.append(state)

    # the last step settles the ticket itself
    return finish(th)


def plan_orphan(record: Reply | Note | Attachment) -> Plan:
    """A reply, note or attachment whose ticket no longer exists: quarantined."""
    ticket = getattr(record, "ticket_id", None)
    what = "ticket" if ticket is not None else "parent"
    return Plan(
        dispositions=(
            disposition(
                record,
                "quarantined",
                f"its {what} {ticket if ticket is not None else ''} no longer exists in Hesk "
                f"(orphan {record.OBJECT})".replace("  ", " "),
            ),
        )
    )
