"""The hand-over inventory, read from a real Hesk database."""

from __future__ import annotations

import csv
from pathlib import Path

from hesk.reader import HeskReader
from reports.inventory import build_inventory, write_inventory
from tests.helpers.hesk import HeskSource


def test_inventory_lists_what_to_rebuild(small_source: HeskSource, tmp_path: Path) -> None:
    with HeskReader(small_source.url) as reader:
        staff = [s for s in reader.iter_records("staff") if s.email]
        inv = build_inventory(reader, [s.email.upper() for s in staff[:-1]])
        n_canned = sum(1 for _ in reader.iter_records("canned_response"))
        n_categories = sum(1 for _ in reader.iter_records("category"))
    assert len(inv["categories"]) == n_categories
    assert any(c["autoassign"] for c in inv["categories"]) or inv["categories"]
    assert staff[-1].email in {s["email"] for s in inv["invite"]}  # no matching admin
    assert not {s.email for s in staff[:-1]} & {s["email"] for s in inv["invite"]}
    doc, replies, invite = write_inventory(inv, tmp_path / "inv")
    text = doc.read_text()
    assert "auto-assign" in text and "saved_replies.csv" in text and staff[-1].name in text
    with replies.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_canned and all(r["title"] for r in rows)
    with invite.open(newline="") as f:
        assert len(list(csv.DictReader(f))) == len(inv["invite"])
