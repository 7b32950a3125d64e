"""Compare two Intercom workspaces by content, not by the ids the simulator handed out."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

#: Parts stamped with the migration's own time (Intercom cannot back-date them).
UNDATED = {"close", "open", "assignment", "snoozed", "ticket_state_updated_by_admin"}


def _author(author: dict[str, Any] | None) -> tuple[str, str]:
    author = author or {}
    return (str(author.get("type")), str(author.get("email") or author.get("name") or ""))


#: The migration's mark at the end of a contact's external_id (ledger.marks): one per run.
_MARK = re.compile(r":m[0-9a-f]{10}$")


def _unmarked(external_id: Any) -> str:
    """An external_id with its migration's mark made generic (two runs, two marks)."""
    return _MARK.sub(":<mark>", str(external_id))


def _name(collections: dict[str, Any], collection_id: Any) -> str:
    return str(collections.get(str(collection_id), {}).get("name", "?"))


def normalise(dump: dict[str, Any]) -> dict[str, Any]:
    """The workspace's content in a form where equal content compares equal."""
    teams = {str(t["id"]): t["name"] for t in dump.get("teams", [])}
    collections = {str(c["id"]): c for c in dump.get("collections", [])}
    contacts = sorted(
        (
            _unmarked(c.get("external_id")),
            str(c.get("email")),
            str(c.get("name")),
            str(c.get("role")),
        )
        for c in dump["contacts"]
    )
    conversations = []
    for conv in dump["conversations"]:
        source = conv.get("source") or {}
        parts = conv["conversation_parts"]["conversation_parts"]
        conversations.append(
            (
                str((conv.get("custom_attributes") or {}).get("hesk_ticket_id")),
                conv.get("title"),
                conv.get("created_at"),
                conv.get("state"),
                source.get("body"),
                _author(source.get("author")),
                sorted((conv.get("custom_attributes") or {}).items()),
                teams.get(str(conv.get("team_assignee_id"))),
                [
                    (
                        p.get("part_type"),
                        _author(p.get("author")),
                        p.get("body"),
                        None if p.get("part_type") in UNDATED else p.get("created_at"),
                        [a.get("name") for a in p.get("attachments") or []],
                    )
                    for p in parts
                ],
            )
        )
    conversations.sort(key=lambda c: (c[0], str(c[2])))
    tickets = []
    for ticket in dump.get("tickets", []):
        attrs = ticket.get("ticket_attributes") or {}
        tickets.append(
            (
                str(attrs.get("hesk_ticket_id")),
                sorted(attrs.items()),
                ticket.get("created_at"),
                ticket["ticket_state"]["internal_label"],
                ticket.get("open"),
                teams.get(str(ticket.get("team_assignee_id"))),
                sorted(str(t.get("name")) for t in ticket.get("tags") or []),
                [
                    (
                        p.get("part_type"),
                        _author(p.get("author")),
                        p.get("body"),
                        None if p.get("part_type") in UNDATED else p.get("created_at"),
                        [a.get("name") for a in p.get("attachments") or []],
                    )
                    for p in ticket["ticket_parts"]["ticket_parts"]
                ],
            )
        )
    tickets.sort(key=lambda t: (t[0], str(t[2])))
    articles = sorted(
        (
            a.get("title"),
            a.get("state"),
            a.get("body"),
            tuple(sorted(_name(collections, p) for p in a.get("parent_ids") or [])),
        )
        for a in dump["articles"]
    )
    return {
        "contacts": contacts,
        "conversations": conversations,
        "tickets": tickets,
        "ticket_types": sorted(
            (t["name"], tuple(sorted(a["name"] for a in t["ticket_type_attributes"]["data"])))
            for t in dump.get("ticket_types", [])
        ),
        "articles": articles,
        "collections": sorted(
            (c["name"], collections.get(str(c.get("parent_id")), {}).get("name"))
            for c in dump["collections"]
        ),
        "conversation_attributes": sorted(a["name"] for a in dump["conversation_attributes"]),
        "tags": sorted(t["name"] for t in dump["tags"]),
    }


def duplicates(dump: dict[str, Any]) -> dict[str, list[Any]]:
    """Anything that exists twice: contacts by email/external id, conversations by ticket,
    parts by (author, time, body) within a conversation, articles by title and body."""
    found: dict[str, list[Any]] = {}
    emails = Counter(str(c.get("email")).casefold() for c in dump["contacts"] if c.get("email"))
    found["contacts"] = [e for e, n in emails.items() if n > 1]
    tickets = Counter(
        str((c.get("custom_attributes") or {}).get("hesk_ticket_id")) for c in dump["conversations"]
    )
    found["conversations"] = [t for t, n in tickets.items() if n > 1]
    parts = []
    for conv in dump["conversations"]:
        seen = Counter(
            (_author(p.get("author")), p.get("created_at"), p.get("body"))
            for p in conv["conversation_parts"]["conversation_parts"]
            if p.get("part_type") not in UNDATED
        )
        parts += [(conv["id"], k) for k, n in seen.items() if n > 1]
    ticket_ids = Counter(
        str((t.get("ticket_attributes") or {}).get("hesk_ticket_id"))
        for t in dump.get("tickets", [])
    )
    found["tickets"] = [t for t, n in ticket_ids.items() if n > 1]
    for ticket in dump.get("tickets", []):
        seen = Counter(
            (_author(p.get("author")), p.get("created_at"), p.get("body"))
            for p in ticket["ticket_parts"]["ticket_parts"]
            if p.get("part_type") not in UNDATED
        )
        parts += [(ticket["id"], k) for k, n in seen.items() if n > 1]
    found["parts"] = parts
    titles = Counter((a.get("title"), a.get("body")) for a in dump["articles"])
    found["articles"] = [t for t, n in titles.items() if n > 1]
    return {k: v for k, v in found.items() if v}
