"""The HTML report: self-contained, escaped, and showing totals that add up."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy.engine import Engine

from ledger.store import Ledger
from reports.html import group_by_reason, write_html_report
from reports.report import build_report
from tests.helpers.report_factories import capture, contact, migrated, quarantined, skipped, ticket

EVIL = "<script>alert('pwned')</script>"


def _report(engine: Engine, ledger: Ledger, migration_id: str) -> dict:
    migrated(ledger, ticket(1), "c1")
    migrated(ledger, ticket(2), "c2")
    quarantined(ledger, ticket(3), f"subject contains {EVIL}")
    quarantined(ledger, ticket(4), "requester has no valid email")
    quarantined(ledger, ticket(5), "requester has no valid email")
    skipped(ledger, ticket(6, anonymised=True), "anonymised ticket (GDPR)")
    capture(ledger, contact("jane@example.com"))
    return build_report(engine, migration_id)


def test_html_is_self_contained_and_escapes_hesk_data(
    engine: Engine, ledger: Ledger, migration_id: str, tmp_path: Path
) -> None:
    path = write_html_report(_report(engine, ledger, migration_id), tmp_path / "out" / "r.html")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#39;pwned&#39;)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<link" not in page and "@import" not in page


def test_html_shows_totals_groups_limits_and_next_steps(
    engine: Engine, ledger: Ledger, migration_id: str, tmp_path: Path
) -> None:
    page = write_html_report(_report(engine, ledger, migration_id), tmp_path / "r.html")
    page_text = page.read_text(encoding="utf-8")
    assert "7 = 2 migrated" in page_text  # the totals that add up
    assert "requester has no valid email" in page_text
    assert "Closing and assigning" in page_text  # a limit hit (tickets were migrated)
    assert "hesk2intercom verify" in page_text and "hesk2intercom migrate" in page_text
    assert "28.6 %" in page_text  # 2 of 7 migrated


def test_quarantine_groups_by_reason_with_counts() -> None:
    items = [
        {"object": "ticket", "source_id": "4", "reason": "no email"},
        {"object": "ticket", "source_id": "5", "reason": "no email"},
        {"object": "reply", "source_id": "9", "reason": "orphan"},
    ]
    groups = group_by_reason(items)
    assert groups[0] == {
        "object": "ticket",
        "reason": "no email",
        "count": 2,
        "source_ids": ["4", "5"],
    }
    assert groups[1]["count"] == 1
