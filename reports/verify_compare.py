"""Pure comparison of a source record with what Intercom answers for it (no I/O).

Expectations follow the mapping (docs/mapping.md) and the planner's conventions (mapping/plan.py,
mapping/text.py):

* the conversation: title = subject, ``created_at`` = the ticket's (its last change, or its
  first message's, when Hesk's date is zero), first message = the ticket's message as plain
  text (:func:`mapping.text.to_plain`), from the requester;
  state closed for Hesk status 3 (Resolved), else open; conversation attributes
  ``hesk_ticket_id`` and ``hesk_trackid``;
* parts, in chronological order: the first message's files (a contact part at the
  ticket's time), then replies and notes by ``(created_at, id)`` — staff replies as admin
  comments and notes as admin notes (sanitised HTML, :func:`mapping.text.sanitize_html`,
  possibly prefixed "Originally by NAME"), customer replies as contact comments (plain
  text); files that did not fit the part (10 files, request bytes) continue on files-only
  parts right after it, at the same time, so a message's files are compared together
  across its parts; one admin timeline note for the ticket history;
* management parts (close, assignment, open) are stamped at migration time: not compared.

Bodies are compared as words (:func:`intercom_api.lookups.normalise_body`): the expected
text must appear in the part read back (a prefix such as "Originally by NAME" is allowed).
Where Intercom's documented limits make a comparison impossible (500 parts read back,
export-file fidelity, article timestamps) a :class:`LimitNote` says so instead.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import PurePosixPath
from typing import Any

from hesk.records import AttachmentRef, KbArticle, Note, Reply, Ticket
from intercom_api.lookups import READ_BACK_LIMIT, normalise_body
from mapping.text import plain_to_html, sanitize_html, to_plain
from mapping.tickets import conversation_time

#: Conversation attributes every migrated ticket carries.
TICKET_ATTRIBUTES = ("hesk_ticket_id", "hesk_trackid")
#: Intercom article state for a Hesk article state (private has no equivalent: draft).
ARTICLE_STATES = {"published": "published", "private": "draft", "draft": "draft"}
_MESSAGE_PARTS = ("comment", "note")
_SHOWN = 160


@dataclass(frozen=True)
class Difference:
    """One field that differs between the source and Intercom."""

    object: str
    source_id: str
    intercom_id: str
    field: str
    expected: str
    actual: str


@dataclass(frozen=True)
class LimitNote:
    """A comparison not made because of a documented Intercom limit."""

    object: str
    source_id: str
    text: str


@dataclass(frozen=True)
class ExpectedPart:
    """One conversation part the migration should have written."""

    label: str
    author: str  # "admin" | "contact"
    part_type: str  # "comment" | "note"
    created_at: int | None
    text: str | None  # normalised words; None: a files-only part (matched by its files)
    attachments: tuple[str, ...] = ()  # every file of the message, across its parts
    author_id: str | None = None
    history: bool = False


@dataclass(frozen=True)
class TicketSource:
    """A ticket as captured, with its migrated children and resolved Intercom ids."""

    ticket: Ticket
    replies: tuple[Reply, ...] = ()
    notes: tuple[Note, ...] = ()
    migrated_attachments: frozenset[str] = frozenset()
    has_history: bool = False
    contact_ids: dict[str, str] = field(default_factory=dict)  # contact source_id -> id
    admin_ids: dict[str, str] = field(default_factory=dict)  # staff id -> admin id


@dataclass
class Comparison:
    """What one record's comparison found; ``fields``: per compared field (labels folded,
    :func:`field_name`), ``[compared, differing]``."""

    differences: list[Difference] = field(default_factory=list)
    limits: list[LimitNote] = field(default_factory=list)
    fields: dict[str, list[int]] = field(default_factory=dict)


def field_name(label: str) -> str:
    """A compared field's name without record ids: ``reply 12.author_id`` -> ``reply.author_id``."""
    return re.sub(r" \d+\b", "", label)


# --------------------------------------------------------------------------- helpers


def shown(value: Any) -> str:
    """A value as a short one-line string for a report."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def unix(at: datetime | None) -> int | None:
    """An aware datetime as Unix seconds."""
    return None if at is None else int(at.timestamp())


def file_name(name: str) -> str:
    """An attachment name without any directory part (how Intercom shows it)."""
    return PurePosixPath(str(name).replace("\\", "/")).name


def words(text: str | None) -> str:
    """Text or HTML reduced to its words for comparison."""
    return normalise_body(text)


def contains(actual: str | None, expected: str) -> bool:
    """True when the expected words appear in the actual body."""
    return expected in words(actual)


def author_kind(author: dict[str, Any] | None) -> str:
    """``admin``, ``contact`` (user/lead/contact) or ``other`` (bot, team…)."""
    kind = (author or {}).get("type")
    if kind == "admin":
        return "admin"
    return "contact" if kind in ("user", "lead", "contact") else "other"


def attachment_names(item: dict[str, Any]) -> tuple[str, ...]:
    """The file names attached to a part or a conversation source."""
    return tuple(sorted(file_name(a.get("name") or "") for a in item.get("attachments") or []))


def _names(refs: Iterable[AttachmentRef], migrated: frozenset[str]) -> list[str]:
    return [file_name(r.real_name) for r in refs if str(r.att_id) in migrated]


# --------------------------------------------------------------------------- expectations


def _message_parts(src: TicketSource) -> list[ExpectedPart]:
    items: list[tuple[int, int, int, ExpectedPart, list[str]]] = []
    for r in src.replies:
        at = unix(r.created_at)
        if r.author_type == "staff":
            exp = ExpectedPart(
                f"reply {r.source_id}",
                "admin",
                "comment",
                at,
                words(sanitize_html(r.message_html or plain_to_html(r.message_text))),
                author_id=src.admin_ids.get(str(r.staff_id)),
            )
        else:
            exp = ExpectedPart(
                f"reply {r.source_id}",
                "contact",
                "comment",
                at,
                words(to_plain(r.message_html) or r.message_text),
                author_id=src.contact_ids.get(r.author_contact_id or ""),
            )
        items.append((at or 0, 0, r.id, exp, _names(r.attachments, src.migrated_attachments)))
    for n in src.notes:
        at = unix(n.created_at)
        exp = ExpectedPart(
            f"note {n.source_id}",
            "admin",
            "note",
            at,
            words(sanitize_html(n.message_html)),
            author_id=src.admin_ids.get(str(n.staff_id)),
        )
        items.append((at or 0, 1, n.id, exp, _names(n.attachments, src.migrated_attachments)))
    return [
        replace(exp, attachments=tuple(sorted(names)))
        for *_order, exp, names in sorted(items, key=lambda i: i[:3])
    ]


def expected_parts(src: TicketSource) -> list[ExpectedPart]:
    """Every conversation part the migration should have written for this ticket, in order."""
    t = src.ticket
    requester = src.contact_ids.get(t.requester_contact_id or "")
    names = _names(t.attachments, src.migrated_attachments)
    out = (
        [
            ExpectedPart(
                "ticket files",
                "contact",
                "comment",
                conversation_time(t, src.replies, src.notes),
                None,
                tuple(sorted(names)),
                requester,
            )
        ]
        if names
        else []
    )
    out += _message_parts(src)
    if src.has_history:
        out.append(ExpectedPart("history note", "admin", "note", None, None, history=True))
    return out


# --------------------------------------------------------------------------- conversations


class _Diff:
    """Collects differences for one record."""

    def __init__(self, obj: str, source_id: str, intercom_id: str, out: Comparison) -> None:
        self.obj, self.source_id, self.intercom_id, self.out = obj, source_id, intercom_id, out

    def seen(self, name: str, *, differs: bool = False) -> None:
        counts = self.out.fields.setdefault(field_name(name), [0, 0])
        counts[0] += 1
        counts[1] += int(differs)

    def add(self, name: str, expected: Any, actual: Any) -> None:
        self.seen(name, differs=True)
        self.out.differences.append(
            Difference(
                self.obj, self.source_id, self.intercom_id, name, shown(expected), shown(actual)
            )
        )

    def compare(self, name: str, same: bool, expected: Any, actual: Any) -> None:
        if same:
            self.seen(name)
        else:
            self.add(name, expected, actual)

    def check(self, name: str, expected: Any, actual: Any) -> None:
        self.compare(name, expected == actual, expected, actual)

    def limit(self, text: str) -> None:
        self.out.limits.append(LimitNote(self.obj, self.source_id, text))


def _conversation_fields(src: TicketSource, conv: dict[str, Any], d: _Diff) -> None:
    t = src.ticket
    d.check("title", t.subject, conv.get("title"))
    d.check("created_at", conversation_time(t, src.replies, src.notes), conv.get("created_at"))
    d.check("state", "closed" if t.status == 3 else "open", conv.get("state"))
    source = conv.get("source") or {}
    body = words(to_plain(t.message_html) or t.message_text)
    d.compare(
        "first_message.body", contains(source.get("body"), body), body, words(source.get("body"))
    )
    author = source.get("author") or {}
    d.check("first_message.author", "contact", author_kind(author))
    requester = src.contact_ids.get(t.requester_contact_id or "")
    if requester:
        d.check("first_message.author_id", requester, str(author.get("id")))
    attributes = conv.get("custom_attributes") or {}
    for name, value in zip(TICKET_ATTRIBUTES, (str(t.id), t.trackid), strict=True):
        actual = attributes.get(name)
        d.check(f"custom_attributes.{name}", value, None if actual is None else str(actual))


def _within(names: Iterable[str], expected: Iterable[str]) -> bool:
    return not Counter(names) - Counter(expected)


def _matches(exp: ExpectedPart, part: dict[str, Any], *, timed: bool = True) -> bool:
    if author_kind(part.get("author")) != exp.author or part.get("part_type") != exp.part_type:
        return False
    if timed and part.get("created_at") != exp.created_at:
        return False
    if exp.text is not None:
        return contains(part.get("body"), exp.text)
    names = attachment_names(part)
    return bool(names) and _within(names, exp.attachments)


def _continuations(
    exp: ExpectedPart, parts: list[dict[str, Any]], first: int, used: set[int]
) -> list[int]:
    """The files-only parts right after ``parts[first]`` that carry the rest of its files:
    same author and time, a body that is the "Attachments…" label, files it expects."""
    head = parts[first]
    names = list(attachment_names(head))
    out: list[int] = []
    for j in range(first + 1, len(parts)):
        part = parts[j]
        more = attachment_names(part)
        if (
            j in used
            or not more
            or author_kind(part.get("author")) != author_kind(head.get("author"))
            or part.get("part_type") != head.get("part_type")
            or part.get("created_at") != head.get("created_at")
            or not words(part.get("body")).startswith("Attachments")
            or not _within([*names, *more], exp.attachments)
        ):
            break
        names += more
        out.append(j)
    return out


def _find(exp: ExpectedPart, parts: list[dict[str, Any]], used: set[int]) -> tuple[int, bool]:
    """Index of the part matching ``exp`` (-1 if none) and whether its time matched too."""
    for timed in (True, False):
        for i, part in enumerate(parts):
            if i not in used and _matches(exp, part, timed=timed):
                return i, timed
    return -1, False


def _compare_part(
    exp: ExpectedPart, part: dict[str, Any], files: list[str], timed: bool, d: _Diff
) -> None:
    d.compare(f"{exp.label}.created_at", timed, exp.created_at, part.get("created_at"))
    d.check(f"{exp.label}.attachments", list(exp.attachments), sorted(files))
    if exp.author_id:
        d.check(f"{exp.label}.author_id", exp.author_id, str((part.get("author") or {}).get("id")))


def _compare_parts(
    src: TicketSource,
    conv: dict[str, Any],
    d: _Diff,
    expected: list[ExpectedPart] | None = None,
    key: str = "conversation_parts",
) -> None:
    block = conv.get(key) or {}
    returned = block.get(key) or []
    parts = [p for p in returned if p.get("part_type") in _MESSAGE_PARTS]
    expected = expected_parts(src) if expected is None else expected
    total = int(block.get("total_count") or len(returned))
    truncated = total > len(returned) or len(expected) >= READ_BACK_LIMIT
    if truncated:
        d.limit(
            f"the conversation has {max(total, len(expected))} parts; Intercom returns only "
            f"the {READ_BACK_LIMIT} most recent (older parts are folded or cannot be read "
            "back), so only those were compared"
        )
        oldest = min((p.get("created_at") or 0 for p in parts), default=0)
        expected = [e for e in expected if not e.history and (e.created_at or 0) >= oldest]
    used: set[int] = set()
    missing = 0
    order: list[tuple[ExpectedPart, int]] = []
    for exp in expected:
        if exp.history:
            i = next(
                (
                    i
                    for i, p in enumerate(parts)
                    if i not in used
                    and author_kind(p.get("author")) == "admin"
                    and p.get("part_type") == "note"
                ),
                -1,
            )
            if i < 0:
                missing += 1
                d.add("history note", "an admin note with the ticket history", "missing")
            else:
                d.seen("history note")
                used.add(i)
            continue
        i, timed = _find(exp, parts, used)
        if i < 0:
            missing += 1
            d.add(exp.label, exp.text if exp.text is not None else list(exp.attachments), "missing")
            continue
        d.seen(exp.label)
        more = _continuations(exp, parts, i, used)
        used.update([i, *more])
        order.append((exp, i))
        files = [n for j in (i, *more) for n in attachment_names(parts[j])]
        _compare_part(exp, parts[i], files, timed, d)
    misordered = [
        (a, b)
        for (a, ia), (b, ib) in zip(order, order[1:], strict=False)
        if ia > ib and (a.created_at or 0) < (b.created_at or 0)
    ]
    if not misordered:
        d.seen("parts.order")
    for a, b in misordered:
        d.add("parts.order", f"{a.label} before {b.label}", f"{b.label} before {a.label}")
    if truncated:
        return
    d.check("parts.count", len(used) + missing, len(parts))
    if len(used) == len(parts):
        d.seen("parts.unexpected")
    for i, part in enumerate(parts):
        if i not in used:
            d.add(
                "parts.unexpected",
                "",
                f"{part.get('part_type')} by "
                f"{author_kind(part.get('author'))}: {words(part.get('body'))}",
            )


def compare_conversation(src: TicketSource, conv: dict[str, Any], intercom_id: str) -> Comparison:
    """Differences between a captured ticket (with its thread) and the conversation read."""
    out = Comparison()
    d = _Diff("ticket", src.ticket.source_id, intercom_id, out)
    _conversation_fields(src, conv, d)
    if src.ticket.fidelity == "export":
        d.limit(
            "read from a Hesk export file: it holds no notes or attachments, and "
            "replies are plain text"
        )
    _compare_parts(src, conv, d)
    return out


# --------------------------------------------------------------------------- articles


def compare_article(
    article: KbArticle,
    actual: dict[str, Any],
    intercom_id: str,
    *,
    author_id: str | None = None,
    collection_id: str | None = None,
) -> Comparison:
    """Differences between a captured KB article and the Intercom article read back."""
    out = Comparison()
    d = _Diff("kb_article", article.source_id, intercom_id, out)
    d.check("title", article.subject, actual.get("title"))
    d.check("state", ARTICLE_STATES.get(article.state, "draft"), actual.get("state"))
    body = words(sanitize_html(article.content_html))
    d.compare("body", contains(actual.get("body"), body), body, words(actual.get("body")))
    if author_id:
        d.check("author_id", author_id, str(actual.get("author_id")))
    if collection_id:
        parents = {str(p) for p in actual.get("parent_ids") or []}
        if actual.get("parent_id") is not None:
            parents.add(str(actual["parent_id"]))
        d.compare(
            "collection",
            collection_id in parents,
            collection_id,
            ", ".join(sorted(parents)) or "none",
        )
    return out
