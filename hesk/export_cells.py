"""The cells of a Hesk export: its times, and the replies cell split into replies.

Times. Hesk reads ticket and reply times (MySQL ``TIMESTAMP`` columns) in a session whose
``time_zone`` is the *fixed* UTC offset of the server's timezone at the moment of the
export (``SET time_zone = date('Z')``), then writes them without an offset. So every
``Date``/``Updated``/reply time of one file is UTC plus one offset, the one in force when
the export ran, whatever the season of the event. The export's own local time is in its
name (``hesk_export_<Y-m-d_H-i-s>_<digits>``), which gives that offset. History lines are
different: Hesk wrote them as text at the time of each event, in the wall-clock time of
that day; they are read with the timezone's rules for their own date. A wall-clock time
that occurs twice (the hour repeated when daylight saving ends) is read as its first
occurrence (``fold=0``), which is also how PHP's ``strtotime`` reads it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_EXPORT_NAME = re.compile(r"hesk_export_(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)_\d+")
_DATE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.\d+)?$")


class BadCell(ValueError):
    """A cell that is not what Hesk writes there; the message says what is wrong."""


def export_time(*names: str) -> datetime | None:
    """The local (naive) time an export was made, from the first name that carries it."""
    for name in names:
        found = _EXPORT_NAME.search(name or "")
        if found:
            return datetime.strptime(found.group(1), "%Y-%m-%d_%H-%M-%S")
    return None


@dataclass(frozen=True)
class ExportClock:
    """Turns the export's offset-less times into UTC instants.

    ``offset`` is the server's UTC offset when the export ran; None when unknown (the file
    was renamed): each time is then read as wall-clock time of its own date.
    """

    tz: ZoneInfo
    offset: timedelta | None

    @classmethod
    def for_export(cls, timezone: str, made_at: datetime | None) -> ExportClock:
        """The clock of an export made at local time ``made_at`` in ``timezone``."""
        tz = ZoneInfo(timezone)
        offset = made_at.replace(tzinfo=tz).utcoffset() if made_at else None
        return cls(tz, offset)

    def instant(self, value: str, column: str) -> datetime | None:
        """A ticket or reply time as UTC (None for an empty cell); BadCell if unreadable."""
        text = value.strip()
        if not text:
            return None
        found = _DATE.match(text)
        if not found:
            raise BadCell(f"{column} {text[:40]!r} is not a date")
        try:
            naive = datetime.strptime(found.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            raise BadCell(f"{column} {text[:40]!r} is not a date") from None
        if self.offset is not None:
            return (naive - self.offset).replace(tzinfo=UTC)
        return naive.replace(tzinfo=self.tz).astimezone(UTC)

    def local(self, at: datetime) -> str:
        """How Hesk writes instant ``at`` in this export (for the writer and tests)."""
        if self.offset is None:
            naive = at.astimezone(self.tz).replace(tzinfo=None)
        else:
            naive = at.astimezone(UTC).replace(tzinfo=None) + self.offset
            # PHP's strtotime + date() round trip moves a time in the skipped hour forward.
            naive = naive.replace(tzinfo=self.tz).astimezone(UTC).astimezone(self.tz)
            naive = naive.replace(tzinfo=None)
        return naive.strftime("%Y-%m-%dT%H:%M:%S.000")


@dataclass(frozen=True)
class RawReply:
    """One block of the replies cell, as written: author (not decoded), time, text."""

    author: str
    when: str
    text: str


def split_replies(cell: str, date_label: str, reply_by: str) -> list[RawReply]:
    """Split a replies cell into its blocks, in the file's order; BadCell if malformed.

    Each block is ``<reply_by> NAME\\n<date_label> TIME\\nTEXT\\n---\\n``. A ``---`` line
    inside a message is kept: a block ends only at a ``---`` line followed by the end of
    the cell or by the start of the next block.
    """
    text = cell.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        return []
    head = re.compile(r"(?P<by>[^\n]*)\n" + re.escape(date_label) + r" (?P<when>[^\n]*)\n")
    prefix = f"{reply_by} " if reply_by else ""
    out: list[RawReply] = []
    pos = 0
    while pos < len(text):
        found = head.match(text, pos)
        number = len(out) + 1
        if not found or not found.group("by").startswith(prefix):
            first = text[pos:].split("\n", 1)[0][:60]
            raise BadCell(
                f"reply {number} does not start with '{reply_by} NAME' and "
                f"'{date_label} TIME' lines (found {first!r})"
            )
        start = found.end()
        end = _block_end(text, start, head)
        if end < 0:
            raise BadCell(f"reply {number} does not end with a '---' line")
        out.append(
            RawReply(found.group("by")[len(prefix) :], found.group("when").strip(), text[start:end])
        )
        pos = end + len("\n---\n")
    return out


def _block_end(text: str, start: int, head: re.Pattern[str]) -> int:
    """Where the block's closing ``\\n---\\n`` starts (-1 if none)."""
    search = start - 1 if start > 0 and text.startswith("\n---\n", start - 1) else start
    while True:
        end = text.find("\n---\n", search)
        if end < 0:
            return -1
        after = end + len("\n---\n")
        if after >= len(text) or head.match(text, after):
            return end
        search = end + 1


def common_reply_label(first_lines: list[str]) -> str:
    """The words every reply block's first line starts with (an unknown ``Reply by``)."""
    if len(set(first_lines)) < 2:
        return ""
    words = [line.split(" ") for line in first_lines]
    shared: list[str] = []
    for column in zip(*words, strict=False):
        if len(set(column)) != 1:
            break
        shared.append(column[0])
    if len(shared) >= min(len(w) for w in words):
        shared = shared[:-1]  # keep at least one word of name
    return " ".join(shared)
