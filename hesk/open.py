"""Open the configured Hesk source (database or export file), and resolve demo-data targets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from core.errors import ConfigError
from core.settings import Settings
from hesk.reader_base import SourceReader

DEFAULT_DEMO_URL = "mysql+pymysql://root@127.0.0.1:3306/hesk_demo"
DEFAULT_DEMO_ATTACHMENTS = Path("hesk_demo_attachments")


def open_source(settings: Settings, **kwargs: Any) -> SourceReader:
    """The configured Hesk source: the database at H2I_HESK_URL, else the export file at
    H2I_HESK_EXPORT_FILE. ``kwargs`` go to the database reader (e.g. ``batch_size``)."""
    if settings.hesk_url:
        from hesk.reader import HeskReader

        return HeskReader.from_settings(settings, **kwargs)
    if settings.hesk_export_file:
        from hesk.export_reader import ExportReader

        return ExportReader(settings.hesk_export_file, settings.hesk_timezone,
                            settings.hesk_date_format)
    raise ConfigError("no Hesk source is set",
                      hint="set H2I_HESK_URL (MySQL DSN) or H2I_HESK_EXPORT_FILE (export .zip)")


def demo_target(settings: Settings, database: str | None,
                attachments_dir: Path | None) -> tuple[str, Path]:
    """The database URL and attachments folder ``demo-data`` writes to."""
    url = make_url(settings.hesk_url or DEFAULT_DEMO_URL)
    if database:
        url = url.set(database=database)
    if not url.database:
        raise ConfigError("no database name for the demo data",
                          hint="pass --database NAME or put it in H2I_HESK_URL")
    folder = attachments_dir or settings.hesk_attachments_dir or DEFAULT_DEMO_ATTACHMENTS
    return url.render_as_string(hide_password=False), Path(folder)


def clean_attachments_dir(folder: Path) -> int:
    """Delete the regular files directly inside ``folder`` (nothing else); returns count."""
    removed = 0
    if folder.is_dir():
        for entry in folder.iterdir():
            if entry.is_file() and not entry.is_symlink():
                entry.unlink()
                removed += 1
    return removed
