"""The ``history`` column: ``<li class="smaller">DATE | TEXT</li>`` items -> dated entries.

DATE is PHP ``date($format)`` in the help desk's timezone (no offset), TEXT a language
string (docs/hesk-source.md, "How Hesk stores its data"). Parsed like Hesk's
``getTicketHistory``: split on ``</li>``, strip ``<li class="smaller">``, split on the
first `` | ``. An entry whose date cannot be parsed is kept verbatim with ``at=None``;
nothing is dropped.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

from hesk.records import HistoryEntry
from hesk.text import decode_entities

_PHP_TO_STRPTIME = {
    "d": "%d", "j": "%d", "m": "%m", "n": "%m", "Y": "%Y", "y": "%y",
    "H": "%H", "G": "%H", "h": "%I", "g": "%I", "i": "%M", "s": "%S",
    "A": "%p", "a": "%p", "M": "%b", "F": "%B", "D": "%a", "l": "%A",
}  # fmt: skip
_LI_OPEN = re.compile(r'^\s*<li\s+class="smaller">', re.I)


@cache
def php_to_strptime(php_format: str) -> str:
    """Translate a PHP ``date()`` format (e.g. ``Y-m-d H:i:s``) into a strptime format."""
    out: list[str] = []
    escaped = False
    for ch in php_format:
        if escaped:
            out.append("%%" if ch == "%" else ch)
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in _PHP_TO_STRPTIME:
            out.append(_PHP_TO_STRPTIME[ch])
        else:
            out.append("%%" if ch == "%" else ch)
    return "".join(out)


def parse_local_date(value: str, php_format: str, timezone: str) -> datetime | None:
    """A history date string as an aware UTC datetime, or None if it does not parse."""
    try:
        naive = datetime.strptime(value.strip(), php_to_strptime(php_format))
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def split_items(history: str) -> list[str]:
    """The raw ``<li>`` items of a history value, in order (empty items dropped)."""
    return [item for item in history.split("</li>") if item.strip()]


def parse_history(
    history: str,
    *,
    parent_object: str,
    parent_id: int,
    timezone: str = "UTC",
    date_format: str = "Y-m-d H:i:s",
) -> tuple[HistoryEntry, ...]:
    """Parse a whole ``history`` value into :class:`HistoryEntry` records, in order."""
    prefix = "kb:" if parent_object == "kb_article" else ""
    entries: list[HistoryEntry] = []
    for index, item in enumerate(split_items(history)):
        body = _LI_OPEN.sub("", item, count=1)
        date_part, sep, text = body.partition(" | ")
        at = parse_local_date(date_part, date_format, timezone) if sep else None
        if at is None:
            raw_date, text = ("", body) if not sep else (date_part.strip(), text)
        else:
            raw_date = date_part.strip()
        entries.append(
            HistoryEntry(
                source_id=f"{prefix}{parent_id}:{index}",
                parent_object=parent_object,
                parent_id=parent_id,
                index=index,
                at=at,
                raw_date=raw_date,
                text=decode_entities(text.strip()),
                raw=item + "</li>",
            )
        )
    return tuple(entries)


def format_local_date(at: datetime, php_format: str, timezone: str) -> str:
    """Format a UTC instant as Hesk would write it in history (for demo data and tests)."""
    return at.astimezone(ZoneInfo(timezone)).strftime(php_to_strptime(php_format))
