"""The workspace: every Intercom object in memory, in its GET shape, with indexes.

Objects are stored as the dicts the GET endpoints answer (mutated in place), so reads are a
lookup and a copy-free ``json.dumps``. Indexes keep the hot lookups O(1): email and
external_id to contact, contact to its conversations, conversation to its parts list,
lower-cased tag name to tag. Everything runs on the event loop thread, so no locks.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

DEFAULT_ADMIN_EMAIL = "owner@simulator.example"
WORKSPACE_ID = "sim0ws01"

Obj = dict[str, Any]


def now() -> int:
    """Unix seconds."""
    return int(time.time())


def new_hex_id() -> str:
    """A 24-hex id like Intercom's contact and conversation ids."""
    return os.urandom(12).hex()


@dataclass
class Workspace:
    """All objects of one simulated Intercom workspace."""

    next_number: int = 100000
    admins: dict[str, Obj] = field(default_factory=dict)
    teams: dict[str, Obj] = field(default_factory=dict)
    contacts: dict[str, Obj] = field(default_factory=dict)
    notes: dict[str, Obj] = field(default_factory=dict)
    conversations: dict[str, Obj] = field(default_factory=dict)
    parts: dict[str, list[Obj]] = field(default_factory=dict)
    data_attributes: dict[str, Obj] = field(default_factory=dict)
    conversation_attributes: dict[str, Obj] = field(default_factory=dict)
    tags: dict[str, Obj] = field(default_factory=dict)
    help_centers: dict[str, Obj] = field(default_factory=dict)
    collections: dict[str, Obj] = field(default_factory=dict)
    articles: dict[str, Obj] = field(default_factory=dict)
    #: Tickets in their GET shape without parts; parts by ticket id (simulator/tickets.py)
    tickets: dict[str, Obj] = field(default_factory=dict)
    ticket_parts: dict[str, list[Obj]] = field(default_factory=dict)
    #: Tags on each ticket (2.16's ticket GET shape has none: shown by ``/_sim/dump``).
    ticket_tags: dict[str, list[Obj]] = field(default_factory=dict)
    ticket_types: dict[str, Obj] = field(default_factory=dict)
    ticket_states: dict[str, Obj] = field(default_factory=dict)
    #: attachment id -> bytes of an uploaded ``attachment_files`` item
    blobs: dict[str, bytes] = field(default_factory=dict)
    # indexes, rebuilt by :meth:`reindex`
    email_index: dict[str, str] = field(default_factory=dict)
    external_index: dict[str, str] = field(default_factory=dict)
    contact_conversations: dict[str, dict[str, None]] = field(default_factory=dict)
    tag_names: dict[str, str] = field(default_factory=dict)
    owner_id: str = ""

    def number(self) -> str:
        """The next numeric id, as a string (admins, teams, tags, articles, ...)."""
        self.next_number += 1
        return str(self.next_number)

    def hex_id(self, table: dict[str, Any]) -> str:
        """A fresh 24-hex id not used in ``table``."""
        while True:
            value = new_hex_id()
            if value not in table:
                return value

    def reindex(self) -> None:
        """Rebuild every index from the object tables."""
        self.email_index = {
            c["email"].lower(): cid for cid, c in self.contacts.items() if c.get("email")
        }
        self.external_index = {
            c["external_id"]: cid for cid, c in self.contacts.items() if c.get("external_id")
        }
        self.contact_conversations = {}
        for conv_id, conv in self.conversations.items():
            for ref in conv["contacts"]["contacts"]:
                self.contact_conversations.setdefault(ref["id"], {})[conv_id] = None
        self.tag_names = {t["name"].lower(): tid for tid, t in self.tags.items()}
        for conv_id in self.conversations:
            self.parts.setdefault(conv_id, [])
        for ticket_id in self.tickets:
            self.ticket_parts.setdefault(ticket_id, [])


def lookup_id(table: dict[str, Obj], raw: object) -> Obj | None:
    """The object whose id is ``raw`` (an int or a string), or None."""
    return table.get(str(raw)) if raw is not None else None
