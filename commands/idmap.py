"""``idmap``: one row per Hesk record with the Intercom object it became, or why not.

Derived from the ledger alone (:func:`ledger.idmap.idmap_rows` streams it record by
record) plus one ``GET /me`` for the inbox links; written as CSV (cells safe for
spreadsheets) or a JSON array, row by row, so memory stays flat whatever the size.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from commands.links import (
    identify_workspace,
    open_ledger,
    record_export,
    record_url,
    written_file,
)
from core.csvsafe import FORMULA_STARTS, safe_cell
from core.errors import ConfigError
from core.objects import OBJECTS, TICKET_TEMPLATE
from core.paths import writable_file
from core.settings import Settings
from ledger.idmap import IdMapRow, idmap_rows
from mapping.urls import Links
from reports.links import links_for

FORMATS = ("csv", "json")
#: The columns of the ID map, in order (docs/idmap-and-redirects.md describes each).
COLUMNS = (
    "object",
    "hesk_id",
    "tracking_id",
    "intercom_type",
    "intercom_id",
    "link",
    "disposition",
    "reason",
    "url",
)
#: Objects ``--object`` accepts: the report's, and ticket templates.
KNOWN_OBJECTS = (*OBJECTS, TICKET_TEMPLATE)


@dataclass(frozen=True)
class IdMapResult:
    """What ``idmap`` wrote."""

    path: Path
    rows: int
    counts: dict[str, int]
    links: Links


def row_values(row: IdMapRow, links: Links) -> tuple[str, ...]:
    """One ID-map row's cells, in :data:`COLUMNS` order."""
    return (
        row.object,
        row.source_id,
        row.tracking_id,
        row.intercom_type,
        row.intercom_id,
        row.link,
        row.state,
        row.reason,
        record_url(row, links),
    )


#: First characters that may make a cell a formula (core.csvsafe also skips leading spaces).
_RISKY = frozenset((*FORMULA_STARTS, " "))


class _CsvRows:
    def __init__(self, out: TextIO) -> None:
        self.writer = csv.writer(out, lineterminator="\n")
        self.writer.writerow(COLUMNS)

    def add(self, values: tuple[str, ...]) -> None:
        # Most cells are ids and our own words: only a risky first character needs a look.
        self.writer.writerow([safe_cell(v) if v[:1] in _RISKY else v for v in values])

    def close(self) -> None:
        pass


class _JsonRows:
    def __init__(self, out: TextIO) -> None:
        self.out, self.first = out, True
        out.write("[")

    def add(self, values: tuple[str, ...]) -> None:
        self.out.write("\n" if self.first else ",\n")
        self.first = False
        self.out.write(json.dumps(dict(zip(COLUMNS, values, strict=True)), ensure_ascii=False))

    def close(self) -> None:
        self.out.write("\n]\n")


def check_options(obj: str | None, fmt: str) -> None:
    """Raise ConfigError (exit 2) for an unknown object or format."""
    if fmt not in FORMATS:
        raise ConfigError(f"--format {fmt}: unknown format", hint="use csv or json")
    if obj is not None and obj not in KNOWN_OBJECTS:
        raise ConfigError(
            f"--object {obj}: unknown object", hint="use one of " + ", ".join(KNOWN_OBJECTS)
        )


def write_idmap(
    settings: Settings,
    out: Path,
    *,
    obj: str | None = None,
    fmt: str = "csv",
    app_id: str | None = None,
) -> IdMapResult:
    """Write the ID map of the configured migration to ``out``."""
    check_options(obj, fmt)
    writable_file(Path(out), "--out")
    engine, ledger = open_ledger(settings)
    try:
        links = links_for(engine, ledger, identify_workspace(settings, ledger, app_id=app_id))
        as_of = ledger.last_seq()
        counts: dict[str, int] = {}
        rows = 0
        with written_file(out) as handle:
            sink: Any = _CsvRows(handle) if fmt == "csv" else _JsonRows(handle)
            for row in idmap_rows(engine, ledger.migration_id, [obj] if obj else None):
                sink.add(row_values(row, links))
                counts[row.state] = counts.get(row.state, 0) + 1
                rows += 1
            sink.close()
        record_export(ledger, "idmap", out, fmt, rows, as_of)
    finally:
        engine.dispose()
    return IdMapResult(Path(out), rows, counts, links)
