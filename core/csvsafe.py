"""CSV files people open in a spreadsheet: no cell we write can start a formula.

Hesk text (a canned response's title, a staff member's name) reaches CSV files we hand to
people. A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is run
as a formula by Excel, LibreOffice and Google Sheets (CSV injection), so such a text cell
is written with a leading ``'``, which spreadsheets show as text. Numbers are left as is.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: First characters a spreadsheet may read as the start of a formula (full-width forms too).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def safe_cell(value: Any) -> Any:
    """``value`` fit for a CSV cell: text that could start a formula gets a leading ``'``."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float):
        return value
    text = str(value)
    if text.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + text
    return text


def write_csv(path: Path, rows: Iterable[Mapping[str, Any]], fields: list[str]) -> Path:
    """Write ``rows`` (only ``fields``, in that order) as a UTF-8 CSV file of safe cells."""
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([safe_cell(name) for name in fields])
        for row in rows:
            writer.writerow([safe_cell(row.get(name)) for name in fields])
    return path
