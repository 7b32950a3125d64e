"""Typed, frozen records of everything read from Hesk — the contract of the source side.

Every record class has:

* ``OBJECT`` (ClassVar): the object name used everywhere (ledger, report, mapping), one
  of ``core.objects.OBJECTS`` (plus ``ticket_template``, read for the inventory);
* ``source_id``: a stable string id (the Hesk numeric id as a string; for contacts the
  case-folded email or ``noemail:<ticket id>``; see each class);
* ``to_payload()`` -> a JSON-safe dict of plain types and ``from_payload(dict)`` that
  round-trips it exactly; ``content_hash`` = ``core.hashing.record_hash`` of the payload.

Text conventions (see ``hesk/text.py``): fields named ``*_html`` hold HTML exactly as Hesk
stored it (its entities are HTML entities, still valid HTML); every other text field
(names, subjects, ``*_text``, custom-field values) is plain text with Hesk's entity
escaping decoded exactly once. All datetimes are timezone-aware UTC (or None).

:func:`record_from_payload` turns ``(object, payload)`` back into the right record class.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache, cached_property
from typing import Any, ClassVar, TypeVar, Union

from core.hashing import record_hash
from core.objects import TICKET_TEMPLATE

R = TypeVar("R", bound="Record")

# --------------------------------------------------------------------------- codec


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: _encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            # A field added later is left out while it holds its default, so the payload
            # (and content hash) of every record that does not use it stays the same.
            if not (f.metadata.get("omit_default") and getattr(value, f.name) == f.default)
        }
    if isinstance(value, tuple | list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _identity(value: Any) -> Any:
    return value


def _to_float(value: Any) -> Any:
    return float(value) if isinstance(value, int) else value


@cache
def _decoder(hint: Any) -> Callable[[Any], Any]:
    """The function that decodes a payload value of type ``hint`` (worked out once per
    hint: a worker decodes every record of every unit it runs)."""
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        inner = _decoder(args[0])
        return lambda value: None if value is None else inner(value)
    if origin is tuple:
        item = _decoder(typing.get_args(hint)[0])
        return lambda value: tuple(item(v) for v in value)
    if origin is dict:
        val = _decoder(typing.get_args(hint)[1])
        return lambda value: {k: val(v) for k, v in value.items()}
    if hint is datetime:
        return datetime.fromisoformat
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return lambda value: _decode_dataclass(hint, value)
    if hint is float:
        return _to_float
    return _identity  # Any, str, int, bool: as stored


@cache
def _field_decoders(cls: type[Any]) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    hints = _hints(cls)  # type: ignore[arg-type]  # a class is hashable; mypy#11470 says not
    return tuple((f.name, _decoder(hints[f.name])) for f in dataclasses.fields(cls) if f.init)


def _decode_dataclass(cls: type[Any], payload: dict[str, Any]) -> Any:
    decoders = _field_decoders(cls)  # type: ignore[arg-type]  # a class is hashable; mypy#11470 says not
    kwargs = {name: decode(payload[name]) for name, decode in decoders if name in payload}
    return cls(**kwargs)


# --------------------------------------------------------------------------- base


@dataclass(frozen=True)
class Record:
    """Base of every source record: stable id, JSON payload round trip, content hash."""

    OBJECT: ClassVar[str] = ""

    source_id: str

    def to_payload(self) -> dict[str, Any]:
        """This record as a JSON-safe dict of plain types (datetimes as ISO 8601 strings)."""
        return _encode(self)

    @classmethod
    def from_payload(cls: type[R], payload: dict[str, Any]) -> R:
        """Rebuild the record from :meth:`to_payload` output (exact round trip)."""
        return _decode_dataclass(cls, payload)

    @cached_property
    def content_hash(self) -> str:
        """sha256 hex of the canonical JSON of the payload: changes iff the content does."""
        return record_hash(self.to_payload())


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """A data-quality observation: a bad or unusual row that did not stop the scan.

    ``kind`` is a short snake_case code (e.g. ``missing_email``, ``orphan_reply``),
    ``object``/``source_id`` name the record concerned, ``detail`` explains in one line.
    """

    kind: str
    object: str
    source_id: str
    detail: str

    def to_dict(self) -> dict[str, str]:
        """The finding in discover's JSON shape."""
        return {
            "kind": self.kind,
            "object": self.object,
            "source_id": self.source_id,
            "detail": self.detail,
        }


# --------------------------------------------------------------------------- pieces


@dataclass(frozen=True)
class AttachmentRef:
    """One ``ATTID#name,`` item of an ``attachments`` column (ticket, reply, note, KB)."""

    att_id: int
    real_name: str


@dataclass(frozen=True)
class CustomFieldValue:
    """A non-empty ``customN`` value of a ticket, resolved with its definition.

    ``text`` is the plain value (entities decoded, ``<br />`` -> newline); ``values`` holds
    the ticked options of a checkbox field (else the single value); ``date`` is set for a
    ``date`` field (Unix seconds at 00:00 UTC in Hesk). ``field_type`` is None when the
    column has a value but no enabled definition.
    """

    field_id: int
    column: str
    name: str
    field_type: str | None
    text: str
    values: tuple[str, ...]
    date: datetime | None = None


# --------------------------------------------------------------------------- records


@dataclass(frozen=True)
class HistoryEntry(Record):
    """One ``<li class="smaller">DATE | TEXT</li>`` item of a ticket or KB article history.

    ``source_id`` = ``<ticket id>:<index>`` (``kb:<article id>:<index>`` for KB). ``at`` is
    the UTC instant (None when the date could not be parsed; ``raw`` keeps the item).
    """

    OBJECT: ClassVar[str] = "history"

    parent_object: str
    parent_id: int
    index: int
    at: datetime | None
    raw_date: str
    text: str
    raw: str


@dataclass(frozen=True)
class Staff(Record):
    """A Hesk staff member (``hesk_users``); ``source_id`` = the user id."""

    OBJECT: ClassVar[str] = "staff"

    id: int
    username: str
    name: str
    email: str
    nickname: str
    is_admin: bool
    active: bool
    signature: str
    language: str | None
    category_ids: tuple[int, ...]
    privileges: tuple[str, ...]


@dataclass(frozen=True)
class Category(Record):
    """A ticket category (``hesk_categories``); ``source_id`` = the category id."""

    OBJECT: ClassVar[str] = "category"

    id: int
    name: str
    order: int
    private: bool
    default_priority: int
    autoassign: bool


@dataclass(frozen=True)
class CustomFieldDefinition(Record):
    """A custom field definition (``hesk_custom_fields`` row with ``use`` 1 or 2).

    ``source_id`` = the field id (1..100); the values live in ``tickets.custom<id>``.
    ``options`` are the labels of radio/select/checkbox fields (decoded); ``settings`` is
    the decoded ``value`` JSON as Hesk stores it.
    """

    OBJECT: ClassVar[str] = "custom_field"

    id: int
    column: str
    name: str
    names: dict[str, str]
    field_type: str
    use: int
    staff_only: bool
    place: int
    required: int
    category_ids: tuple[int, ...] | None
    options: tuple[str, ...]
    default_value: str
    max_length: int | None
    date_format: str | None
    multiple: bool
    order: int
    settings: dict[str, Any]


@dataclass(frozen=True)
class Customer(Record):
    """A requester/follower contact: one per distinct case-folded email.

    ``source_id`` = the case-folded email, or ``noemail:<ticket id>`` for an emailless
    requester. ``customer_ids`` are the ``hesk_customers`` rows merged into it (empty for a
    contact known only from ticket snapshots, e.g. Hesk < 3.5). ``email_variants`` are the
    spellings seen; ``signed_up_at`` is the time of the first ticket it requested.
    """

    OBJECT: ClassVar[str] = "contact"

    email: str | None
    name: str
    email_valid: bool
    email_variants: tuple[str, ...]
    customer_ids: tuple[int, ...]
    origin: str
    language: str | None
    verified: int | None
    first_ticket_id: int | None
    signed_up_at: datetime | None


@dataclass(frozen=True)
class Ticket(Record):
    """A Hesk ticket (``hesk_tickets``); ``source_id`` = the numeric ticket id.

    ``message_html`` is ``message_html`` if not NULL else ``message`` (both HTML);
    ``message_text`` its plain-text form. ``requester_contact_id`` is the ``source_id`` of
    the requester :class:`Customer` (None if the ticket has no requester, e.g. anonymised).
    ``owner_id`` is None when unassigned; ``owner_missing`` when it names a deleted user.
    ``fidelity`` is ``full`` from the database, ``export`` from an export file, in which
    case ``missing`` lists what the source could not provide, and ``id``s of staff,
    categories and custom statuses are derived from their names (the file has no ids).
    """

    OBJECT: ClassVar[str] = "ticket"

    id: int
    trackid: str
    subject: str
    message_html: str
    message_text: str
    requester_contact_id: str | None
    requester_customer_id: int | None
    requester_name: str
    requester_email: str | None
    follower_contact_ids: tuple[str, ...]
    snapshot_name: str
    snapshot_email: str
    status: int
    status_name: str
    priority: int
    priority_name: str
    category_id: int
    category_name: str | None
    owner_id: int | None
    owner_missing: bool
    opened_by: int | None
    closed_by: int | None
    assigned_by: int | None
    created_at: datetime | None
    updated_at: datetime | None
    first_reply_at: datetime | None
    closed_at: datetime | None
    due_at: datetime | None
    ip: str
    language: str | None
    time_worked: str
    tagged: bool
    locked: bool
    merged_trackids: tuple[str, ...]
    article_ids: tuple[int, ...]
    custom_fields: tuple[CustomFieldValue, ...]
    attachments: tuple[AttachmentRef, ...]
    history_raw: str
    history: tuple[HistoryEntry, ...]
    reply_count: int
    staff_reply_count: int
    anonymised: bool
    fidelity: str = "full"
    missing: tuple[str, ...] = ()
    #: Why the source row could not be read (an export row with a bad date or reply
    #: block): the ticket is quarantined with this reason. Empty for a good row.
    broken: str = dataclasses.field(default="", metadata={"omit_default": True})


@dataclass(frozen=True)
class Reply(Record):
    """A public reply (``hesk_replies``); ``source_id`` = the reply id.

    Order replies of a ticket by ``(created_at, id)`` (not by id: merges renumber);
    ``position`` is the 0-based index in that order. ``author_type`` is ``staff`` or
    ``customer``; for a customer ``author_contact_id`` is the contact's ``source_id`` and
    ``author_role`` ``requester`` or ``follower``. ``orphan`` = its ticket no longer exists.
    """

    OBJECT: ClassVar[str] = "reply"

    id: int
    ticket_id: int
    position: int
    created_at: datetime | None
    message_html: str
    message_text: str
    author_type: str
    author_name: str
    staff_id: int | None
    staff_missing: bool
    customer_id: int | None
    author_contact_id: str | None
    author_role: str | None
    attachments: tuple[AttachmentRef, ...]
    rating: int | None
    read: bool
    orphan: bool
    fidelity: str = "full"
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class Note(Record):
    """An internal staff note (``hesk_notes``); ``source_id`` = the note id."""

    OBJECT: ClassVar[str] = "note"

    id: int
    ticket_id: int
    staff_id: int | None
    staff_missing: bool
    author_name: str
    created_at: datetime | None
    message_html: str
    message_text: str
    attachments: tuple[AttachmentRef, ...]
    orphan: bool


@dataclass(frozen=True)
class Attachment(Record):
    """An attachment file row (``hesk_attachments`` or ``hesk_kb_attachments``).

    ``source_id`` = the att_id for ticket files, ``kb:<att_id>`` for KB files.
    ``parent_object``/``parent_id`` say which ticket, reply, note or kb_article lists it
    (None if none does). ``trackid`` is ``hesk_attachments.ticket_id``. ``file_status`` is
    ``ok``, ``missing``, ``unsafe_path``, ``size_mismatch`` or ``unchecked`` (no folder).
    """

    OBJECT: ClassVar[str] = "attachment"

    att_id: int
    kind: str
    trackid: str | None
    ticket_id: int | None
    parent_object: str | None
    parent_id: int | None
    saved_name: str
    real_name: str
    size: int
    staff_only: bool
    file_status: str
    file_size: int | None


@dataclass(frozen=True)
class KbCategory(Record):
    """A knowledge-base category (``hesk_kb_categories``); ``parent_id`` None for the root."""

    OBJECT: ClassVar[str] = "kb_category"

    id: int
    name: str
    parent_id: int | None
    order: int
    private: bool


@dataclass(frozen=True)
class KbArticle(Record):
    """A knowledge-base article; ``state`` is ``published``, ``private`` or ``draft``.

    ``content_html`` is HTML (plain-text articles are stored as escaped text with
    ``<br />``, which is HTML too); ``attachments`` point to KB attachment records
    (``source_id`` ``kb:<att_id>``).
    """

    OBJECT: ClassVar[str] = "kb_article"

    id: int
    category_id: int
    author_id: int | None
    author_missing: bool
    created_at: datetime | None
    subject: str
    content_html: str
    content_text: str
    is_html: bool
    keywords: str
    state: str
    sticky: bool
    order: int
    views: int
    votes: int
    rating: float
    attachments: tuple[AttachmentRef, ...]
    history_raw: str
    history: tuple[HistoryEntry, ...]


@dataclass(frozen=True)
class SavedText(Record):
    """A titled text staff reuse: a canned response or a ticket template (one shape).

    ``source_id`` = the id; ``message_html`` is Hesk's HTML, ``message_text`` its plain
    form; ``order`` is Hesk's display order.
    """

    id: int
    title: str
    message_html: str
    message_text: str
    order: int


@dataclass(frozen=True)
class CannedResponse(SavedText):
    """A canned response (``hesk_std_replies``); Intercom has no write API for macros."""

    OBJECT: ClassVar[str] = "canned_response"


@dataclass(frozen=True)
class TicketTemplate(SavedText):
    """A ticket template (``hesk_ticket_templates``), for the inventory."""

    OBJECT: ClassVar[str] = TICKET_TEMPLATE


#: Record class by object name.
RECORD_CLASSES: dict[str, type[Record]] = {
    cls.OBJECT: cls
    for cls in (
        Ticket,
        Reply,
        Note,
        HistoryEntry,
        Customer,
        Staff,
        Category,
        CustomFieldDefinition,
        KbCategory,
        KbArticle,
        CannedResponse,
        Attachment,
        TicketTemplate,
    )
}


def record_from_payload(
    object: str, payload: dict[str, Any], *, content_hash: str | None = None
) -> Record:
    """Rebuild a record of object name ``object`` (e.g. ``"ticket"``) from its payload.

    ``content_hash``: the hash recorded with the payload when it was captured (the record's
    own ``content_hash`` of that payload), kept instead of computed again.
    """
    try:
        cls = RECORD_CLASSES[object]
    except KeyError:
        raise ValueError(f"unknown object name {object!r}") from None
    record = cls.from_payload(payload)
    if content_hash:
        record.__dict__["content_hash"] = content_hash  # the cached_property's slot
    return record


__all__ = [
    "RECORD_CLASSES",
    "Attachment",
    "AttachmentRef",
    "CannedResponse",
    "Category",
    "Customer",
    "CustomFieldDefinition",
    "CustomFieldValue",
    "Finding",
    "HistoryEntry",
    "KbArticle",
    "KbCategory",
    "Note",
    "Record",
    "Reply",
    "SavedText",
    "Staff",
    "Ticket",
    "TicketTemplate",
    "record_from_payload",
]
