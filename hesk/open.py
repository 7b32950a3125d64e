"""Open the configured Hesk source: the database, or a Hesk Cloud export file."""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError
from core.settings import Settings
from hesk.reader_base import SourceReader


def open_source(settings: Settings, **kwargs: Any) -> SourceReader:
    """The configured Hesk source: the database at H2I_HESK_URL, else the export file at
    H2I_HESK_EXPORT_FILE. ``kwargs`` go to the database reader (e.g. ``batch_size``)."""
    if settings.hesk_url:
        from hesk.reader import HeskReader

        return HeskReader.from_settings(settings, **kwargs)
    if settings.hesk_export_file:
        from hesk.export_reader import ExportReader

        return ExportReader(
            settings.hesk_export_file, settings.hesk_timezone, settings.hesk_date_format
        )
    raise ConfigError(
        "no Hesk source is set",
        hint="set H2I_HESK_URL (MySQL DSN) or H2I_HESK_EXPORT_FILE (export .zip)",
    )
