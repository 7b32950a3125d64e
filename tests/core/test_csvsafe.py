"""CSV files we hand to people: no cell can start a spreadsheet formula."""

from __future__ import annotations

import csv
from pathlib import Path

from core.csvsafe import FORMULA_STARTS, safe_cell, write_csv
from reports.inventory import write_inventory

NASTY = ['=HYPERLINK("http://x","y")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx", "  =1+1", "＝1+1"]


def _cells(path: Path) -> list[str]:
    with path.open(newline="", encoding="utf-8") as f:
        return [cell for row in csv.reader(f) for cell in row]


def test_safe_cell_defuses_every_formula_start_and_keeps_plain_text() -> None:
    for value in NASTY:
        cell = safe_cell(value)
        assert cell.startswith("'") and cell[1:] == value
    assert safe_cell("Printer on fire") == "Printer on fire"
    assert safe_cell("a=b") == "a=b" and safe_cell(None) == "" and safe_cell(-3) == -3


def test_write_csv_cells_never_start_a_formula(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "x.csv", [{"a": v, "b": v} for v in NASTY], ["a", "b"])
    for cell in _cells(path):
        assert not cell.lstrip(" ").startswith(FORMULA_STARTS), cell


def test_inventory_csv_files_are_formula_safe(tmp_path: Path) -> None:
    inv = {
        "categories": [],
        "statuses": [],
        "priorities": [],
        "ticket_templates": [],
        "canned_responses": [
            {"id": i, "title": v, "text": v, "html": v} for i, v in enumerate(NASTY)
        ],
        "invite": [
            {"id": i, "name": v, "email": v, "admin": False, "active": True}
            for i, v in enumerate(NASTY)
        ],
    }
    _, replies, invite = write_inventory(inv, tmp_path / "inv")
    for path in (replies, invite):
        cells = _cells(path)
        assert len(cells) > len(NASTY)
        for cell in cells:
            assert not cell.lstrip(" ").startswith(FORMULA_STARTS), (path.name, cell)
    with replies.open(newline="", encoding="utf-8") as f:
        assert [r["title"] for r in csv.DictReader(f)] == ["'" + v for v in NASTY]
