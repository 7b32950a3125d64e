"""What ``idmap`` and ``redirects`` share: the migration's ledger, the workspace's links,
and the record of each file written.

The only Intercom call is one ``GET /me`` (the workspace's app id and region, for inbox
links), recorded as ``WorkspaceIdentified`` so ``report`` can build the same links later
without a token. Every file is written beside its final name and renamed into place, so a
crash never leaves half a file, and recorded as ``ExportWritten``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from sqlalchemy.engine import Engine

from core.errors import ConfigError
from core.paths import writable_file
from core.settings import Settings
from ledger.database import open_engine
from ledger.dispositions import Dispositions
from ledger.events import ExportWritten, WorkspaceIdentified
from ledger.generations import active_generation
from ledger.idmap import IdMapRow
from ledger.outputs import has_captures, recorded_workspace
from ledger.projections import ProjectionTable
from ledger.store import Ledger
from mapping.urls import INBOX_TYPES, Links, derived_public_url


class NothingCaptured(ConfigError):
    """The migration has no captured record: there is nothing to map."""


def open_ledger(settings: Settings) -> tuple[Engine, Ledger]:
    """The engine and the active generation's ledger of the configured migration, with its
    ``Dispositions`` projection caught up (the ID map reads it)."""
    engine = open_engine(settings.ledger_url)
    gen = active_generation(engine, settings.migration)
    ledger = Ledger(engine, gen.ledger_id)
    if not has_captures(ledger):
        engine.dispose()
        hint = (
            "it was rolled back; run `hesk2intercom migrate` first"
            if gen.previous_id
            else "check H2I_MIGRATION, or run `hesk2intercom migrate`"
        )
        raise NothingCaptured(
            f"migration {settings.migration!r} has captured nothing from Hesk yet", hint=hint
        )
    ProjectionTable(engine, ledger.migration_id, Dispositions()).catch_up()
    return engine, ledger


def identify_workspace(
    settings: Settings, ledger: Ledger, *, app_id: str | None = None
) -> WorkspaceIdentified:
    """The workspace's app id and region: ``app_id`` if given, else ``GET /me`` (once),
    else the one recorded earlier; recorded in the ledger."""
    found: WorkspaceIdentified | None = None
    if app_id:
        found = WorkspaceIdentified(
            object="intercom_app", source_id=app_id, app_id=app_id, region=settings.intercom_region
        )
    elif settings.token_value():
        from commands.workspace import client_for  # noqa: PLC0415 (loads the HTTP client)

        with client_for(settings) as client:
            found = WorkspaceIdentified.from_me(client.me(), settings.intercom_region)
    if found is None:
        known = recorded_workspace(ledger)
        if known is None:
            raise ConfigError(
                "the workspace's app id is needed for inbox links",
                hint="set H2I_INTERCOM_TOKEN (one GET /me is made), or pass --app-id",
            )
        return known
    ledger.append_one(found)
    return found


@contextmanager
def written_file(path: Path) -> Iterator[TextIO]:
    """A text file written beside ``path`` and renamed onto it when the block succeeds
    (``path`` is checked first: ``--out`` must name a file we can write)."""
    path = writable_file(Path(path), "--out")
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("w", encoding="utf-8", newline="") as out:
            yield out
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def record_export(
    ledger: Ledger, kind: str, path: Path, fmt: str, rows: int, as_of_seq: int
) -> None:
    """Record that a file for people was written (``status`` and ``report`` point to it)."""
    ledger.append_one(
        ExportWritten(
            object="export",
            source_id=kind,
            path=str(Path(path).resolve()),
            format=fmt,
            rows=rows,
            as_of_seq=as_of_seq,
        )
    )


def article_published(row: IdMapRow) -> bool:
    """Whether an article is published in Intercom (as answered, else as planned from Hesk)."""
    if row.url_known and row.public_state is not None:
        return row.public_state == "published"
    return row.hesk_state == "published"


def public_url(row: IdMapRow, links: Links) -> str | None:
    """An article's or collection's public URL: as answered, else derived."""
    if row.url:
        return row.url
    if links.help_center and row.intercom_id:
        return derived_public_url(links.help_center, row.intercom_type, row.intercom_id)
    return None


def record_url(row: IdMapRow, links: Links) -> str:
    """Where a Hesk record now lives in Intercom ("" when nowhere, or not linkable).

    Quarantined and skipped records have no URL, even when an earlier version was moved.
    """
    if row.state in ("quarantined", "skipped") or not row.intercom_id:
        return ""
    if row.intercom_type in INBOX_TYPES:
        return links.inbox(row.intercom_id) or ""
    if row.intercom_type == "article" and not article_published(row):
        return ""
    if row.intercom_type in ("article", "collection"):
        return public_url(row, links) or ""
    return ""
