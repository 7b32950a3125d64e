"""Open the configured Hesk source (used by the CLI)."""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError
from core.settings import Settings


def open_source(settings: Settings) -> Any:
    """A HeskReader for H2I_HESK_URL, else an ExportReader for H2I_HESK_EXPORT_FILE."""
    if settings.hesk_url:
        from hesk.reader import HeskReader

        return HeskReader.from_settings(settings)
    if settings.hesk_export_file:
        from hesk.export_reader import ExportReader

        return ExportReader(settings.hesk_export_file, settings.hesk_timezone,
                            settings.hesk_date_format)
    raise ConfigError("no Hesk source configured",
                      hint="set H2I_HESK_URL (MySQL DSN) or H2I_HESK_EXPORT_FILE (export .zip)")
