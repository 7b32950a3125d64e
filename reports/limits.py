"""The honest limits a migration hit: what Intercom's API cannot do, counted from the ledger.

Each limit is a dict ``{"kind", "count", "text"}``; only limits with ``count > 0`` are
listed. The counts come from a few aggregate queries run inside PostgreSQL over captured
source records, distinct per record (``ledger.source_records``), so nothing is loaded into
memory.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from core.intercom_limits import PARTS_READ_BACK as READ_BACK_LIMIT
from ledger.source_records import count_long_threads, count_records_with


def _limit(kind: str, count: int, text: str) -> dict[str, Any]:
    return {"kind": kind, "count": count, "text": text}


def limits_hit(
    engine: Engine, migration_id: str, objects: dict[str, dict[str, int]]
) -> list[dict[str, Any]]:
    """The limits this migration ran into, given its per-object counts."""
    with engine.connect() as conn:
        long_threads = count_long_threads(conn, migration_id, READ_BACK_LIMIT)
        exported = count_records_with(conn, migration_id, "ticket", "fidelity", "export")
        private = count_records_with(conn, migration_id, "kb_article", "state", "private")
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
