"""Tickets (``hesk_tickets``) streamed by id, each resolved into a :class:`Ticket`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hesk.attachments import malformed_attachment_items, parse_attachment_refs
from hesk.db import format_duration, is_zero_date, to_utc
from hesk.history import parse_history
from hesk.people import TicketPeople, is_valid_email, resolve_people, snapshot
from hesk.records import AttachmentRef, CustomFieldDefinition, CustomFieldValue, Ticket
from hesk.text import decode_entities, html_to_plain, split_br

if TYPE_CHECKING:
    from hesk.reader_base import ReaderBase as HeskReader


def parse_merged(value: str | None) -> tuple[str, ...]:
    """The merged trackids of ``#A#B##C#`` -> ``("A", "B", "C")``."""
    return tuple(p.strip() for p in (value or "").split("#") if p.strip())


def attachment_refs(
    r: HeskReader, value: str | None, obj: str, source_id: int | str
) -> tuple[AttachmentRef, ...]:
    """Parse an ``attachments`` column, recording malformed items as findings."""
    for item in malformed_attachment_items(value):
        r.add_finding("malformed_attachment_ref", obj, source_id, f"item {item[:60]!r}")
    return tuple(AttachmentRef(att_id, name) for att_id, name in parse_attachment_refs(value))


def timestamp(r: HeskReader, row: dict[str, Any], column: str, obj: str) -> datetime | None:
    """A TIMESTAMP column as UTC; a zero date becomes None with a ``zero_date`` finding."""
    value = row.get(column)
    if is_zero_date(value):
        r.add_finding("zero_date", obj, row["id"], f"{column} is 0000-00-00")
        return None
    return to_utc(value)


def custom_values(
    r: HeskReader, row: dict[str, Any], defs: dict[int, CustomFieldDefinition]
) -> tuple[CustomFieldValue, ...]:
    """The ticket's non-empty ``customN`` values, typed by their definitions."""
    out: list[CustomFieldValue] = []
    for n in range(1, 101):
        raw = row.get(f"custom{n}")
        if not raw:
            continue
        d = defs.get(n)
        ftype = d.field_type if d else None
        date = None
        if ftype == "checkbox":
            values = split_br(raw)
            text = "\n".join(values)
        elif ftype == "date":
            text = raw.strip()
            values = (text,)
            if text.lstrip("-").isdigit():
                date = datetime.fromtimestamp(int(text), tz=UTC)
            else:
                r.add_finding(
                    "bad_custom_date",
                    "ticket",
                    row["id"],
                    f"custom{n} date value {text[:30]!r} is not Unix seconds",
                )
        else:
            text = html_to_plain(raw)
            values = (text,)
        out.append(
            CustomFieldValue(
                n, f"custom{n}", d.name if d else f"custom{n}", ftype, text, values, date
            )
        )
    return tuple(out)


def ticket_from_row(r: HeskReader, row: dict[str, Any], people: TicketPeople) -> Ticket:
    """Build a :class:`Ticket` from a ticket row and its resolved people."""
    tid = int(row["id"])
    r.note_legacy(row, "ticket", tid)
    html = row.get("message_html")
    if html is None:
        html = row.get("message") or ""
    owner = int(row.get("owner") or 0) or None
    owner_missing = owner is not None and owner not in r.staff
    if owner_missing:
        r.add_finding("deleted_staff", "ticket", tid, f"owner {owner} is not a staff member")
    category_id = int(row.get("category") or 0)
    category_name = r.categories.get(category_id)
    if category_name is None:
        r.add_finding("deleted_category", "ticket", tid, f"category {category_id} does not exist")
    if people.anonymised:
        r.add_finding("anonymised_ticket", "ticket", tid, "anonymised (GDPR): no requester")
    req = people.requester
    if req is not None and req.email is None:
        r.add_finding("missing_email", "ticket", tid, f"requester {req.name!r} has no email")
    elif req is not None and not is_valid_email(req.email):
        r.add_finding("invalid_email", "ticket", tid, f"requester email {req.email!r}")
    if len(html) > r.large_message_bytes:
        r.add_finding("large_message", "ticket", tid, f"message is {len(html)} characters")
    if "<script" in html.lower() or "onerror=" in html.lower():
        r.add_finding("unsafe_html", "ticket", tid, "message contains script or event handler")
    snap_name, snap_email = snapshot(row, r.layout.snapshot_columns)
    status = int(row.get("status") or 0)
    priority = int(row.get("priority") or 0)
    history_raw = row.get("history") or ""
    history = parse_history(
        history_raw,
        parent_object="ticket",
        parent_id=tid,
        timezone=r.timezone,
        date_format=r.date_format,
    )
    for entry in history:
        if entry.at is None:
            r.add_finding("unparsed_history", "history", entry.source_id, entry.raw[:120])
    return Ticket(
        source_id=str(tid),
        id=tid,
        trackid=row.get("trackid") or "",
        subject=decode_entities(row.get("subject") or ""),
        message_html=html,
        message_text=html_to_plain(html),
        requester_contact_id=req.contact_id if req else None,
        requester_customer_id=req.customer_id if req else None,
        requester_name=req.name if req else "",
        requester_email=req.email if req else None,
        follower_contact_ids=tuple(dict.fromkeys(p.contact_id for p in people.followers)),
        snapshot_name=snap_name,
        snapshot_email=snap_email,
        status=status,
        status_name=r.statuses.get(status, f"Status {status}"),
        priority=priority,
        priority_name=r.priorities.get(priority, f"Priority {priority}"),
        category_id=category_id,
        category_name=category_name,
        owner_id=owner,
        owner_missing=owner_missing,
        opened_by=_int_or_none(row.get("openedby")),
        closed_by=_int_or_none(row.get("closedby")),
        assigned_by=_int_or_none(row.get("assignedby")),
        created_at=timestamp(r, row, "dt", "ticket"),
        updated_at=timestamp(r, row, "lastchange", "ticket"),
        first_reply_at=timestamp(r, row, "firstreply", "ticket"),
        closed_at=timestamp(r, row, "closedat", "ticket"),
        due_at=timestamp(r, row, "due_date", "ticket"),
        ip=row.get("ip") or "",
        language=row.get("language"),
        time_worked=format_duration(row.get("time_worked")),
        tagged=str(row.get("archive")) == "1",
        locked=str(row.get("locked")) == "1",
        merged_trackids=parse_merged(row.get("merged")),
        article_ids=tuple(
            int(a) for a in (row.get("articles") or "").split(",") if a.strip().isdigit()
        ),
        custom_fields=custom_values(r, row, r.custom_fields),
        attachments=attachment_refs(r, row.get("attachments"), "ticket", tid),
        history_raw=history_raw,
        history=history,
        reply_count=int(row.get("replies") or 0),
        staff_reply_count=int(row.get("staffreplies") or 0),
        anonymised=people.anonymised,
    )


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def iter_ticket_batches(
    r: HeskReader, since_id: int | None = None, changed_since: datetime | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Raw ticket rows in id order, in batches (``changed_since`` filters on lastchange)."""
    where = ""
    params: tuple[datetime, ...] = ()
    if changed_since is not None:
        where = "`lastchange` >= %s"
        params = (changed_since.astimezone(UTC).replace(tzinfo=None),)
    yield from r.db.keyset(
        "tickets", "*", after=since_id, where=where, params=params, batch=r.batch_size
    )


def iter_tickets(
    r: HeskReader, since_id: int | None = None, changed_since: datetime | None = None
) -> Iterator[Ticket]:
    """Every ticket (id > since_id, lastchange >= changed_since), by id."""
    for rows in iter_ticket_batches(r, since_id, changed_since):
        people = resolve_people(r, rows)
        for row in rows:
            yield ticket_from_row(r, row, people[int(row["id"])])
