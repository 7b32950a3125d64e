"""A ticket's Hesk history as one admin note: a dated timeline, unparsed items verbatim."""

from __future__ import annotations

from collections.abc import Sequence

from hesk.records import HistoryEntry
from mapping.text import escape

HISTORY_HEADER = (
    "<p><strong>Hesk ticket history</strong> (times in UTC). Intercom cannot replay "
    "assignments or status changes as events: the assignment and closing of this "
    "conversation carry the migration time.</p>"
)


def history_html(entries: Sequence[HistoryEntry]) -> str:
    """The note body: one list item per entry, ``YYYY-MM-DD HH:MM UTC — text``."""
    items: list[str] = []
    for e in sorted(entries, key=lambda e: e.index):
        if e.at is not None:
            items.append(f"<li>{e.at:%Y-%m-%d %H:%M} UTC — {escape(e.text.strip())}</li>")
        else:
            shown = e.raw.strip() or f"{e.raw_date} | {e.text}"
            items.append(f"<li>(date not understood) {escape(shown)}</li>")
    return HISTORY_HEADER + "<ul>" + "".join(items) + "</ul>"
