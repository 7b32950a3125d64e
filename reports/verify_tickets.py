"""Pure comparison of a captured Hesk ticket with the Intercom *ticket* read back (no I/O).

The expectations of the tickets target (mapping/ticket_target.py): title = the subject (cut
to Intercom's limit), description = the first message as plain text, ``created_at``, the
state and open flag the map gives the Hesk status, the ``hesk_ticket_id`` and
``hesk_trackid`` attributes, every other attribute the ticket should carry (priority,
category, custom fields that fit), the history attribute (or note); parts as for conversations,
except that files a customer sent (with the first message or a reply) are in admin notes
right after, and state changes are stamped at migration time (not compared).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from core.intercom_limits import TICKET_TITLE_MAX
from mapping.defaults import HISTORY_ATTR
from mapping.text import to_plain
from mapping.ticket_target import expected_attributes, marker, ticket_settings
from reports.verify_compare import (
    Comparison,
    ExpectedPart,
    TicketSource,
    _compare_parts,
    _Diff,
    contains,
    expected_parts,
    unix,
    words,
)


def ticket_expected_parts(src: TicketSource, history_note: bool) -> list[ExpectedPart]:
    """Every ticket part the migration should have written for this ticket, in order."""
    out: list[ExpectedPart] = []
    for exp in expected_parts(replace(src, has_history=False)):
        if exp.label == "ticket files":
            out.append(
                replace(
                    exp,
                    author="admin",
                    part_type="note",
                    author_id=None,
                    created_at=first_time(src),
                )
            )
        elif exp.author == "contact" and exp.attachments:
            out.append(replace(exp, attachments=()))
            out.append(
                ExpectedPart(
                    f"{exp.label} files", "admin", "note", exp.created_at, None, exp.attachments
                )
            )
        else:
            out.append(exp)
    if history_note and src.has_history:
        out.append(ExpectedPart("history note", "admin", "note", None, None, history=True))
    return out


def first_time(src: TicketSource) -> int | None:
    """The ticket's time as the planner sets it: created, else last changed (a zero date)."""
    t = src.ticket
    return unix(t.created_at) or unix(t.updated_at)


def expected_title(subject: str) -> str | None:
    """The title a subject becomes (None when empty)."""
    title = " ".join(subject.split())
    if len(title) > TICKET_TITLE_MAX:
        title = title[: TICKET_TITLE_MAX - 1].rstrip() + "…"
    return title or None


def compare_ticket(
    src: TicketSource, ticket: dict[str, Any], intercom_id: str, the_map: dict[str, Any]
) -> Comparison:
    """Differences between a captured Hesk ticket (with its thread) and the ticket read."""
    out = Comparison()
    d = _Diff("ticket", src.ticket.source_id, intercom_id, out)
    t = src.ticket
    attrs = ticket.get("ticket_attributes") or {}
    d.check("title", expected_title(t.subject), attrs.get("_default_title_"))
    if first_time(src) is not None:
        d.check("created_at", first_time(src), ticket.get("created_at"))
    body = words(to_plain(t.message_html) or t.message_text)
    if not contains(attrs.get("_default_description_"), body):
        d.add("description", body, words(attrs.get("_default_description_")))
    resolved = the_map.get("resolved") or {}
    state = (resolved.get("ticket_states") or {}).get(str(t.status))
    if state:
        d.check("state", str(state), str((ticket.get("ticket_state") or {}).get("id")))
    status: dict[str, Any] = next(
        (s for s in the_map.get("statuses") or () if str(s.get("hesk_id")) == str(t.status)), {}
    )
    closed = status.get("state") == "closed" if status else t.status == 3
    d.check("open", not closed, ticket.get("open"))
    actual_id = attrs.get("hesk_ticket_id")
    d.check(
        "ticket_attributes.hesk_ticket_id", str(t.id), None if actual_id is None else str(actual_id)
    )
    d.check("ticket_attributes.hesk_trackid", marker(t), attrs.get("hesk_trackid"))
    for name, value in expected_attributes(t, the_map).items():
        if name not in ("hesk_ticket_id", "hesk_trackid"):  # compared above
            d.check(f"ticket_attributes.{name}", value, attrs.get(name))
    requester = src.contact_ids.get(t.requester_contact_id or "")
    contacts = [str(c.get("id")) for c in (ticket.get("contacts") or {}).get("contacts") or []]
    if requester:
        d.check("contact", requester, ", ".join(contacts))
    history_note = ticket_settings(the_map)["history"] == "note"
    if src.has_history and not history_note and not attrs.get(HISTORY_ATTR):
        d.add(f"ticket_attributes.{HISTORY_ATTR}", "the Hesk history", "missing")
    if t.fidelity == "export":
        d.limit(
            "read from a Hesk export file: it holds no notes or attachments, and "
            "replies are plain text"
        )
    _compare_parts(src, ticket, d, ticket_expected_parts(src, history_note), "ticket_parts")
    return out
