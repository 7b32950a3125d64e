"""discover(): the exact public JSON shape, and readable Rich output."""

from __future__ import annotations

import io
import json

from rich.console import Console

from core.objects import OBJECTS
from hesk.discover import discover, render_discover


def test_discover_json_shape(demo, demo_records) -> None:
    reader = demo.reader()
    report = discover(reader)
    reader.close()
    assert set(report) == {"hesk_version", "counts", "attachments", "findings"}
    assert report["hesk_version"] == "3.7.8+"
    assert set(report["counts"]) == set(OBJECTS)
    assert all(isinstance(n, int) for n in report["counts"].values())
    assert report["counts"]["contact"] == len(demo_records["contact"])
    assert report["counts"]["ticket"] == demo.summary.tickets
    assert set(report["attachments"]) == {"files", "bytes", "missing"}
    assert report["attachments"]["missing"] == len(demo.summary.dirty["missing_attachment_file"])
    assert report["attachments"]["files"] == demo.summary.files_written
    assert report["attachments"]["bytes"] == demo.summary.bytes_written
    for f in report["findings"]:
        assert set(f) == {"kind", "object", "source_id", "detail"}
    kinds = {f["kind"] for f in report["findings"]}
    assert {
        "missing_email",
        "duplicate_email_case",
        "invalid_email",
        "invalid_encoding",
        "anonymised_ticket",
    } <= kinds
    json.dumps(report)
    out = io.StringIO()
    render_discover(report, Console(file=out, width=120))
    assert "Records to migrate" in out.getvalue() and "anonymised_ticket" in out.getvalue()
