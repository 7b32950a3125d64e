"""Event types of the ledger: frozen dataclasses, one way to a row and back.

Every event names the ``object`` (ticket, reply, contact, ...) and ``source_id`` it is
about and derives its idempotency ``key`` from its content (ledger.keys). ``to_row`` and
``from_row`` are the only conversion; the payload is every other field, as JSON.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from core.hashing import content_hash
from ledger import keys
from ledger.errors import UnknownEventType

EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True)
class Event:
    """Base of every ledger event."""

    object: str
    source_id: str
    TYPE: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.TYPE:
            EVENT_TYPES[cls.TYPE] = cls

    @property
    def key(self) -> str:
        """The deterministic idempotency key of this event."""
        raise NotImplementedError

    def payload(self) -> dict[str, Any]:
        """Every field but object and source_id, JSON-ready."""
        return {name: getattr(self, name) for name in _payload_names(type(self))}

    def to_row(self, migration_id: str) -> dict[str, Any]:
        """The events-table row for this event in the given migration."""
        return {
            "migration_id": migration_id,
            "key": self.key,
            "type": self.TYPE,
            "object": self.object,
            "source_id": self.source_id,
            "payload": self.payload(),
        }


def event_from_row(type_name: str, obj: str, source_id: str, payload: dict[str, Any]) -> Event:
    """Rebuild the event stored in a row."""
    cls = EVENT_TYPES.get(type_name)
    if cls is None:
        raise UnknownEventType(f"unknown event type {type_name!r} in the ledger")
    names = _payload_names(cls)
    return cls(object=obj, source_id=source_id, **{k: v for k, v in payload.items() if k in names})


_PAYLOAD_NAMES: dict[str, tuple[str, ...]] = {}


def _payload_names(cls: type[Event]) -> tuple[str, ...]:
    """The payload's fields of an event class in order (all but object and source_id),
    worked out once per class: every row read or written needs them."""
    names = _PAYLOAD_NAMES.get(cls.TYPE)
    if names is None:
        every = (f.name for f in dataclasses.fields(cls))
        names = tuple(n for n in every if n not in ("object", "source_id"))
        _PAYLOAD_NAMES[cls.TYPE] = names
    return names


@dataclass(frozen=True)
class Recorded:
    """An event as stored: its global position and when it was recorded."""

    seq: int
    recorded_at: datetime
    event: Event

    @property
    def type(self) -> str:
        """The event's type name."""
        return self.event.TYPE


# --- source side ---------------------------------------------------------------------


@dataclass(frozen=True)
class SourceCaptured(Event):
    """One version of a Hesk record was read; ``record`` is its full payload."""

    TYPE: ClassVar[str] = "SourceCaptured"
    content_hash: str = ""
    record: dict[str, Any] = field(default_factory=dict)
    capture: str = ""

    @property
    def key(self) -> str:
        return keys.source_key(self.object, self.source_id, self.content_hash)


@dataclass(frozen=True)
class SourceDeleted(Event):
    """A record seen in an earlier capture is gone from Hesk (found by a delta)."""

    TYPE: ClassVar[str] = "SourceDeleted"
    capture: str = ""

    @property
    def key(self) -> str:
        return f"srcdel:{self.object}:{self.source_id}:{self.capture}"


@dataclass(frozen=True)
class CaptureCompleted(Event):
    """A full or delta capture of the source finished; ``watermarks`` say where it ended."""

    TYPE: ClassVar[str] = "CaptureCompleted"
    capture: str = ""
    kind: str = "full"
    watermarks: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"capture:{self.capture}"


def confirmed_map_event(ledger: Any) -> MapConfirmed | None:
    """The map in force: the newest MapConfirmed of a ledger (``ledger.store.Ledger``)."""
    rec = ledger.latest(MapConfirmed.TYPE)
    return rec.event if rec is not None and isinstance(rec.event, MapConfirmed) else None


@dataclass(frozen=True)
class MapConfirmed(Event):
    """The user confirmed a field map; the newest one is in force."""

    TYPE: ClassVar[str] = "MapConfirmed"
    map_hash: str = ""
    map: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"map:{self.map_hash}"


@dataclass(frozen=True)
class TargetChosen(Event):
    """Where this migration writes tickets (``conversations`` or ``tickets``): recorded when
    its first run starts, one per generation (the key holds no value: the first one wins).
    A rollback opens a new generation, the only way to choose again."""

    TYPE: ClassVar[str] = "TargetChosen"
    target: str = ""

    @property
    def key(self) -> str:
        return "target"


def chosen_target(ledger: Any) -> str | None:
    """The target this migration's generation writes to, if a run has started."""
    rec = ledger.latest(TargetChosen.TYPE)
    return rec.event.target if rec is not None and isinstance(rec.event, TargetChosen) else None


# --- destination side (the write protocol) -------------------------------------------


@dataclass(frozen=True)
class WriteIntended(Event):
    """A write to Intercom is about to be made (durable before the HTTP call)."""

    TYPE: ClassVar[str] = "WriteIntended"
    operation: str = ""
    content_hash: str = ""
    attempt: int = 1
    target: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return keys.write_key(
            self.operation, self.object, self.source_id, self.content_hash, self.attempt
        )


@dataclass(frozen=True)
class _Outcome(Event):
    intent_key: str = ""
    OUTCOME: ClassVar[str] = ""

    @property
    def key(self) -> str:
        return keys.outcome_key(self.intent_key, self.OUTCOME)


@dataclass(frozen=True)
class WriteSucceeded(_Outcome):
    """Intercom confirmed the write; ``created`` is False when an existing object matched.

    ``detail`` (on any outcome) keeps what people need later: ``retried`` (the transient
    errors met before the answer, by kind: ``rate_limited``, ``server_error``,
    ``unavailable``) and, for articles and collections, the answer's public ``url`` and
    ``state``.
    """

    TYPE: ClassVar[str] = "WriteSucceeded"
    OUTCOME: ClassVar[str] = "ok"
    intercom_id: str = ""
    intercom_type: str = ""
    created: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteFailed(_Outcome):
    """Intercom rejected the write for good (a 4xx that needs a human)."""

    TYPE: ClassVar[str] = "WriteFailed"
    OUTCOME: ClassVar[str] = "failed"
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteInDoubt(_Outcome):
    """The outcome of the write is unknown (timeout, lost response, crash)."""

    TYPE: ClassVar[str] = "WriteInDoubt"
    OUTCOME: ClassVar[str] = "in-doubt"
    reason: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WriteResolved(_Outcome):
    """A lookup settled an in-doubt write: found (with its id) or not made.

    ``created`` is True only when the object found is proven this migration's own;
    ``detail["proof"]`` says how (its mark, or absent from the pre-check recorded with the
    intent), ``detail["matched"]`` why a found object counts as matched instead. An event
    without ``detail`` comes from a version that settled creates by name alone.
    """

    TYPE: ClassVar[str] = "WriteResolved"
    OUTCOME: ClassVar[str] = "resolved"
    found: bool = False
    intercom_id: str = ""
    intercom_type: str = ""
    created: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


# --- dispositions ----------------------------------------------------------------------


@dataclass(frozen=True)
class RecordQuarantined(Event):
    """A source record cannot move until someone fixes it; ``reason`` says why."""

    TYPE: ClassVar[str] = "RecordQuarantined"
    content_hash: str = ""
    reason: str = ""

    @property
    def key(self) -> str:
        return keys.record_key("quarantined", self.object, self.source_id, self.content_hash)


@dataclass(frozen=True)
class RecordSkipped(Event):
    """A source record is deliberately not moved, by a rule; ``reason`` says which."""

    TYPE: ClassVar[str] = "RecordSkipped"
    content_hash: str = ""
    reason: str = ""

    @property
    def key(self) -> str:
        return keys.record_key("skipped", self.object, self.source_id, self.content_hash)


@dataclass(frozen=True)
class RecordMigrated(Event):
    """Every write of this version of a source record is done; it lives in Intercom."""

    TYPE: ClassVar[str] = "RecordMigrated"
    content_hash: str = ""
    intercom_id: str = ""
    intercom_type: str = ""
    note: str = ""

    @property
    def key(self) -> str:
        return keys.record_key("migrated", self.object, self.source_id, self.content_hash)


# --- run control -------------------------------------------------------------------------


@dataclass(frozen=True)
class RunStarted(Event):
    """A migrate, delta or rollback run began with these options."""

    TYPE: ClassVar[str] = "RunStarted"
    run: str = ""
    kind: str = "migrate"
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"run:{self.run}"


@dataclass(frozen=True)
class MigrationMarked(Event):
    """The mark of a migration, recorded once in its first generation's ledger.

    Random, not derived from the name: two migrations that share a name (in two ledger
    databases) never share a mark. Contacts carry it in their ``external_id``, so an
    in-doubt lookup can tell a contact this migration created from anyone else's.
    """

    TYPE: ClassVar[str] = "MigrationMarked"
    mark: str = ""

    @property
    def key(self) -> str:
        return "mark"


@dataclass(frozen=True)
class DeltaStarted(Event):
    """A cutover delta began from the given watermarks."""

    TYPE: ClassVar[str] = "DeltaStarted"
    capture: str = ""
    watermarks: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"delta:{self.capture}"


@dataclass(frozen=True)
class CutoverFrozen(Event):
    """The user froze Hesk at ``frozen_at`` (ISO-8601 UTC) for the cutover."""

    TYPE: ClassVar[str] = "CutoverFrozen"
    frozen_at: str = ""

    @property
    def key(self) -> str:
        return f"cutover:{self.frozen_at}"


@dataclass(frozen=True)
class RollbackStarted(Event):
    """A rollback began; ``run`` names it."""

    TYPE: ClassVar[str] = "RollbackStarted"
    run: str = ""

    @property
    def key(self) -> str:
        return f"rollback:{self.run}"


@dataclass(frozen=True)
class RollbackDeleted(Event):
    """An Intercom object this migration created was deleted (or found already gone)."""

    TYPE: ClassVar[str] = "RollbackDeleted"
    run: str = ""
    intent_key: str = ""
    intercom_id: str = ""
    intercom_type: str = ""
    already_gone: bool = False

    @property
    def key(self) -> str:
        return f"rollback:{self.run}:{self.intent_key}"


@dataclass(frozen=True)
class RollbackKept(Event):
    """A rollback left an object in Intercom on purpose; ``reason`` says why.

    Recorded for an object the ledger lists as created that the rollback finds is not
    this migration's after all (a contact without its mark, or an in-doubt create an older
    version settled by name alone): it leaves the plan, so it never blocks the rollback.
    """

    TYPE: ClassVar[str] = "RollbackKept"
    run: str = ""
    intent_key: str = ""
    intercom_id: str = ""
    intercom_type: str = ""
    reason: str = ""

    @property
    def key(self) -> str:
        return f"rollback-kept:{self.run}:{self.intent_key}"


@dataclass(frozen=True)
class RollbackCompleted(Event):
    """A rollback finished: every created object is gone (``kept``: left on purpose, why)."""

    TYPE: ClassVar[str] = "RollbackCompleted"
    run: str = ""
    counts: dict[str, int] = field(default_factory=dict)
    kept: list[dict[str, str]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"rollback-done:{self.run}"


@dataclass(frozen=True)
class GenerationStarted(Event):
    """A migration starts again after a completed rollback (see ledger.generations).

    Recorded as the first event of the new generation, with the conversation attributes
    the rollback archived (``[{"id", "source_id"}]``): the new generation restores and
    reuses them, since Intercom keeps an archived attribute's name taken.
    """

    TYPE: ClassVar[str] = "GenerationStarted"
    previous: str = ""
    archived_attributes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def key(self) -> str:
        return f"generation:{self.source_id}"


# --- what the run produced for people -----------------------------------------------------


@dataclass(frozen=True)
class VerifyCompleted(Event):
    """A ``verify`` read back a sample: what it compared and every difference it found.

    ``fields`` maps each compared field (per-part labels folded, e.g. ``reply.author_id``)
    to ``[compared, differing]``; ``as_of_seq`` is the ledger position it verified.
    """

    TYPE: ClassVar[str] = "VerifyCompleted"
    sample: int = 0
    as_of_seq: int = 0
    checked: dict[str, int] = field(default_factory=dict)
    ok: dict[str, int] = field(default_factory=dict)
    fields: dict[str, list[int]] = field(default_factory=dict)
    differences: list[dict[str, str]] = field(default_factory=list)
    limits: list[dict[str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> str:
        digest = content_hash([self.sample, self.checked, self.ok, self.differences])
        return f"verify:{self.as_of_seq}:{digest}"


@dataclass(frozen=True)
class WorkspaceIdentified(Event):
    """``GET /me`` named the Intercom workspace (its app id and region) the links point to."""

    TYPE: ClassVar[str] = "WorkspaceIdentified"
    app_id: str = ""
    region: str = ""

    @classmethod
    def from_me(cls, me: dict[str, Any], region: str = "us") -> WorkspaceIdentified | None:
        """The workspace ``GET /me`` answered (``app.id_code``, ``app.region``), if named."""
        app = me.get("app") or {}
        app_id = str(app.get("id_code") or "")
        if not app_id:
            return None
        named = str(app.get("region") or "").lower()
        return cls(
            object="intercom_app",
            source_id=app_id,
            app_id=app_id,
            region=named if named in ("us", "eu", "au") else region,
        )

    @property
    def key(self) -> str:
        return f"app:{self.app_id}:{self.region}"


@dataclass(frozen=True)
class ExportWritten(Event):
    """A file for people was written from the ledger (``source_id``: idmap or redirects)."""

    TYPE: ClassVar[str] = "ExportWritten"
    path: str = ""
    format: str = ""
    rows: int = 0
    as_of_seq: int = 0

    @property
    def key(self) -> str:
        return f"export:{self.source_id}:{self.format}:{self.as_of_seq}:{self.path}"
