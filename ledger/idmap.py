"""The ID map: for every captured Hesk record, the Intercom object it became (or why not).

The record's state, reason and Intercom id come from the ``Dispositions`` projection table
(ledger/dispositions.py, caught up by the caller), so the ID map and the report always agree. Its
rows are streamed in key order through a server-side cursor, and each is completed by a
few indexed lookups made inside PostgreSQL, only where needed: a ticket's tracking ids and
an article's Hesk state from its captured version (by exact key), a unit's create outcome
(was the object created, or matched: a contact's 409, a linked admin or team) and an
article's or collection's public URL as Intercom answered it (by ``(object, source_id)``).
Replies, notes, attachments and history notes are parts of their ticket's conversation;
conversations are always created, never matched. Memory holds one row at a time.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from core.objects import TICKET_THREAD, WORKSPACE

#: Records settled by linking an existing Intercom object, by the object linked.
LINKED_TYPES = {"staff": "admin", "category": "team", "custom_field": "conversation_attribute"}
#: Records written as parts of their ticket's conversation, by the ticket's unit.
CHILDREN = TICKET_THREAD
#: Captured objects that are not Hesk records (the migration's own set-up unit).
NOT_HESK = (WORKSPACE,)

_ROWS = """
SELECT p.value->>'object', p.value->>'source_id', coalesce(p.value->>'state', 'pending'),
  coalesce(p.value->>'reason', ''), coalesce(p.value->>'intercom_id', ''),
  cap.trackid, cap.merged, cap.hesk_state, w.kind, w.created, pub.known, pub.url, pub.state
FROM projection_rows p
LEFT JOIN LATERAL (
  SELECT e.payload->'record'->>'trackid' AS trackid,
         e.payload->'record'->'merged_trackids' AS merged,
         e.payload->'record'->>'state' AS hesk_state
  FROM events e
  WHERE p.value->>'object' IN ('ticket', 'kb_article')
    AND e.migration_id = p.migration_id AND e.key = 'src:' || p.key || ':' || (p.value->>'hash')
  LIMIT 1  -- keeps the object test a one-time filter: no lookup for other records
) cap ON true
LEFT JOIN LATERAL (
  SELECT CASE e.type WHEN 'RecordMigrated' THEN 'linked' ELSE e.payload->>'intercom_type' END
           AS kind,
         (e.payload->>'created')::boolean AS created
  FROM events e
  WHERE p.value->>'object' <> ALL(%(direct)s) AND coalesce(p.value->>'intercom_id', '') <> ''
    AND e.migration_id = p.migration_id AND e.object = p.value->>'object'
    AND e.source_id = p.value->>'source_id'
    AND ((e.type IN ('WriteSucceeded', 'WriteResolved')
          AND e.payload->>'intercom_id' = p.value->>'intercom_id'
          AND e.payload->>'intercom_type' <> '')
         OR (e.type = 'RecordMigrated' AND e.payload->>'intercom_type' = 'linked'))
  ORDER BY e.seq DESC LIMIT 1
) w ON true
LEFT JOIN LATERAL (
  SELECT true AS known, e.payload->'detail'->>'url' AS url,
         e.payload->'detail'->>'state' AS state
  FROM events e
  WHERE p.value->>'object' IN ('kb_article', 'kb_category')
    AND e.migration_id = p.migration_id AND e.object = p.value->>'object'
    AND e.source_id = p.value->>'source_id' AND e.type = 'WriteSucceeded'
    AND e.payload->'detail' ? 'url'
  ORDER BY e.seq DESC LIMIT 1
) pub ON true
WHERE p.projection = 'dispositions' AND p.migration_id = %(m)s AND p.value ? 'captured'
  AND p.value->>'object' <> ALL(%(not_hesk)s) {objects}
ORDER BY p.key
"""
_TICKET_TYPE = """
SELECT payload->>'intercom_type' FROM events
WHERE migration_id = %(m)s AND object = 'ticket' AND type = 'WriteSucceeded'
  AND payload->>'intercom_type' <> ''
ORDER BY seq LIMIT 1
"""


@dataclass(slots=True)
class IdMapRow:
    """One Hesk record and what it became in Intercom.

    ``link`` is ``created`` (this migration made the object) or ``matched`` (an existing
    object was found or linked), empty when nothing is in Intercom. ``url`` and
    ``public_state`` are what Intercom answered for an article or collection (its newest
    answer that carried them; ``url_known`` False when none did); ``hesk_state`` is the
    captured Hesk state of an article.
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
    url_known: bool = False
    public_state: str | None = None
    hesk_state: str | None = None


def make_row(values: Sequence[Any], ticket_type: str = "conversation") -> IdMapRow:
    """One ID-map row from a result row of the query (pure)."""
    (
        obj,
        source_id,
        state,
        reason,
        intercom_id,
        trackid,
        merged,
        hesk_state,
        kind,
        created,
        known,
        url,
        public_state,
    ) = values
    row = IdMapRow(
        obj,
        source_id,
        trackid or "",
        tuple(str(t) for t in merged) if merged else (),
        "",
        intercom_id,
        "",
        state,
        reason,
        url,
        bool(known),
        public_state,
        hesk_state,
    )
    if not intercom_id:
        return row
    if row.object in CHILDREN:
        row.intercom_type, row.link = "conversation_part", "created"
    elif row.object == "ticket":
        row.intercom_type, row.link = ticket_type, "created"
    elif kind == "linked":
        row.intercom_type, row.link = LINKED_TYPES.get(row.object, ""), "matched"
    elif kind:
        row.intercom_type, row.link = str(kind), "created" if created else "matched"
    return row


def idmap_rows(
    engine: Engine,
    migration_id: str,
    objects: Sequence[str] | None = None,
    *,
    batch: int = 5000,
) -> Iterator[IdMapRow]:
    """Every captured Hesk record of a migration with what it became, streamed in the
    projection's key order (``object:source_id``), one row in memory at a time.

    Reads the ``Dispositions`` projection table as it stands: catch it up first.
    """
    params: dict[str, Any] = {
        "m": migration_id,
        "not_hesk": list(NOT_HESK),
        "direct": ["ticket", *CHILDREN],
    }
    where = ""
    if objects is not None:
        where = "AND p.value->>'object' = ANY(%(o)s)"
        params["o"] = list(objects)
    with engine.connect() as conn:
        ticket_type = conn.exec_driver_sql(_TICKET_TYPE, {"m": migration_id}).scalar()
        result = conn.execution_options(stream_results=True, yield_per=batch).exec_driver_sql(
            _ROWS.format(objects=where), params
        )
        for values in result:
            yield make_row(values, ticket_type or "conversation")


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
