"""Realistic Hesk records and ledger events appended by hand, for report tests."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hesk.records import (
    Attachment,
    AttachmentRef,
    Customer,
    HistoryEntry,
    KbArticle,
    KbCategory,
    Note,
    Record,
    Reply,
    Staff,
    Ticket,
)
from ledger.events import RecordMigrated, RecordQuarantined, RecordSkipped, SourceCaptured
from ledger.store import Ledger

T0 = datetime(2021, 3, 4, 9, 30, tzinfo=UTC)


def at(seconds: int) -> datetime:
    """T0 plus some seconds."""
    return datetime.fromtimestamp(int(T0.timestamp()) + seconds, UTC)


def digest(record: Record) -> str:
    """The content hash the capture records (short form, like ledger.keys)."""
    return record.content_hash[:16]


def capture(ledger: Ledger, record: Record) -> str:
    """Append the SourceCaptured event of a record; returns its content hash."""
    h = digest(record)
    ledger.append_one(
        SourceCaptured(
            object=record.OBJECT,
            source_id=record.source_id,
            content_hash=h,
            record=record.to_payload(),
            capture="full-1",
        )
    )
    return h


def migrated(ledger: Ledger, record: Record, intercom_id: str, kind: str = "") -> None:
    """Capture a record and append its RecordMigrated."""
    h = capture(ledger, record)
    ledger.append_one(
        RecordMigrated(
            object=record.OBJECT,
            source_id=record.source_id,
            content_hash=h,
            intercom_id=str(intercom_id),
            intercom_type=kind or record.OBJECT,
        )
    )


def quarantined(ledger: Ledger, record: Record, reason: str) -> None:
    """Capture a record and append its RecordQuarantined."""
    h = capture(ledger, record)
    ledger.append_one(
        RecordQuarantined(
            object=record.OBJECT, source_id=record.source_id, content_hash=h, reason=reason
        )
    )


def skipped(ledger: Ledger, record: Record, reason: str) -> None:
    """Capture a record and append its RecordSkipped."""
    h = capture(ledger, record)
    ledger.append_one(
        RecordSkipped(
            object=record.OBJECT, source_id=record.source_id, content_hash=h, reason=reason
        )
    )


def ticket(tid: int, **over: Any) -> Ticket:
    """A realistic Hesk ticket (requester jane@example.com, open, one history entry)."""
    created = over.pop("created_at", at(0))
    fields: dict[str, Any] = dict(
        source_id=str(tid),
        id=tid,
        trackid=f"ABC-{tid:03d}-XYZ",
        subject=f"Printer {tid} jams",
        message_html="My printer <b>jams</b> on page 2 &amp; beeps.<br />Please help!",
        message_text="My printer jams on page 2 & beeps.\nPlease help!",
        requester_contact_id="jane@example.com",
        requester_customer_id=7,
        requester_name="Jane Roe",
        requester_email="jane@example.com",
        follower_contact_ids=(),
        snapshot_name="Jane Roe",
        snapshot_email="jane@example.com",
        status=0,
        status_name="New",
        priority=2,
        priority_name="Medium",
        category_id=1,
        category_name="General",
        owner_id=None,
        owner_missing=False,
        opened_by=None,
        closed_by=None,
        assigned_by=None,
        created_at=created,
        updated_at=created,
        first_reply_at=None,
        closed_at=None,
        due_at=None,
        ip="",
        language=None,
        time_worked="",
        tagged=False,
        locked=False,
        merged_trackids=(),
        article_ids=(),
        custom_fields=(),
        attachments=(),
        history_raw="",
        reply_count=0,
        staff_reply_count=0,
        anonymised=False,
        history=(
            HistoryEntry(
                source_id=f"{tid}:0",
                parent_object="ticket",
                parent_id=tid,
                index=0,
                at=created,
                raw_date="2021-03-04 10:30:00",
                text="Ticket created by Jane Roe",
                raw="…",
            ),
        ),
    )
    fields.update(over)
    return Ticket(**fields)


def reply(
    rid: int,
    tid: int,
    seconds: int,
    html: str,
    *,
    staff_id: int | None = None,
    files: tuple[AttachmentRef, ...] = (),
) -> Reply:
    """A reply by the requester (default) or by a staff member."""
    return Reply(
        source_id=str(rid),
        id=rid,
        ticket_id=tid,
        position=0,
        created_at=at(seconds),
        message_html=html,
        message_text=html,
        author_type="staff" if staff_id else "customer",
        author_name="Sam Staff" if staff_id else "Jane Roe",
        staff_id=staff_id,
        staff_missing=False,
        customer_id=None if staff_id else 7,
        author_contact_id=None if staff_id else "jane@example.com",
        author_role=None if staff_id else "requester",
        attachments=files,
        rating=None,
        read=True,
        orphan=False,
    )


def note(nid: int, tid: int, seconds: int, html: str, staff_id: int = 3) -> Note:
    """An internal note by a staff member."""
    return Note(
        source_id=str(nid),
        id=nid,
        ticket_id=tid,
        staff_id=staff_id,
        staff_missing=False,
        author_name="Sam Staff",
        created_at=at(seconds),
        message_html=html,
        message_text=html,
        attachments=(),
        orphan=False,
    )


def attachment(att_id: int, tid: int, name: str, parent: str, parent_id: int) -> Attachment:
    """A ticket attachment row whose file is on disk."""
    return Attachment(
        source_id=str(att_id),
        att_id=att_id,
        kind="ticket",
        trackid=None,
        ticket_id=tid,
        parent_object=parent,
        parent_id=parent_id,
        saved_name=f"saved_{att_id}",
        real_name=name,
        size=5,
        staff_only=False,
        file_status="ok",
        file_size=5,
    )


def contact(email: str) -> Customer:
    """A requester contact."""
    return Customer(
        source_id=email,
        email=email,
        name="Jane Roe",
        email_valid=True,
        email_variants=(email,),
        customer_ids=(7,),
        origin="customers",
        language=None,
        verified=1,
        first_ticket_id=1,
        signed_up_at=T0,
    )


def staff(sid: int, email: str) -> Staff:
    """A staff member."""
    return Staff(
        source_id=str(sid),
        id=sid,
        username="sam",
        name="Sam Staff",
        email=email,
        nickname="",
        is_admin=True,
        active=True,
        signature="",
        language=None,
        category_ids=(),
        privileges=(),
    )


def kb_category(cid: int) -> KbCategory:
    """A KB category."""
    return KbCategory(
        source_id=str(cid), id=cid, name="Printers", parent_id=None, order=1, private=False
    )


def kb_article(aid: int, category_id: int, author_id: int, state: str = "published") -> KbArticle:
    """A KB article with HTML content."""
    html = "<p>Open the tray.</p><p>Remove the <em>jammed</em> sheet.</p>"
    return KbArticle(
        source_id=str(aid),
        id=aid,
        category_id=category_id,
        author_id=author_id,
        author_missing=False,
        created_at=T0,
        subject="Fixing a paper jam",
        content_html=html,
        content_text="Open the tray.\nRemove the jammed sheet.",
        is_html=True,
        keywords="",
        state=state,
        sticky=False,
        order=1,
        views=0,
        votes=0,
        rating=0.0,
        attachments=(),
        history_raw="",
        history=(),
    )
