"""The unit of work the write engine executes: a list of Steps planned by pure functions.

A *unit* is one source record that owns Intercom writes (a custom field, a KB category, a
contact, a ticket with its whole thread, a KB article, a category's fallback tag). The
engine (workers/) resolves the unit's dependencies to Intercom ids from the ledger, calls
the pure planner (mapping/plan.py) to get the Steps, then executes each Step in order with
the write protocol (intent -> call -> outcome; in-doubt writes resolved by ``lookup``).

Nothing here does I/O. Attachment bytes are read by the engine (hesk.attachments, path
guarded) from ``Step.files`` and sent as ``attachment_files``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

#: Placeholder in Step.path / Step.body replaced by the engine with the id the unit's
#: ``creates`` step produced (e.g. the conversation id after ``create``).
UNIT_ID = "{unit_id}"


class LookupKind(StrEnum):
    """How an in-doubt write is settled: every kind has one entry in the engine's table
    (``engine.matching``, with ``intercom_api.lookups``). What a lookup needs besides the
    body is in ``Step.lookup`` and the unit's own Intercom id; never read from the path."""

    #: ``find_by_external_id`` (or a 409's id); e-mail search as a fallback.
    CONTACT = "contact"
    #: Search by ``contact_ids`` + ``created_at``, then the first message's body compared.
    CONVERSATION = "conversation"
    #: Read the unit's conversation back: author, ``created_at``, body hash.
    PART = "part"
    #: By name (title), against the same-named objects a pre-check listed before the
    #: intent: only a new one is this migration's.
    COLLECTION = "collection"
    ARTICLE = "article"
    CONVERSATION_ATTRIBUTE = "conversation_attribute"
    TAG = "tag"
    #: Safe to send again (PUTs): sending it settles it.
    IDEMPOTENT = "idempotent"
    #: A close, reopen or assignment of the unit's conversation (each adds a part if sent
    #: twice): read the conversation's state or assignee back.
    CONVERSATION_STATE = "conversation_state"
    #: A tag put on the unit's conversation: read its tags back.
    CONVERSATION_TAG = "conversation_tag"
    #: Tickets target: search by the tracking-id ticket attribute.
    TICKET = "ticket"
    #: Read the unit's ticket back: author, ``created_at``, body.
    TICKET_PART = "ticket_part"
    #: By name; an attribute by name within the unit's ticket type.
    TICKET_TYPE = "ticket_type"
    TICKET_TYPE_ATTRIBUTE = "ticket_type_attribute"


@dataclass(frozen=True)
class FileRef:
    """One attachment file to send with a step: which Hesk attachment, and how to read it."""

    attachment_id: str  # Attachment.source_id
    saved_name: str
    real_name: str
    size: int
    content_type: str
    content_hash: str = ""  # of the Attachment record: settles it if the file is unreadable


@dataclass(frozen=True)
class Completion:
    """A source record that is settled when its step succeeds."""

    object: str
    source_id: str
    content_hash: str


@dataclass(frozen=True)
class Disposition:
    """A source record the planner settles without any write: skipped or quarantined."""

    object: str
    source_id: str
    content_hash: str
    state: str  # "skipped" | "quarantined" | "migrated" (linked without a write)
    reason: str
    intercom_id: str = ""


@dataclass(frozen=True)
class Step:
    """One Intercom call of a unit.

    ``op`` is unique and stable within its unit (``create``, ``part:reply:123``,
    ``part:reply:123:files:2``, ``part:history``, ``update``, ``assign``, ``close``, ...):
    with the unit's object, source id and ``identity_hash`` it forms the write's
    idempotency key. ``identity_hash`` is the hash of what makes the write *this* write
    (for creates: the content that never changes; for updates: the whole body), so a
    delta that adds replies never re-creates the conversation, and a changed title is a
    new update.

    ``lookup_kind`` says how to settle an in-doubt write (:class:`LookupKind`); ``lookup``
    carries what the lookup compares (e.g. a ticket's tracking-id marker).
    ``creates`` names the Intercom type this step creates (for rollback: only created
    objects are ever deleted) or is empty for updates/parts. ``result_id`` says where the
    id of the created object is in the answer (``id`` or ``conversation_id``).
    """

    op: str
    method: str
    path: str
    body: dict[str, Any]
    identity_hash: str
    lookup: dict[str, Any]
    lookup_kind: LookupKind
    creates: str = ""
    result_id: str = "id"
    files: tuple[FileRef, ...] = ()
    completes: tuple[Completion, ...] = ()
    defer_files_to_parts: bool = False
    #: Find or create: look the object up (``lookup_kind``) before creating it; what exists
    #: is linked (``created=False``), never created again nor deleted by a rollback.
    find_first: bool = False
    #: What this write leaves on the object it writes, for writes whose key does not say it
    #: (a ticket's create carries its attributes, which a later edit must not re-create):
    #: recorded with the intent, so a later plan can tell what the object already has.
    sets: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """What a unit needs and does: its steps and the records settled without writes."""

    steps: tuple[Step, ...] = ()
    dispositions: tuple[Disposition, ...] = ()


@dataclass(frozen=True)
class UnitContext:
    """Everything a planner may use besides the records: resolved ids and the map.

    ``ids`` maps ``"object:source_id"`` of dependencies (contacts, custom fields, KB
    categories, categories) to their Intercom ids. ``admins`` maps Hesk staff ids (as str)
    to Intercom admin ids; ``fallback_admin_id`` authors what unmatched staff wrote.
    ``teams`` maps category ids (str) to team ids; ``tags`` maps category ids to tag ids
    for the tag fallback; ``map`` is the confirmed map as recorded in MapConfirmed.
    """

    map: dict[str, Any]
    ids: dict[str, str] = field(default_factory=dict)
    admins: dict[str, str] = field(default_factory=dict)
    fallback_admin_id: str = ""
    teams: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)  # custom field id -> attr name
    #: The migration's mark (ledger.marks), carried by every contact it creates.
    mark: str = ""
