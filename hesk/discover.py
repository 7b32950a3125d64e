"""Discover: the scope report of a Hesk source (counts, attachments, data-quality findings).

``discover(reader)`` returns EXACTLY this public JSON shape::

    {"hesk_version": str | None,
     "counts": {OBJECT: n},                 # every name in hesk.records.OBJECTS
     "attachments": {"files": n, "bytes": n, "missing": n},
     "findings": [{"kind", "object", "source_id", "detail"}]}

``contact`` counts distinct requesters/contacts (case-folded email, plus one per emailless
requester). ``render_discover(report, console)`` prints it as Rich tables.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table
from rich.text import Text

from hesk.records import OBJECTS, Attachment, Finding, Record, Ticket


class SourceReader(Protocol):
    """What discover needs from a reader (HeskReader or ExportReader)."""

    findings: list[Finding]

    def hesk_version(self) -> str | None:
        """The detected Hesk version, or None."""

    def iter_records(self, object: str) -> Any:
        """Stream the records of one object."""


def discover(reader: SourceReader) -> dict[str, Any]:
    """Scan every object once and build the discover report (public JSON contract)."""
    counts: Counter[str] = Counter({name: 0 for name in OBJECTS})
    files = size = missing = 0
    for object in OBJECTS:
        if object == "history":
            continue
        for record in reader.iter_records(object):
            counts[object] += 1
            if isinstance(record, Ticket):
                counts["history"] += 1  # one timeline per ticket, as the report counts it
            if isinstance(record, Attachment):
                if record.file_status == "missing":
                    missing += 1
                elif record.file_status in ("ok", "size_mismatch"):
                    files += 1
                    size += record.file_size or 0
    return {
        "hesk_version": reader.hesk_version(),
        "counts": {name: counts[name] for name in OBJECTS},
        "attachments": {"files": files, "bytes": size, "missing": missing},
        "findings": [f.to_dict() for f in reader.findings],
    }


def render_discover(report: dict[str, Any], console: Console) -> None:
    """Print a discover report as readable Rich tables (Hesk text always literal)."""
    console.print(Text.assemble(("Hesk version:", "bold"),
                                f" {report.get('hesk_version') or 'unknown'}"))
    counts = Table(title="Records to migrate")
    counts.add_column("object")
    counts.add_column("count", justify="right")
    for name, n in report["counts"].items():
        counts.add_row(Text(name), f"{n:,}")
    console.print(counts)
    att = report["attachments"]
    console.print(f"[bold]Attachment files:[/bold] {att['files']:,} "
                  f"({att['bytes']:,} bytes), missing: {att['missing']:,}")
    findings = report["findings"]
    by_kind = Counter(f["kind"] for f in findings)
    summary = Table(title=f"Data-quality findings ({len(findings):,})")
    summary.add_column("kind")
    summary.add_column("count", justify="right")
    summary.add_column("example")
    for kind, n in by_kind.most_common():
        example = next(f for f in findings if f["kind"] == kind)
        summary.add_row(Text(kind), str(n), Text(
            f"{example['object']} {example['source_id']}: {example['detail'][:70]}"))
    console.print(summary)


def dump_record(record: Record) -> dict[str, Any]:
    """A record as ``{"object", "source_id", "payload"}`` (for debugging output)."""
    return {"object": record.OBJECT, "source_id": record.source_id,
            "payload": record.to_payload()}
