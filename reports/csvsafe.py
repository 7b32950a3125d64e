"""CSV cells that a spreadsheet opens as text, never as a formula (CSV injection).

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some
spreadsheets skip before one) is run as a formula by Excel, LibreOffice and Google Sheets.
Such a cell gets a leading apostrophe, which they show as text; every other cell is kept as
it is. Hesk data (names, subjects, e-mail addresses, reasons) goes through this before it
reaches any CSV file the tool writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: First characters that make a spreadsheet read a cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` itself, or, for text a spreadsheet would run as a formula, ``'`` + text."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """Every cell of a row made safe."""
    return [safe_cell(v) for v in values]
