"""Hand-built Hesk records and contexts for the mapping tests (no services needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hesk.records import (
    Attachment,
    AttachmentRef,
    Category,
    Customer,
    CustomFieldDefinition,
    CustomFieldValue,
    HistoryEntry,
    KbArticle,
    KbCategory,
    Note,
    Reply,
    Staff,
    Ticket,
)
from mapping.proposal import propose_map
from mapping.steps import UnitContext

T0 = datetime(2023, 3, 1, 9, 0, tzinfo=UTC)
ADMINS = [
    {"id": "101", "email": "owner@example.com", "name": "Owner"},
    {"id": "102", "email": "Alice@Example.com", "name": "Alice Agent"},
]
TEAMS = [{"id": "201", "name": "Billing"}]
EXISTING_ATTRS = [{"id": "301", "name": "Order Number", "data_type": "string"}]
REQUESTER = "jane@example.com"
FOLLOWER = "bob@example.com"


def at(minutes: int) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


def staff(id: int = 1, email: str = "alice@example.com", name: str = "Alice") -> Staff:
    return Staff(str(id), id, f"user{id}", name, email, "", False, True, "", None, (), ())


def category(id: int = 1, name: str = "Billing") -> Category:
    return Category(str(id), id, name, id, False, 3, False)


def field_def(
    id: int = 1,
    name: str = "Order number",
    field_type: str = "text",
    options: tuple[str, ...] = (),
    staff_only: bool = False,
) -> CustomFieldDefinition:
    return CustomFieldDefinition(
        str(id),
        id,
        f"custom{id}",
        name,
        {"English": name},
        field_type,
        2 if staff_only else 1,
        staff_only,
        0,
        0,
        None,
        options,
        "",
        None,
        None,
        False,
        id,
        {},
    )


def customer(
    email: str | None = REQUESTER,
    name: str = "Jane Doe",
    valid: bool = True,
    source_id: str | None = None,
) -> Customer:
    return Customer(
        source_id or (email.casefold() if email else "noemail:7"),
        email,
        name,
        valid,
        (email,) if email else (),
        (),
        "customers",
        None,
        None,
        7,
        T0,
    )


def history(ticket_id: int = 7) -> tuple[HistoryEntry, ...]:
    return (
        HistoryEntry(
            f"{ticket_id}:0",
            "ticket",
            ticket_id,
            0,
            T0,
            "2023-03-01 10:00:00",
            "Ticket created by Jane",
            '<li class="smaller">…</li>',
        ),
        HistoryEntry(
            f"{ticket_id}:1",
            "ticket",
            ticket_id,
            1,
            None,
            "gestern",
            "Status geändert",
            "gestern | Status geändert",
        ),
    )


def ticket(**over: Any) -> Ticket:
    base: dict[str, Any] = dict(
        source_id="7",
        id=7,
        trackid="ABC-123-XYZ",
        subject="Printer on fire",
        message_html='Hello &amp;lt;b&amp;gt;<br />\r\nsee <a href="https://example.com/x">'
        "https://example.com/x</a><script>alert(1)</script>",
        message_text="Hello &lt;b&gt;\nsee https://example.com/x",
        requester_contact_id=REQUESTER,
        requester_customer_id=1,
        requester_name="Jane Doe",
        requester_email=REQUESTER,
        follower_contact_ids=(FOLLOWER,),
        snapshot_name="Jane Doe",
        snapshot_email=REQUESTER,
        status=3,
        status_name="Resolved",
        priority=1,
        priority_name="High",
        category_id=1,
        category_name="Billing",
        owner_id=1,
        owner_missing=False,
        opened_by=None,
        closed_by=1,
        assigned_by=None,
        created_at=T0,
        updated_at=at(100),
        first_reply_at=at(10),
        closed_at=at(100),
        due_at=None,
        ip="10.0.0.1",
        language=None,
        time_worked="00:00:00",
        tagged=False,
        locked=False,
        merged_trackids=("OLD-111-AAA",),
        article_ids=(),
        custom_fields=(CustomFieldValue(1, "custom1", "Order number", "text", "A-1", ("A-1",)),),
        attachments=(AttachmentRef(1, "screen.png"),),
        history_raw="<li>…</li>",
        history=history(),
        reply_count=2,
        staff_reply_count=1,
        anonymised=False,
    )
    base.update(over)
    return Ticket(**base)


def reply(
    id: int,
    minutes: int,
    *,
    staff_id: int | None = None,
    author: str | None = None,
    html: str = "Thanks<br />",
    contact: str | None = None,
    ticket_id: int = 7,
) -> Reply:
    is_staff = staff_id is not None or (author is not None and contact is None)
    return Reply(
        str(id),
        id,
        ticket_id,
        0,
        at(minutes),
        html,
        html,
        "staff" if is_staff else "customer",
        author or ("Alice" if is_staff else "Jane Doe"),
        staff_id,
        False,
        None,
        None if is_staff else (contact or REQUESTER),
        None if is_staff else ("requester" if (contact or REQUESTER) == REQUESTER else "follower"),
        (),
        None,
        True,
        False,
    )


def note(id: int, minutes: int, staff_id: int | None = 1, html: str = "internal") -> Note:
    return Note(str(id), id, 7, staff_id, False, "Alice", at(minutes), html, html, (), False)


def attachment(
    att_id: int,
    parent: str = "ticket",
    parent_id: int = 7,
    status: str = "ok",
    size: int = 100,
    name: str | None = None,
) -> Attachment:
    return Attachment(
        str(att_id),
        att_id,
        "ticket",
        "ABC-123-XYZ",
        7,
        parent,
        parent_id,
        f"saved_{att_id}",
        name or f"file{att_id}.pdf",
        size,
        False,
        status,
        size if status == "ok" else None,
    )


def kb_category(id: int, parent: int | None, name: str = "FAQ") -> KbCategory:
    return KbCategory(str(id), id, name, parent, id, False)


def kb_article(
    id: int = 5,
    category_id: int = 2,
    state: str = "published",
    author_id: int | None = 1,
    html: str = "<p>Body</p>",
) -> KbArticle:
    return KbArticle(
        str(id),
        id,
        category_id,
        author_id,
        False,
        T0,
        "How to",
        html,
        "Body",
        True,
        "",
        state,
        False,
        0,
        0,
        0,
        0.0,
        (AttachmentRef(9, "guide.pdf"),),
        "",
        (),
    )


def base_map(**options: Any) -> dict[str, Any]:
    m = propose_map(
        staff=[staff(1), staff(2, "ghost@example.com", "Ghost")],
        categories=[category(1, "Billing"), category(2, "Shipping")],
        custom_fields=[
            field_def(1),
            field_def(2, "Colour", "select", ("Red", "Blue")),
            field_def(3, "Internal code", "hidden", staff_only=True),
            field_def(4, "Due", "date"),
        ],
        statuses={0: "New", 1: "Waiting reply", 2: "Replied", 3: "Resolved", 6: "Vendor"},
        priorities={0: "Critical", 1: "High", 2: "Medium", 3: "Low"},
        admins=ADMINS,
        teams=TEAMS,
        conversation_attributes=EXISTING_ATTRS,
        me=ADMINS[0],
    )
    m["options"].update(options)
    return m


def context(mapping: dict[str, Any] | None = None, **over: Any) -> UnitContext:
    ids = {
        f"contact:{REQUESTER}": "c-jane",
        f"contact:{FOLLOWER}": "c-bob",
        "contact:anonymised": "c-anon",
        "kb_category:2": "401",
        "kb_category:3": "402",
    }
    kwargs: dict[str, Any] = dict(
        map=mapping or base_map(),
        ids=ids,
        admins={"1": "102"},
        fallback_admin_id="101",
        teams={"1": "201"},
        tags={"2": "501"},
    )
    kwargs.update(over)
    return UnitContext(**kwargs)
