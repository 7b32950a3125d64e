"""Queries over captured Hesk source records (``SourceCaptured`` payloads' ``record``).

The event store itself knows no payload shape; these queries do, and are named for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ledger.events import SourceCaptured

_LONG_THREADS = sa.text(
    "SELECT count(*) FROM ("
    " SELECT payload->'record'->>'ticket_id' AS ticket_id FROM events"
    " WHERE migration_id = :m AND type = :t AND object IN ('reply', 'note')"
    " GROUP BY 1 HAVING count(DISTINCT source_id) >= :limit) AS long_threads"
)
_RECORDS_WITH = sa.text(
    "SELECT count(DISTINCT source_id) FROM events"
    " WHERE migration_id = :m AND type = :t AND object = :o"
    " AND payload->'record'->>:field = :value"
)


def count_long_threads(conn: Connection, migration_id: str, parts: int) -> int:
    """How many captured tickets have at least ``parts`` distinct replies and notes."""
    params = {"m": migration_id, "t": SourceCaptured.TYPE, "limit": parts}
    return int(conn.execute(_LONG_THREADS, params).scalar_one())


def count_records_with(
    conn: Connection, migration_id: str, obj: str, field: str, value: str
) -> int:
    """How many captured records of ``obj`` have ``record[field] == value``."""
    params = {"m": migration_id, "t": SourceCaptured.TYPE, "o": obj, "field": field, "value": value}
    return int(conn.execute(_RECORDS_WITH, params).scalar_one())
