"""Discover: the scope report of a Hesk source (counts, attachments, data-quality findings).

``discover(reader)`` returns EXACTLY this public JSON shape::

    {"hesk_version": str | None,
     "counts": {OBJECT: n},                 # every name in core.objects.OBJECTS
     "attachments": {"files": n, "bytes": n, "missing": n},
     "findings": [{"kind", "object", "source_id", "detail"}],
     "not_in_source": [{"object", "what", "reason"}]}   # only when the source cannot
                                                         # hold something (an export)

``contact`` counts distinct requesters/contacts (case-folded email, plus one per emailless
requester). ``render_discover(report, console)`` prints it as Rich tables.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from core.objects import OBJECTS
from hesk.reader_base import SourceReader
from hesk.records import Attachment, Record, Ticket


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
    report: dict[str, Any] = {
        "hesk_version": reader.hesk_version(),
        "counts": {name: counts[name] for name in OBJECTS},
        "attachments": {"files": files, "bytes": size, "missing": missing},
        "findings": [f.to_dict() for f in reader.findings],
    }
    absent = not_in_source(reader)
    if absent:
        report["not_in_source"] = absent
    return report


def not_in_source(reader: SourceReader) -> list[dict[str, str]]:
    """What the source cannot hold, one entry per object (or ``object.field``)."""
    reason = "not in a Hesk export file" if reader.kind == "export" else "not in the source"
    return [
        {"object": key.split(".")[0], "what": what, "reason": reason}
        for key, what in reader.not_held().items()
    ]


def render_discover(report: dict[str, Any], console: Console) -> None:
    """Print a discover report as readable Rich tables (Hesk text always literal)."""
    console.print(
        Text.assemble(("Hesk version:", "bold"), f" {report.get('hesk_version') or 'unknown'}")
    )
    counts = Table(title="Records to migrate")
    counts.add_column("object")
    counts.add_column("count", justify="right")
    for name, n in report["counts"].items():
        counts.add_row(Text(name), f"{n:,}")
    console.print(counts)
    att = report["attachments"]
    console.print(
        f"[bold]Attachment files:[/bold] {att['files']:,} "
        f"({att['bytes']:,} bytes), missing: {att['missing']:,}"
    )
    for item in report.get("not_in_source") or ():
        console.print(
            f"[yellow]not migrated[/yellow] {item['object']}: {item['what']} ({item['reason']})",
            highlight=False,
        )
    findings = report["findings"]
    by_kind = Counter(f["kind"] for f in findings)
    summary = Table(title=f"Data-quality findings ({len(findings):,})")
    summary.add_column("kind")
    summary.add_column("count", justify="right")
    summary.add_column("example")
    for kind, n in by_kind.most_common():
        example = next(f for f in findings if f["kind"] == kind)
        summary.add_row(
            Text(kind),
            str(n),
            Text(f"{example['object']} {example['source_id']}: {example['detail'][:70]}"),
        )
    console.print(summary)


def dump_record(record: Record) -> dict[str, Any]:
    """A record as ``{"object", "source_id", "payload"}`` (for debugging output)."""
    return {"object": record.OBJECT, "source_id": record.source_id, "payload": record.to_payload()}
