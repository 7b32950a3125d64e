"""HeskReader: stream every Hesk object as typed records, read-only and bounded in memory.

    reader = HeskReader(url, "hesk_", attachments_dir, "Europe/Ljubljana", "Y-m-d H:i:s")
    for record in reader.iter_all():          # dependency order, see DEPENDENCY_ORDER
        ...
    reader.findings                            # bad rows never stop the scan

Every stream is keyset-paginated (``WHERE id > :last ORDER BY id LIMIT :batch``); the
cheap helpers (:meth:`HeskReader.max_ids`, :meth:`HeskReader.id_set`,
:meth:`HeskReader.changed_ticket_ids`, :meth:`HeskReader.watermark`) serve the cutover delta.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

from core.objects import DEPENDENCY_ORDER
from core.settings import Settings
from hesk.attachment_records import iter_attachments
from hesk.catalog import iter_categories, iter_custom_fields, iter_staff
from hesk.contacts import iter_contacts
from hesk.db import to_utc
from hesk.errors import HeskError
from hesk.kb import iter_kb_articles, iter_kb_categories, iter_saved_texts
from hesk.reader_base import ReaderBase
from hesk.records import CannedResponse, HistoryEntry, Record, TicketTemplate
from hesk.replies import iter_notes, iter_replies
from hesk.tickets import iter_tickets

#: object name -> (table, id column) for the cheap id helpers.
ID_TABLES: dict[str, tuple[str, str]] = {
    "ticket": ("tickets", "id"),
    "reply": ("replies", "id"),
    "note": ("notes", "id"),
    "staff": ("users", "id"),
    "category": ("categories", "id"),
    "attachment": ("attachments", "att_id"),
    "kb_category": ("kb_categories", "id"),
    "kb_article": ("kb_articles", "id"),
    "canned_response": ("std_replies", "id"),
    "ticket_template": ("ticket_templates", "id"),
}


class HeskReader(ReaderBase):
    """Reads one Hesk database (read-only session, UTC) into records of ``hesk.records``.

    ``url`` is an SQLAlchemy MySQL URL, ``table_prefix`` Hesk's ``db_pfix``,
    ``attachments_dir`` the copied ``attachments/`` folder (None: files are not checked),
    ``timezone``/``date_format`` Hesk's settings, used to date ``history`` entries.
    """

    kind = "database"
    incremental = True
    tracks_deletions = True

    def not_held(self) -> dict[str, str]:
        """The database holds everything the migration moves."""
        return {}

    @classmethod
    def from_settings(cls, settings: Settings, **kwargs: Any) -> HeskReader:
        """A reader configured from ``H2I_HESK_*`` settings."""
        if not settings.hesk_url:
            from core.errors import ConfigError

            raise ConfigError(
                "H2I_HESK_URL is not set",
                hint="set H2I_HESK_URL=mysql+pymysql://USER@HOST:3306/hesk",
            )
        return cls(
            settings.hesk_url,
            settings.hesk_table_prefix,
            settings.hesk_attachments_dir,
            settings.hesk_timezone,
            settings.hesk_date_format,
            **kwargs,
        )

    def __enter__(self) -> HeskReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- streams ------------------------------------------------------------------------

    def _streams(self) -> dict[str, Callable[..., Iterator[Record]]]:
        return {
            "staff": lambda s, c: iter_staff(self, s),
            "category": lambda s, c: iter_categories(self, s),
            "custom_field": lambda s, c: iter_custom_fields(self, s),
            "contact": lambda s, c: iter_contacts(self, s),
            "ticket": lambda s, c: iter_tickets(self, s, c),
            "history": lambda s, c: self._iter_history(s, c),
            "reply": lambda s, c: iter_replies(self, s, c),
            "note": lambda s, c: iter_notes(self, s, c),
            "attachment": lambda s, c: iter_attachments(self, s),
            "kb_category": lambda s, c: iter_kb_categories(self, s),
            "kb_article": lambda s, c: iter_kb_articles(self, s),
            "canned_response": lambda s, c: iter_saved_texts(self, CannedResponse, s),
            "ticket_template": lambda s, c: iter_saved_texts(self, TicketTemplate, s),
        }

    def iter_records(
        self, object: str, *, since_id: int | None = None, changed_since: datetime | None = None
    ) -> Iterator[Record]:
        """Stream the records of one object name, in id order.

        ``since_id``: only ids greater than it (for contacts and history: ticket ids).
        ``changed_since``: tickets with ``lastchange`` at or after it; replies and notes
        with ``dt`` at or after it (Hesk keeps no edit time for them); ignored elsewhere.
        """
        streams = self._streams()
        if object not in streams:
            raise HeskError(f"unknown object {object!r}", hint="use one of: " + ", ".join(streams))
        yield from streams[object](since_id, changed_since)

    def _iter_history(
        self, since_id: int | None, changed_since: datetime | None
    ) -> Iterator[HistoryEntry]:
        for ticket in iter_tickets(self, since_id, changed_since):
            yield from ticket.history

    def iter_all(self) -> Iterator[Record]:
        """Every record of every migrated object, in dependency order."""
        for object in DEPENDENCY_ORDER:
            yield from self.iter_records(object)

    # -- cheap helpers for discover and the cutover delta --------------------------------

    def hesk_version(self) -> str | None:
        """The Hesk version range the schema shows (e.g. ``3.7.8+``), or None if unknown."""
        db = self.db
        if db.has_table("email_id_to_ticket") and "active" in db.columns("users"):
            reset = db.query(
                "SELECT CHARACTER_MAXIMUM_LENGTH AS n FROM information_schema.COLUMNS WHERE "
                "TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND COLUMN_NAME = 'hash'",
                (db.prefix + "reset_password",),
            )
            return "3.7.8+" if reset and int(reset[0]["n"] or 0) >= 64 else "3.7"
        if db.has_table("custom_priorities"):
            return "3.6"
        if self.has_customers:
            return "3.5"
        if "message_html" in db.columns("tickets"):
            return "3.2-3.4"
        if db.has_table("custom_fields"):
            return "2.7-3.1"
        return None

    def count(self, object: str) -> int:
        """Row count of an object's table (contacts and history are counted by streaming)."""
        if object in ID_TABLES:
            table, _ = ID_TABLES[object]
            if not self.db.has_table(table):
                return 0
            n = int(self.db.scalar(f"SELECT COUNT(*) FROM {self.db.t(table)}") or 0)
            if object == "attachment" and self.db.has_table("kb_attachments"):
                n += int(self.db.scalar(f"SELECT COUNT(*) FROM {self.db.t('kb_attachments')}") or 0)
            return n
        return sum(1 for _ in self.iter_records(object))

    def max_ids(self) -> dict[str, int]:
        """The highest id per object (0 if empty): the ``since_id`` marks of a capture."""
        out: dict[str, int] = {}
        for object, (table, key) in ID_TABLES.items():
            if self.db.has_table(table):
                out[object] = int(
                    self.db.scalar(f"SELECT MAX(`{key}`) FROM {self.db.t(table)}") or 0
                )
        return out

    def id_set(self, object: str) -> set[int]:
        """All ids of an object now present (compare with a capture to find deletions)."""
        table, key = ID_TABLES[object]
        ids: set[int] = set()
        for rows in self.db.keyset(table, f"`{key}`", key=key, batch=50_000):
            ids.update(int(r[key]) for r in rows)
        return ids

    def ticket_ids(self) -> set[int]:
        """All ticket ids now present."""
        return self.id_set("ticket")

    def watermark(self) -> datetime | None:
        """The newest ``tickets.lastchange`` (UTC): pass it as ``changed_since`` next time."""
        return to_utc(self.db.scalar(f"SELECT MAX(lastchange) FROM {self.db.t('tickets')}"))

    def changed_ticket_ids(self, since: datetime) -> list[int]:
        """Ids of tickets whose row changed at or after ``since`` (``lastchange``)."""
        naive = since.astimezone(UTC).replace(tzinfo=None)
        return [
            int(r["id"])
            for rows in self.db.keyset(
                "tickets", "id", where="`lastchange` >= %s", params=(naive,), batch=50_000
            )
            for r in rows
        ]
