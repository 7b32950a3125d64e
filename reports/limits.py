"""The honest limits a migration hit: what Intercom's API cannot do, counted from the ledger.

Each limit is a dict ``{"kind", "count", "text"}``; only limits with ``count > 0`` are
listed. The counts come from a few aggregate queries run inside PostgreSQL (over captured
source records, distinct per record), so nothing is loaded into memory.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from ledger.events import SourceCaptured

#: Intercom returns at most this many parts of a conversation (API_NOTES §5.7, L10994).
READ_BACK_LIMIT = 500

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


def _records_with(conn: Connection, migration_id: str, obj: str, field: str, value: str) -> int:
    params = {"m": migration_id, "t": SourceCaptured.TYPE, "o": obj, "field": field, "value": value}
    return int(conn.execute(_RECORDS_WITH, params).scalar_one())


def _limit(kind: str, count: int, text: str) -> dict[str, Any]:
    return {"kind": kind, "count": count, "text": text}


def limits_hit(
    engine: Engine, migration_id: str, objects: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    """The limits this migration ran into, given its per-object counts."""
    with engine.connect() as conn:
        long_threads = int(
            conn.execute(
                _LONG_THREADS,
                {"m": migration_id, "t": SourceCaptured.TYPE, "limit": READ_BACK_LIMIT},
            ).scalar_one()
        )
        exported = _records_with(conn, migration_id, "ticket", "fidelity", "export")
        private = _records_with(conn, migration_id, "kb_article", "state", "private")
    tickets = objects.get("ticket", {}).get("migrated", 0)
    articles = objects.get("kb_article", {}).get("migrated", 0)
    found = [
        _limit(
            "close_assign_time",
            tickets,
            "Closing and assigning a conversation are stamped with the migration time: the "
            "API cannot back-date them. The original status changes and assignments are "
            "kept in each ticket's history note.",
        ),
        _limit(
            "history_as_note",
            tickets,
            "Ticket history (status changes, assignments, moves) cannot be replayed as "
            "native Intercom events; it is written as one internal timeline note per ticket.",
        ),
        _limit(
            "read_back_500",
            long_threads,
            f"Intercom returns only the {READ_BACK_LIMIT} most recent parts of a "
            "conversation: longer threads fold their oldest parts into one transcript note "
            "and can be verified by read-back only in part.",
        ),
        _limit(
            "export_fidelity",
            exported,
            "Tickets read from a Hesk export file have lower fidelity: no internal notes, "
            "no attachments, no knowledge base; replies are plain text (authors matched by "
            "name).",
        ),
        _limit(
            "article_timestamps",
            articles,
            "Articles carry the time they were migrated: the API cannot set an article's "
            "created or updated time.",
        ),
        _limit(
            "private_articles",
            private,
            "Private knowledge-base articles became drafts: Intercom articles are either "
            "published or draft.",
        ),
    ]
    return [item for item in found if item["count"] > 0]
