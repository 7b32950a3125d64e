"""The ID map: for every captured Hesk record, the Intercom object it became (or why not).

One query streams the events that matter, ordered by record (``object, source_id, seq``)
through a server-side cursor, and :func:`fold_record` folds each record's events as they
arrive, so memory holds one record at a time whatever the ledger's size. Only small fields
are read from the payloads (a ticket's tracking ids, an article's state, an outcome's ids
and recorded URL), never a whole captured record.

The state of a record follows the ``Dispositions`` projection exactly (reports/
projections.py): its newest captured version, settled migrated, quarantined or skipped, or
pending; once migrated, a version is not demoted by a later settlement of the same version.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

#: Records settled by linking an existing Intercom object, by the object linked.
LINKED_TYPES = {"staff": "admin", "category": "team", "custom_field": "conversation_attribute"}
#: Captured objects that are not Hesk records (the migration's own set-up unit).
NOT_HESK = ("workspace",)
_SETTLED = {"RecordMigrated": "migrated", "RecordQuarantined": "quarantined",
            "RecordSkipped": "skipped"}  # fmt: skip

# One row per event that the ID map needs; ``d`` is the few payload fields, by type.
_EVENTS = """
SELECT object, source_id, type,
  CASE type
    WHEN 'SourceCaptured' THEN jsonb_build_object(
      'h', payload->'content_hash',
      't', CASE WHEN object = 'ticket' THEN payload->'record'->'trackid' END,
      'm', CASE WHEN object = 'ticket' THEN payload->'record'->'merged_trackids' END,
      's', CASE WHEN object = 'kb_article' THEN payload->'record'->'state' END)
    WHEN 'WriteSucceeded' THEN jsonb_build_object(
      'i', payload->'intercom_id', 'y', payload->'intercom_type',
      'c', payload->'created', 'u', payload->'detail'->'url', 's', payload->'detail'->'state',
      'hu', payload->'detail' ? 'url')
    WHEN 'WriteResolved' THEN jsonb_build_object(
      'i', payload->'intercom_id', 'y', payload->'intercom_type', 'c', payload->'created')
    ELSE jsonb_build_object(
      'h', payload->'content_hash', 'r', payload->'reason',
      'i', payload->'intercom_id', 'y', payload->'intercom_type')
  END
FROM events
WHERE migration_id = %(m)s
  AND (type IN ('SourceCaptured', 'RecordMigrated', 'RecordQuarantined', 'RecordSkipped')
       OR (type = 'WriteSucceeded'
           AND (payload->>'intercom_type' <> '' OR payload->'detail' ? 'url'))
       OR (type = 'WriteResolved' AND payload->>'found' = 'true'
           AND payload->>'intercom_type' <> ''))
  {objects}
ORDER BY object COLLATE "C", source_id COLLATE "C", seq
"""


@dataclass
class IdMapRow:
    """One Hesk record and what it became in Intercom.

    ``link`` is ``created`` (this migration made the object) or ``matched`` (an existing
    object was found or linked), empty when nothing is in Intercom. ``url`` and
    ``public_state`` are what Intercom answered for articles and collections (the newest
    answer that carried them); ``hesk_state`` is the captured Hesk article state of the
    version in Intercom.
    """

    object: str
    source_id: str
    tracking_id: str = ""
    merged_tracking_ids: tuple[str, ...] = ()
    intercom_type: str = ""
    intercom_id: str = ""
    link: str = ""
    state: str = "pending"
    reason: str = ""
    url: str | None = None
    public_state: str | None = None
    hesk_state: str | None = None
    captured: bool = False


@dataclass
class _Fold:
    row: IdMapRow
    hash: str = ""
    settled: dict[str, tuple[str, str]] = field(default_factory=dict)
    article_states: dict[str, str] = field(default_factory=dict)
    migrated_hash: str = ""
    linked: bool = False
    creates: dict[str, tuple[bool, str]] = field(default_factory=dict)


def fold_record(obj: str, source_id: str, events: Iterable[tuple[str, dict[str, Any]]]) -> IdMapRow:
    """Fold one record's ``(type, fields)`` events, in seq order, into its ID-map row."""
    f = _Fold(IdMapRow(obj, source_id))
    row = f.row
    for kind, d in events:
        if kind == "SourceCaptured":
            row.captured = True
            f.hash = str(d.get("h") or "")
            if d.get("t") is not None:
                row.tracking_id = str(d["t"])
            row.merged_tracking_ids = tuple(str(t) for t in d.get("m") or ())
            if d.get("s") is not None:
                f.article_states[f.hash] = str(d["s"])
        elif kind in _SETTLED:
            _settle(f, _SETTLED[kind], d)
        elif kind == "WriteSucceeded":
            if d.get("y"):
                f.creates[str(d.get("i") or "")] = (bool(d.get("c")), str(d["y"]))
            if d.get("hu"):
                row.url = d.get("u")
                row.public_state = d.get("s") if d.get("s") is not None else row.public_state
        else:  # a WriteResolved that found the object
            f.creates[str(d.get("i") or "")] = (bool(d.get("c")), str(d.get("y") or ""))
    row.state, row.reason = f.settled.get(f.hash, ("pending", ""))
    row.hesk_state = f.article_states.get(f.migrated_hash) or f.article_states.get(f.hash)
    if row.intercom_id:
        if f.linked:
            row.link = "matched"
        elif row.intercom_id in f.creates:  # the unit's own create (or match) made it
            created, row.intercom_type = f.creates[row.intercom_id]
            row.link = "created" if created else "matched"
        else:  # settled by its parent's write (a part of a conversation)
            row.link = "created"
    return row


def _settle(f: _Fold, state: str, d: dict[str, Any]) -> None:
    digest = str(d.get("h") or "")
    before = f.settled.get(digest)
    if state == "migrated" or before is None or before[0] != "migrated":
        f.settled[digest] = (state, str(d.get("r") or ""))
    if state == "migrated":
        f.migrated_hash = digest
        f.row.intercom_id = str(d.get("i") or "")
        kind = str(d.get("y") or "")
        f.linked = kind == "linked"
        f.row.intercom_type = LINKED_TYPES.get(f.row.object, "") if f.linked else kind


def idmap_rows(
    engine: Engine, migration_id: str, objects: Sequence[str] | None = None,
    *, batch: int = 5000,
) -> Iterator[IdMapRow]:
    """Every captured Hesk record of a migration with what it became, streamed in
    ``(object, source_id)`` order (byte order), one record in memory at a time."""
    params: dict[str, Any] = {"m": migration_id}
    where = ""
    if objects is not None:
        where = "AND object = ANY(%(o)s)"
        params["o"] = list(objects)
    sql = _EVENTS.format(objects=where)
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=batch).exec_driver_sql(
            sql, params
        )
        current: tuple[str, str] | None = None
        pending: list[tuple[str, dict[str, Any]]] = []
        for obj, source_id, kind, fields in result:
            if (obj, source_id) != current:
                if current is not None:
                    yield from _emit(current, pending)
                current, pending = (obj, source_id), []
            pending.append((kind, fields))
        if current is not None:
            yield from _emit(current, pending)


def _emit(key: tuple[str, str], events: list[tuple[str, dict[str, Any]]]) -> Iterator[IdMapRow]:
    if key[0] in NOT_HESK:
        return
    row = fold_record(key[0], key[1], events)
    if row.captured:  # settled without a capture: not a Hesk record (built-in attributes)
        yield row


_PUBLIC_URL = """
SELECT payload->'detail'->>'url' FROM events
WHERE migration_id = %(m)s AND type = 'WriteSucceeded' AND payload->'detail' ? 'url'
  AND payload->'detail'->>'url' IS NOT NULL
ORDER BY seq DESC LIMIT 1
"""


def newest_public_url(engine: Engine, migration_id: str) -> str | None:
    """The newest article or collection URL Intercom answered in this migration, if any."""
    with engine.connect() as conn:
        return conn.exec_driver_sql(_PUBLIC_URL, {"m": migration_id}).scalar()


_COUNT = """
SELECT count(DISTINCT source_id) + coalesce(sum(jsonb_array_length(
         CASE WHEN object = 'ticket' THEN payload->'record'->'merged_trackids' END)), 0)
FROM events WHERE migration_id = %(m)s AND type = 'SourceCaptured' AND object = %(o)s
"""


def count_links(engine: Engine, migration_id: str, obj: str) -> int:
    """At most how many links one object's records can have (merged tracking ids count)."""
    with engine.connect() as conn:
        return int(conn.exec_driver_sql(_COUNT, {"m": migration_id, "o": obj}).scalar() or 0)
