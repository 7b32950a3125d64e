"""What a unit needs resolved to Intercom ids before it can be planned."""

from __future__ import annotations

from typing import Any

from hesk.records import (
    Attachment,
    KbArticle,
    KbCategory,
    Note,
    Record,
    Reply,
    Ticket,
)
from mapping.common import dep_key, entry
from mapping.defaults import field_migrates
from mapping.people import ANONYMISED_CONTACT

#: Hesk's root KB category (see mapping.kb): never a collection, so never waited for.
_KB_ROOT_ID = 1
#: The always-created attributes, as dependency keys of every ticket.
BUILTIN_KEYS = (
    "custom_field:builtin:hesk_ticket_id",
    "custom_field:builtin:hesk_trackid",
    "custom_field:builtin:hesk_priority",
    "custom_field:builtin:hesk_merged_ids",
)


def _every_tickets(mapping: dict[str, Any] | None) -> list[str]:
    """What every ticket of this map depends on, whatever its record."""
    keys = list(BUILTIN_KEYS)
    if (mapping or {}).get("target") == "tickets":
        keys.append(dep_key("ticket_type", "type"))  # settled by the set-up unit
    if ((mapping or {}).get("options") or {}).get("migrate_ip"):
        keys.append("custom_field:builtin:hesk_ip")
    return keys


def ticket_dependencies_of_map(mapping: dict[str, Any] | None) -> list[str]:
    """The dependency keys a ticket of this map may have that its record does not name:
    every ticket's (the always-created attributes, the ticket type, the IP attribute) and,
    when anonymised tickets keep their place, the contact that stands in for requesters.

    A worker reads their settlements with the ticket's lock, before the record is decoded
    (``engine.units``); :func:`dependencies` says which of them a ticket needs.
    """
    keys = _every_tickets(mapping)
    options = (mapping or {}).get("options") or {}
    if options.get("anonymised_tickets") == "migrate_without_requester":
        keys.append(dep_key("contact", ANONYMISED_CONTACT))
    return keys


def _ticket(ticket: Ticket, mapping: dict[str, Any] | None) -> list[str]:
    keys: list[str] = []
    options = (mapping or {}).get("options") or {}
    if ticket.anonymised:
        if options.get("anonymised_tickets") == "migrate_without_requester":
            keys.append(dep_key("contact", ANONYMISED_CONTACT))
    elif ticket.requester_contact_id:
        keys.append(dep_key("contact", ticket.requester_contact_id))
    for follower in ticket.follower_contact_ids:
        key = dep_key("contact", follower)
        if key not in keys:
            keys.append(key)
    keys += _every_tickets(mapping)
    for value in ticket.custom_fields:
        item = entry(mapping, "custom_fields", value.field_id) if mapping else None
        if mapping is not None and (item is None or not field_migrates(item, mapping)):
            continue
        key = dep_key("custom_field", value.field_id)
        if key not in keys:
            keys.append(key)
    if ticket.category_name is not None:
        keys.append(dep_key("category", ticket.category_id))
    return keys


def dependencies(record: Record, mapping: dict[str, Any] | None = None) -> list[str]:
    """``"object:source_id"`` keys the record's unit needs resolved first, parents first.

    A ticket: its requester and follower contacts, the always-created attributes, the
    attributes of its (mapped, when ``mapping`` is given) custom fields, and its category
    (team or tag). A KB article: its KB category; a KB category: its parent. Replies,
    notes and attachments belong to their ticket's unit. Everything else: none.
    """
    if isinstance(record, Ticket):
        return _ticket(record, mapping)
    if isinstance(record, Reply | Note):
        return [dep_key("ticket", record.ticket_id)]
    if isinstance(record, Attachment):
        if record.parent_object == "kb_article" and record.parent_id is not None:
            return [dep_key("kb_article", record.parent_id)]
        return [dep_key("ticket", record.ticket_id)] if record.ticket_id is not None else []
    if isinstance(record, KbArticle):
        if record.category_id == _KB_ROOT_ID:
            return []
        return [dep_key("kb_category", record.category_id)]
    if isinstance(record, KbCategory):
        if record.parent_id is None or record.parent_id == _KB_ROOT_ID:
            return []
        return [dep_key("kb_category", record.parent_id)]
    return []
