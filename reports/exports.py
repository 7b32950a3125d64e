"""The files for people a migration wrote (the ID map, redirects): where, and whether the
ledger moved on since; or the command that writes each."""

from __future__ import annotations

from typing import Any

from ledger.outputs import moved_since, newest_exports
from ledger.store import Ledger

#: What each file for people is, and the command that writes it.
EXPORTS = {
    "idmap": ("ID map", "hesk2intercom idmap --out idmap.csv"),
    "redirects": ("Redirects", "hesk2intercom redirects --hesk-url URL --out redirects.conf"),
}


def exports_summary(ledger: Ledger) -> dict[str, dict[str, Any]]:
    """The newest file written of each kind: path, format, rows, ledger position."""
    return {
        kind: {
            "path": e.path,
            "format": e.format,
            "rows": e.rows,
            "as_of_seq": e.as_of_seq,
            "stale": moved_since(ledger, e.as_of_seq),
        }
        for kind, e in newest_exports(ledger).items()
    }


def export_lines(exports: dict[str, dict[str, Any]]) -> list[str]:
    """One line per file for people: where it was written, or how to write it."""
    lines = []
    for kind, (title, command) in EXPORTS.items():
        found = exports.get(kind)
        if found is None:
            lines.append(f"{title}: run `{command}`")
            continue
        stale = " (written before the last changes: write it again)" if found["stale"] else ""
        lines.append(f"{title}: {found['path']} ({found['rows']} rows){stale}")
    return lines
