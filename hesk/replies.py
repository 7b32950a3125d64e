"""Replies (``hesk_replies``) and notes (``hesk_notes``), streamed by id.

Each batch costs a few indexed look-ups: the parent tickets (existence, snapshot), the
people on them (author role), and each reply's position in ``(dt, id)`` order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hesk.people import TicketPeople, resolve_people
from hesk.reader_base import ReaderBase
from hesk.records import Note, Reply
from hesk.text import html_to_plain
from hesk.tickets import attachment_refs, timestamp


def _marks(ids: list[int]) -> str:
    return ",".join(["%s"] * len(ids))


def _tickets_for(r: ReaderBase, ticket_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not ticket_ids:
        return {}
    cols = ", ".join(f"`{c}`" for c in ("id", *r.layout.snapshot_columns, "ip"))
    rows = r.db.query(
        f"SELECT {cols} FROM {r.db.t('tickets')} WHERE id IN ({_marks(ticket_ids)})",
        ticket_ids,
    )
    return {int(row["id"]): row for row in rows}


def _positions(r: ReaderBase, reply_ids: list[int]) -> dict[int, int]:
    if not reply_ids:
        return {}
    t = r.db.t("replies")
    rows = r.db.query(
        f"SELECT a.id, COUNT(b.id) AS pos FROM {t} a LEFT JOIN {t} b ON b.replyto = a.replyto "
        f"AND (b.dt < a.dt OR (b.dt = a.dt AND b.id < a.id)) "
        f"WHERE a.id IN ({_marks(reply_ids)}) GROUP BY a.id",
        reply_ids,
    )
    return {int(row["id"]): int(row["pos"]) for row in rows}


def _since(changed_since: datetime | None) -> tuple[str, tuple[Any, ...]]:
    if changed_since is None:
        return "", ()
    return "`dt` >= %s", (changed_since.astimezone(UTC).replace(tzinfo=None),)


def iter_replies(
    r: ReaderBase, since_id: int | None = None, changed_since: datetime | None = None
) -> Iterator[Reply]:
    """Every reply (id > since_id; dt >= changed_since), in id order, with its author."""
    where, params = _since(changed_since)
    for rows in r.db.keyset(
        "replies", "*", after=since_id, where=where, params=params, batch=r.batch_size
    ):
        tickets = _tickets_for(r, sorted({int(x["replyto"]) for x in rows}))
        people = resolve_people(r, list(tickets.values()))
        positions = _positions(r, [int(x["id"]) for x in rows])
        for row in rows:
            yield _reply(r, row, tickets, people, positions)


def _reply(
    r: ReaderBase,
    row: dict[str, Any],
    tickets: dict[int, dict[str, Any]],
    people: dict[int, TicketPeople],
    positions: dict[int, int],
) -> Reply:
    rid, tid = int(row["id"]), int(row["replyto"])
    r.note_legacy(row, "reply", rid)
    orphan = tid not in tickets
    if orphan:
        r.add_finding("orphan_reply", "reply", rid, f"ticket {tid} does not exist")
    html = row.get("message_html")
    if html is None:
        html = row.get("message") or ""
    staff_id = int(row["staffid"] or 0) or None
    staff_missing = False
    # Hesk 3.5+ names a customer reply's author in customer_id; before, in replies.name.
    customer_id = int(row["customer_id"]) if r.has_customers and row["customer_id"] else None
    contact_id = role = None
    if staff_id is not None:
        author_type = "staff"
        staff = r.staff.get(staff_id)
        staff_missing = staff is None
        name = staff.name if staff else "[Staff Deleted]"
        if staff_missing:
            r.add_finding("deleted_staff", "reply", rid, f"staff {staff_id} does not exist")
    else:
        author_type = "customer"
        tp = people.get(tid)
        person = None
        if tp is not None:
            if customer_id is not None:
                person = tp.by_customer.get(customer_id)
            if person is None and (customer_id is None or not r.has_customers):
                person = tp.requester
        if person is None and customer_id is not None and r.has_customers:
            person = _customer_person(r, customer_id, tid)
        if person is not None:
            contact_id, role, name = person.contact_id, person.role, person.name
            name = name or person.email or "[Customer]"
        else:
            name = "[Customer]" if r.has_customers else (row["name"] or "[Customer]")
            if not orphan and not (tp is not None and tp.anonymised):
                r.add_finding(
                    "unknown_reply_author",
                    "reply",
                    rid,
                    f"customer {customer_id} is not on ticket {tid}",
                )
    if "<script" in html.lower() or "onerror=" in html.lower():
        r.add_finding("unsafe_html", "reply", rid, "message contains script or event handler")
    rating = row.get("rating")
    return Reply(
        source_id=str(rid),
        id=rid,
        ticket_id=tid,
        position=positions.get(rid, 0),
        created_at=timestamp(r, row, "dt", "reply"),
        message_html=html,
        message_text=html_to_plain(html),
        author_type=author_type,
        author_name=name,
        staff_id=staff_id,
        staff_missing=staff_missing,
        customer_id=customer_id,
        author_contact_id=contact_id,
        author_role=role,
        attachments=attachment_refs(r, row.get("attachments"), "reply", rid),
        rating=int(rating) if rating else None,
        read=str(row.get("read")) == "1",
        orphan=orphan,
    )


def _customer_person(r: ReaderBase, customer_id: int, tid: int) -> Any:
    """A customer who wrote on a ticket without being linked to it (merged, unlinked)."""
    from hesk.people import Person, contact_key
    from hesk.text import decode_entities

    rows = r.db.query(
        f"SELECT id, name, email FROM {r.db.t('customers')} WHERE id = %s", (customer_id,)
    )
    if not rows:
        return None
    key = contact_key(rows[0]["email"])
    if key is None:
        return None
    return Person(
        key,
        decode_entities(rows[0]["name"] or ""),
        rows[0]["email"].strip(),
        customer_id,
        "follower",
    )


def iter_notes(
    r: ReaderBase, since_id: int | None = None, changed_since: datetime | None = None
) -> Iterator[Note]:
    """Every internal note (id > since_id; dt >= changed_since), in id order."""
    where, params = _since(changed_since)
    for rows in r.db.keyset(
        "notes", "*", after=since_id, where=where, params=params, batch=r.batch_size
    ):
        tickets = _tickets_for(r, sorted({int(x["ticket"]) for x in rows}))
        for row in rows:
            nid, tid = int(row["id"]), int(row["ticket"])
            r.note_legacy(row, "note", nid)
            orphan = tid not in tickets
            if orphan:
                r.add_finding("orphan_note", "note", nid, f"ticket {tid} does not exist")
            who = int(row.get("who") or 0) or None
            staff = r.staff.get(who) if who else None
            if who and staff is None:
                r.add_finding("deleted_staff", "note", nid, f"staff {who} does not exist")
            html = row.get("message") or ""
            yield Note(
                source_id=str(nid),
                id=nid,
                ticket_id=tid,
                staff_id=who,
                staff_missing=bool(who) and staff is None,
                author_name=staff.name if staff else "",
                created_at=timestamp(r, row, "dt", "note"),
                message_html=html,
                message_text=html_to_plain(html),
                attachments=attachment_refs(r, row.get("attachments"), "note", nid),
                orphan=orphan,
            )
