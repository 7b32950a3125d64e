"""Lookups that resolve an in-doubt write: did Intercom create it after all?

Intercom has no idempotency keys, so after a timeout or a lost answer the worker asks by the
markers each object carries at create time (docs/intercom-client.md, "Resolving an in-doubt
write"):

=====================  ==========================================================
contact                ``external_id`` (exact, immediate); e-mail via search as a
                       fallback only: contact search lags minutes behind creation
conversation           search ``contact_ids`` + ``created_at``, then the first
                       message's body compared after normalising
conversation part      read the conversation back; author, ``created_at`` and a
                       normalised body hash (only the newest 500 parts come back)
article                title within its collection
collection             name within its parent
conversation attribute name
data attribute         model + name
tag                    name (Intercom compares names case-blind)
=====================  ==========================================================

Each returns the object found, or None when the write did not happen. When the answer
cannot be known (a thread past the read-back limit), :class:`Unresolvable` is raised
instead of a None that would lead to a duplicate.

Finding an object is not proof that *this* write made it: a name, a title or an e-mail
may belong to an object that existed before. The write engine decides *created* or
*matched* with what it recorded before the write (engine.matching): a contact's
migration mark in its ``external_id``, or the same-named objects a pre-check saw.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from typing import Any

from core.hashing import text_hash
from core.intercom_limits import CONTACT_LOOKUP_PER_PAGE, SEARCH_LOOKUP_PER_PAGE
from core.intercom_limits import PARTS_READ_BACK as READ_BACK_LIMIT
from intercom_api.base import Json
from intercom_api.client import IntercomClient
from intercom_api.errors import Unresolvable
from intercom_api.workspace import DataModel

__all__ = [
    "named",
    "Unresolvable",
    "body_hash",
    "find_article",
    "find_articles",
    "find_collection",
    "find_collections",
    "find_contact",
    "find_conversation",
    "find_conversation_attribute",
    "find_data_attribute",
    "find_part",
    "find_tag",
    "normalise_body",
]

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</?(p|div|br|li|h\d)\b[^>]*>", re.I)
_SPACE = re.compile(r"\s+")


def normalise_body(body: str | None) -> str:
    """A message body reduced to its words: HTML tags, entities and spacing removed.

    Intercom stores a plain-text body as HTML (``<p>…</p>``), so what we sent and what we
    read back are compared in this form.
    """
    if not body:
        return ""
    text = _BLOCK_END.sub(" ", body)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\u00a0", " ")
    return _SPACE.sub(" ", text).strip()


def body_hash(body: str | None) -> str:
    """SHA-256 of the normalised body: equal for the body sent and the one read back."""
    return text_hash(normalise_body(body))


def _same_id(a: Any, b: Any) -> bool:
    return a is not None and b is not None and str(a) == str(b)


def _first(items: Iterable[Json]) -> Json | None:
    return next(iter(items), None)


def find_contact(
    client: IntercomClient, external_id: str | None = None, email: str | None = None
) -> Json | None:
    """The contact with this ``external_id``, else (fallback) the one with this e-mail.

    ``find_by_external_id`` is exact and immediate but knows only users; search also finds
    leads but lags minutes behind a creation, so a miss there proves nothing on its own.
    """
    if external_id:
        found = client.find_contact_by_external_id(external_id)
        if found:
            return found
        found = _first(
            client.search_contacts(
                {"field": "external_id", "operator": "=", "value": external_id},
                per_page=CONTACT_LOOKUP_PER_PAGE,
            )
        )
        if found:
            return found
    if email:
        return _first(
            client.search_contacts(
                {"field": "email", "operator": "=", "value": email},
                per_page=CONTACT_LOOKUP_PER_PAGE,
            )
        )
    return None


def find_conversation(
    client: IntercomClient, contact_id: str, created_at: int, body: str
) -> str | None:
    """The id of the conversation this contact started at ``created_at`` with ``body``."""
    query = {
        "operator": "AND",
        "value": [
            {"field": "contact_ids", "operator": "=", "value": contact_id},
            # ">" and "<" are inclusive for conversations; a 1 s margin works either way
            {"field": "created_at", "operator": ">", "value": int(created_at) - 1},
            {"field": "created_at", "operator": "<", "value": int(created_at) + 1},
        ],
    }
    wanted = body_hash(body)
    for conversation in client.search_conversations(query, per_page=SEARCH_LOOKUP_PER_PAGE):
        source = conversation.get("source") or {}
        if int(conversation.get("created_at") or 0) != int(created_at):
            continue
        if body_hash(source.get("body")) == wanted:
            return str(conversation["id"])
    return None


def find_part(
    client: IntercomClient,
    conversation_id: str,
    author_id: str | int,
    created_at: int,
    body: str,
) -> Json | None:
    """The part of this conversation by ``author_id`` at ``created_at`` with ``body``.

    Raises :class:`Unresolvable` when it is not among the parts read back and the thread
    is longer than Intercom's read-back limit.
    """
    thread = client.get_conversation(conversation_id)
    return _part_read_back(thread, "conversation", conversation_id, (author_id, created_at, body))


def _parent_ids(item: Json) -> set[str]:
    ids = {str(p) for p in item.get("parent_ids") or []}
    if item.get("parent_id") is not None:
        ids.add(str(item["parent_id"]))
    return ids


def find_articles(client: IntercomClient, title: str, parent_id: str | int | None) -> list[Json]:
    """Every article with this title in this collection (``None`` = no collection).

    Titles are not unique: whose an article is cannot be told from its title alone
    (the write engine compares with what existed before its create).
    """
    found = []
    for article in client.list_articles():
        if (article.get("title") or "").strip() != title.strip():
            continue
        parents = _parent_ids(article)
        if (parent_id is None and not parents) or str(parent_id) in parents:
            found.append(article)
    return found


def find_article(client: IntercomClient, title: str, parent_id: str | int | None) -> Json | None:
    """The first article with this title in this collection (``None`` = no collection)."""
    return _first(find_articles(client, title, parent_id))


def find_collections(client: IntercomClient, name: str, parent_id: str | int | None) -> list[Json]:
    """Every collection with this name under this parent (``None`` = top level)."""
    found = []
    for collection in client.list_collections():
        if (collection.get("name") or "").strip() != name.strip():
            continue
        parent = collection.get("parent_id")
        if (parent is None and parent_id is None) or _same_id(parent, parent_id):
            found.append(collection)
    return found


def find_collection(client: IntercomClient, name: str, parent_id: str | int | None) -> Json | None:
    """The first collection with this name under this parent (``None`` = top level)."""
    return _first(find_collections(client, name, parent_id))


def named(items: Iterable[Json], name: str) -> Json | None:
    """The first item whose ``name`` is this one, compared case-blind as Intercom does."""
    wanted = name.strip().casefold()
    return next((i for i in items if str(i.get("name") or "").strip().casefold() == wanted), None)


def find_conversation_attribute(client: IntercomClient, name: str) -> Json | None:
    """The (unarchived) conversation attribute with this name."""
    return named(client.list_conversation_attributes(), name)


def find_data_attribute(client: IntercomClient, model: DataModel, name: str) -> Json | None:
    """The contact or company data attribute with this name (or label)."""
    wanted = name.strip().casefold()
    for attribute in client.list_data_attributes(model):
        names = {str(attribute.get(k) or "").strip().casefold() for k in ("name", "label")}
        if wanted in names:
            return attribute
    return None


def find_tag(client: IntercomClient, name: str) -> Json | None:
    """The tag with this name (case-blind, as Intercom compares them)."""
    return named(client.list_tags(), name)


# --------------------------------------------------------------------------- tickets


def find_ticket(
    client: IntercomClient, marker_attribute_id: str, marker: str, contact_id: str = ""
) -> Json | None:
    """The ticket whose marker attribute (the Hesk tracking id) is ``marker``.

    ``POST /tickets/search`` on ``ticket_attribute.{id}``: the marker is set in the create
    call itself, so a ticket that exists carries it.
    """
    query = {"field": f"ticket_attribute.{marker_attribute_id}", "operator": "=", "value": marker}
    for ticket in client.search_tickets(query, per_page=SEARCH_LOOKUP_PER_PAGE):
        contacts = (ticket.get("contacts") or {}).get("contacts") or []
        if contact_id and not any(_same_id(c.get("id"), contact_id) for c in contacts):
            continue
        return ticket
    return None


def find_ticket_part(
    client: IntercomClient, ticket_id: str, author_id: str | int, created_at: int, body: str
) -> Json | None:
    """The part of this ticket by ``author_id`` at ``created_at`` with ``body``.

    Raises :class:`Unresolvable` when it is not among the parts read back and the ticket
    holds more parts than are read back.
    """
    thread = client.get_ticket(ticket_id)
    return _part_read_back(thread, "ticket", ticket_id, (author_id, created_at, body))


def _part_read_back(
    thread: Json, kind: str, thread_id: str, wanted: tuple[str | int, int, str]
) -> Json | None:
    """The part of a conversation or ticket (``kind``) as read back, by this author, at
    this time, with this body; None when absent from a thread read back whole.

    Raises :class:`Unresolvable` when the thread is longer than what could be read back.
    """
    block = thread.get(f"{kind}_parts") or {}
    parts = block.get(f"{kind}_parts") or []
    author_id, created_at, body = wanted
    digest = body_hash(body)
    for part in parts:
        author = part.get("author") or {}
        if (
            _same_id(author.get("id"), author_id)
            and int(part.get("created_at") or 0) == int(created_at)
            and body_hash(part.get("body")) == digest
        ):
            return part
    total = int(block.get("total_count") or len(parts))
    if total > len(parts) or len(parts) >= READ_BACK_LIMIT:
        raise Unresolvable(
            f"{kind} {thread_id} has {total} parts; only {len(parts)} can be read back, so a "
            "missing part may still exist",
            method="GET",
            path=f"/{kind}s/{thread_id}",
        )
    return None


def find_ticket_type(client: IntercomClient, name: str) -> Json | None:
    """The unarchived ticket type with this name (case-blind)."""
    return named((t for t in client.list_ticket_types() if not t.get("archived")), name)


def find_ticket_type_attribute(
    client: IntercomClient, ticket_type_id: str, name: str
) -> Json | None:
    """The attribute with this name (case-blind) of a ticket type."""
    from intercom_api.tickets import type_attributes

    return named(type_attributes(client.get_ticket_type(ticket_type_id)), name)


__all__ += ["find_ticket", "find_ticket_part", "find_ticket_type", "find_ticket_type_attribute"]
