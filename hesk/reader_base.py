"""The source interface every command reads through, and the database readers' shared state.

:class:`SourceReader` is what a Hesk source is to the rest of the engine: the database
reader (:class:`hesk.reader.HeskReader`) and the export-file reader
(:class:`hesk.export_reader.ExportReader`) both satisfy it, and
:func:`hesk.open.open_source` opens the configured one. Commands never ask which.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol, cast, runtime_checkable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from core.errors import ConfigError
from hesk.attachments import AttachmentFolder
from hesk.columns import SchemaLayout, check_schema
from hesk.db import LEGACY_KEY, HeskDB
from hesk.records import CustomFieldDefinition, Finding, R, Record, Staff


@runtime_checkable
class SourceReader(Protocol):
    """A Hesk source: records, findings, and the few facts capture and delta need.

    ``kind`` is ``database`` or ``export``. ``incremental``: ``iter_records`` honours
    ``since_id``/``changed_since`` cheaply (a delta reads only what changed); otherwise
    a delta reads the source whole and lets unchanged records be no-ops by key.
    ``tracks_deletions``: ``id_set`` can prove a record was deleted.
    """

    kind: str
    incremental: bool
    tracks_deletions: bool
    findings: list[Finding]

    @property
    def statuses(self) -> dict[int, str]:
        """Status code -> name."""

    @property
    def priorities(self) -> dict[int, str]:
        """Priority id -> name."""

    def hesk_version(self) -> str | None:
        """The detected Hesk version, or None."""

    def not_held(self) -> dict[str, str]:
        """What this source cannot hold, by object (or ``object.field``): what is lost."""

    def iter_records(
        self, object: str, *, since_id: int | None = None, changed_since: datetime | None = None
    ) -> Iterator[Record]:
        """Stream the records of one object."""

    def iter_all(self) -> Iterator[Record]:
        """Every record, in dependency order."""

    def max_ids(self) -> dict[str, int]:
        """The highest id per object (a capture's watermark)."""

    def watermark(self) -> datetime | None:
        """The newest ticket change (a capture's watermark)."""

    def count(self, object: str) -> int:
        """How many records of ``object`` the source has."""

    def id_set(self, object: str) -> set[int]:
        """Every id of ``object`` present now (only when ``tracks_deletions``)."""

    def close(self) -> None:
        """Release what the reader holds."""

    def __enter__(self) -> SourceReader: ...

    def __exit__(self, *exc: object) -> None: ...


def records_of(
    reader: SourceReader,
    cls: type[R],
    *,
    since_id: int | None = None,
    changed_since: datetime | None = None,
) -> Iterator[R]:
    """Stream the records of one class (the object ``cls.OBJECT``), typed as that class."""
    # Typing only: a reader yields the record class of the object it is asked for.
    records = reader.iter_records(cls.OBJECT, since_id=since_id, changed_since=changed_since)
    return cast(Iterator[R], records)


class ReaderBase:
    """Connection, settings, findings and small cached catalogs of one Hesk database."""

    def __init__(
        self,
        url: str,
        table_prefix: str = "hesk_",
        attachments_dir: str | Path | None = None,
        timezone: str = "UTC",
        date_format: str = "Y-m-d H:i:s",
        *,
        batch_size: int = 1000,
        large_message_bytes: int = 1_000_000,
    ) -> None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"H2I_HESK_TIMEZONE {timezone!r} is not a known timezone",
                hint="use an IANA name such as Europe/Ljubljana or UTC",
            ) from None
        self.timezone = timezone
        self.date_format = date_format
        self.batch_size = batch_size
        self.large_message_bytes = large_message_bytes
        self.folder = AttachmentFolder(attachments_dir) if attachments_dir else None
        self.findings: list[Finding] = []
        self._finding_keys: set[tuple[str, str, str, str]] = set()
        self.db = HeskDB(url, table_prefix)
        try:
            self.layout: SchemaLayout = check_schema(self.db)
        except Exception:
            self.db.close()
            raise

    @property
    def has_customers(self) -> bool:
        """True for Hesk 3.5+ customer accounts (see :mod:`hesk.columns`)."""
        return self.layout.customer_accounts

    # -- findings -------------------------------------------------------------------

    def add_finding(self, kind: str, object: str, source_id: Any, detail: str) -> None:
        """Record a data-quality finding once (duplicates are ignored)."""
        key = (kind, object, str(source_id), detail)
        if key not in self._finding_keys:
            self._finding_keys.add(key)
            self.findings.append(Finding(kind, object, str(source_id), detail))

    def note_legacy(self, row: dict[str, Any], object: str, source_id: Any) -> None:
        """Record an ``invalid_encoding`` finding if the row had non-UTF-8 text."""
        columns = row.get(LEGACY_KEY)
        if columns:
            self.add_finding(
                "invalid_encoding",
                object,
                source_id,
                "legacy (non-UTF-8 / double-encoded) text in " + ", ".join(columns),
            )

    # -- cached catalogs ------------------------------------------------------------

    @cached_property
    def staff(self) -> dict[int, Staff]:
        """Staff by id (bounded: hesk_users ids are smallint)."""
        from hesk.catalog import iter_staff

        return {s.id: s for s in iter_staff(self)}

    @cached_property
    def categories(self) -> dict[int, str]:
        """Category name by id."""
        from hesk.catalog import iter_categories

        return {c.id: c.name for c in iter_categories(self)}

    @cached_property
    def custom_fields(self) -> dict[int, CustomFieldDefinition]:
        """Enabled custom field definitions by field id."""
        from hesk.catalog import iter_custom_fields

        return {d.id: d for d in iter_custom_fields(self)}

    @cached_property
    def statuses(self) -> dict[int, str]:
        """Status names by code."""
        from hesk.catalog import status_names

        return status_names(self)

    @cached_property
    def priorities(self) -> dict[int, str]:
        """Priority names by id."""
        from hesk.catalog import priority_names

        return priority_names(self)

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()
