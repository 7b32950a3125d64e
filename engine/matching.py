"""Created or matched: what existed before a create, and whose an in-doubt create's find is.

A rollback deletes exactly what this migration created, so every create is recorded as
*created* (``created=True``: ours, deleted by a rollback) or *matched* (``created=False``:
an object that was there already, linked and never touched):

* **Pre-check.** Before the intent of a ``POST`` that makes a tag, a conversation
  attribute, a collection or an article, the engine lists the same-named objects. A tag or
  conversation attribute that exists is linked (matched) and nothing is sent — ``POST
  /tags`` would answer the existing tag as if it were new. So is a collection with this
  name under this parent, unless it is one this migration already wrote for another KB
  category. An article is always created (titles are not unique). The ids the pre-check
  saw go into the intent (``target["before"]``), which is durable before the call: an
  in-doubt create is settled against that record even after a crash. A linked create's
  intent (``target["sent"]: false``) is recorded together with its outcome.
* **In-doubt settlement.** A lookup finds what the lost create may have made, and the
  object found counts as created only when it is proven this migration's: a contact by
  this migration's mark at the end of its ``external_id`` (ledger.marks); a tag, an
  attribute, a collection or an article by being absent from the intent's pre-check and
  not written by another unit of this migration (a body that matches breaks a tie between
  new articles); finding only what the pre-check saw proves the create was not made. A
  contact found without the mark is matched: a customer's contact found by e-mail is what
  the create's 409 would have answered. An intent recorded before pre-checks existed (no
  ``before``) is settled as matched: a name alone proves nothing.

Residual window: an object someone else creates under the same name between the
pre-check and the create (milliseconds; the intent and its pre-check are recorded in
between) is taken for this migration's own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.engine import Connection

from engine.resources import Resources
from intercom_api import lookups
from intercom_api.base import Json
from intercom_api.tickets import type_attributes
from ledger.events import Event, Recorded, WriteIntended
from mapping.people import carries_mark
from mapping.steps import LookupKind, Step


class UnitRun(Protocol):
    """What is used here of the unit being run (engine.protocol.UnitRun)."""

    res: Resources
    conn: Connection | None
    known: dict[str, Recorded | Event]
    api_calls: int
    #: The Intercom id of the unit's own object (its conversation, ticket or ticket type)
    #: once created or found: where its parts, tags and attributes are looked up.
    unit_id: str
    listings: dict[str, list[Any]]


#: The same-named objects of each pre-checked kind: ``(client, body) -> objects``.
_SAME_NAMED: dict[LookupKind, Callable[[Any, dict[str, Any]], list[Json]]] = {
    LookupKind.TAG: lambda client, body: _listed(lookups.find_tag(client, str(body["name"]))),
    LookupKind.CONVERSATION_ATTRIBUTE: lambda client, body: _listed(
        lookups.find_conversation_attribute(client, str(body["name"]))
    ),
    LookupKind.COLLECTION: lambda client, body: lookups.find_collections(
        client, str(body["name"]), body.get("parent_id")
    ),
    LookupKind.ARTICLE: lambda client, body: lookups.find_articles(
        client, str(body["title"]), body.get("parent_id")
    ),
}
#: Lookup kinds whose create is pre-checked by name.
PRECHECKED = tuple(_SAME_NAMED)
#: The unit object that writes each pre-checked Intercom type (for "already ours").
_WRITER = {"collection": "kb_category", "article": "kb_article"}


def _listed(found: Json | None) -> list[Json]:
    return [found] if found else []


@dataclass(frozen=True)
class Precheck:
    """What a pre-check saw: same-named ids, an object to link instead, or why neither."""

    before: list[str] = field(default_factory=list)
    match: Json | None = None
    refused: str = ""

    @property
    def settles(self) -> bool:
        """Whether the pre-check settles the write (linked or refused): nothing to send."""
        return self.match is not None or bool(self.refused)


@dataclass(frozen=True)
class Found:
    """What a lookup found for an in-doubt write, and whether it is proven ours."""

    intercom_id: str
    created: bool
    detail: dict[str, str] = field(default_factory=dict)


def prechecked(step: Step) -> bool:
    """Whether this step's create is preceded by a pre-check."""
    return step.method == "POST" and bool(step.creates) and step.lookup_kind in PRECHECKED


def precheck(run: UnitRun, step: Step, body: dict[str, Any]) -> Precheck:
    """List the objects with this step's name before its create is intended."""
    kind = LookupKind(step.lookup_kind)
    if kind is LookupKind.CONVERSATION_ATTRIBUTE:  # one listing serves the unit's attributes
        attributes = listing(
            run, "conversation_attributes", run.res.client.list_conversation_attributes
        )
        same = _listed(lookups.named(attributes, str(body["name"])))
    else:
        run.api_calls += 1
        same = _SAME_NAMED[kind](run.res.client, body)
    ids = [str(o["id"]) for o in same]
    if kind is LookupKind.ARTICLE or not same:
        return Precheck(ids)  # an article is always created: titles are not unique
    if kind is LookupKind.CONVERSATION_ATTRIBUTE:
        attr = same[0]
        if attr.get("data_type") != body.get("data_type"):
            return Precheck(
                ids,
                refused=(
                    f"a conversation attribute named {body['name']!r} already exists as "
                    f"{attr.get('data_type')}, not {body.get('data_type')}: link it in the map "
                    "(existing_id) or give the field another attribute name"
                ),
            )
    if kind is LookupKind.COLLECTION:
        ours = _written(run, "collection")
        free = [c for c in same if str(c["id"]) not in ours]
        return Precheck(ids, free[0] if free else None)
    return Precheck(ids, same[0])


def listing(run: UnitRun, name: str, read: Callable[[], Iterable[Json]]) -> list[Json]:
    """A workspace listing read once per unit run (``read()``), then served from memory."""
    if name not in run.listings:
        run.api_calls += 1
        run.listings[name] = list(read())
    return run.listings[name]


def find_first_object(run: UnitRun, step: Step, body: dict[str, Any]) -> str | None:
    """The id of the ticket type or type attribute that already exists, before a create.

    One ``GET /ticket_types`` serves the type and, when it exists, every attribute (a
    listed type carries its attributes); ``GET /ticket_types/{id}`` is read only for a type
    the listing did not show. Raises lookups.Unresolvable for an attribute of another type.
    """
    client = run.res.client
    if step.lookup_kind == LookupKind.TICKET_TYPE:
        types = listing(run, "ticket_types", client.list_ticket_types)
        found = lookups.named((t for t in types if not t.get("archived")), str(body["name"]))
        if found is not None:
            run.listings[f"ticket_type:{found['id']}"] = type_attributes(found)
        return str(found["id"]) if found else None
    type_id = run.unit_id
    attrs = listing(
        run, f"ticket_type:{type_id}", lambda: type_attributes(client.get_ticket_type(type_id))
    )
    attr = lookups.named(attrs, str(body["name"]))
    if attr is not None and attr.get("data_type") != body["data_type"]:
        raise lookups.Unresolvable(
            f"ticket attribute {body['name']!r} exists as {attr.get('data_type')}, not "
            f"{body['data_type']}: rename it in the map",
            method="GET",
            path=f"/ticket_types/{type_id}/attributes",
        )
    return str(attr["id"]) if attr else None


def matched_detail(step: Step, body: dict[str, Any]) -> dict[str, str]:
    """The ``detail`` of a create linked to an object that existed before it."""
    name = body.get("name") or body.get("title") or ""
    return {"matched": f"{step.creates} {name!r} existed before: linked, not created"}


#: How an in-doubt write of one lookup kind is settled: ``(run, step, intent_key, body)``
#: -> what it made, or None when it was not made (the table is ``SETTLERS``, below).
Settler = Callable[[UnitRun, Step, str, dict[str, Any]], Found | None]


def settle(run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]) -> Found | None:
    """What an in-doubt write made, if anything: the object found and whether it is ours.

    The lookup is chosen by ``step.lookup_kind`` alone (``SETTLERS``). Raises
    lookups.Unresolvable when the answer cannot be known.
    """
    settler = SETTLERS[LookupKind(step.lookup_kind)]
    run.api_calls += 1
    return settler(run, step, intent_key, body)


def _settle_ticket_object(
    run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]
) -> Found | None:
    """A ticket, ticket part, ticket type or type attribute (tickets target)."""
    found_id = find_ticket_object(run.res.client, step, run.unit_id, body)
    if found_id is None:
        return None
    if step.lookup_kind == LookupKind.TICKET_PART:
        return Found(found_id, False)
    # A ticket carries its tracking-id marker; a type or attribute was looked for (and
    # not found) before its intent: either way what is found now is this migration's.
    return Found(found_id, bool(step.creates), {"proof": "marker or find-first miss"})


def _settle_contact(
    run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]
) -> Found | None:
    contact = lookups.find_contact(
        run.res.client, external_id=body.get("external_id"), email=body.get("email")
    )
    if contact is None:
        return None
    if carries_mark(contact.get("external_id"), run.res.mark()):
        return Found(str(contact["id"]), True, {"proof": "carries this migration's mark"})
    return Found(
        str(contact["id"]),
        False,
        {
            "matched": "a contact that is not this migration's (found by e-mail): the "
            "create was answered 409 or never made"
        },
    )


def _settle_conversation(
    run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]
) -> Found | None:
    found_id = lookups.find_conversation(
        run.res.client, str(body["from"]["id"]), int(body["created_at"]), body.get("body", "")
    )
    proof = {"proof": "same contact, created_at and first message"}
    return Found(found_id, bool(step.creates), proof) if found_id else None


def _settle_part(run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]) -> Found | None:
    author = body.get("admin_id") or body.get("intercom_user_id") or ""
    part = lookups.find_part(
        run.res.client, run.unit_id, author, int(body["created_at"]), body.get("body", "")
    )
    return Found(str(part["id"]), False) if part else None


def _settle_applied(
    run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]
) -> Found | None:
    done = _already_applied(run.res.client, LookupKind(step.lookup_kind), run.unit_id, body)
    return Found(done, False) if done else None


def _send_again(run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]) -> Found | None:
    return None  # a PUT or another write that is safe to send again: sending it settles it


def _before(run: UnitRun, intent_key: str) -> list[str] | None:
    """The ids the intent's pre-check saw (None: an intent recorded without one)."""
    found = run.known.get(intent_key)
    event = found.event if isinstance(found, Recorded) else found
    if not isinstance(event, WriteIntended) or "before" not in event.target:
        return None
    return [str(i) for i in event.target["before"] or []]


def _settle_named(run: UnitRun, step: Step, intent_key: str, body: dict[str, Any]) -> Found | None:
    """Settle an in-doubt tag, attribute, collection or article create."""
    before = _before(run, intent_key)
    kind = LookupKind(step.lookup_kind)
    candidates = _SAME_NAMED[kind](run.res.client, body)
    if not candidates:
        return None
    if before is None:
        return Found(
            str(candidates[0]["id"]),
            False,
            {
                "matched": "found by name only (the intent has no pre-check): not proven "
                "this migration's"
            },
        )
    new = [c for c in candidates if str(c["id"]) not in set(before)]
    if step.creates in _WRITER and new:
        others = _written(run, step.creates)
        new = [c for c in new if others.get(str(c["id"]), intent_key) == intent_key]
    if kind is LookupKind.ARTICLE and len(new) > 1:
        wanted = lookups.body_hash(body.get("body"))
        new.sort(key=lambda a: lookups.body_hash(a.get("body")) != wanted)
    if not new:
        return None  # only what existed before, or another unit's: this create was not made
    return Found(
        str(new[0]["id"]), True, {"proof": "absent from the pre-check recorded with the intent"}
    )


def _written(run: UnitRun, intercom_type: str) -> dict[str, str]:
    """Id -> intent key of every object of this type this migration wrote or linked."""
    return run.res.ledger.written_ids(_WRITER[intercom_type], intercom_type, conn=run.conn)


def _already_applied(
    client: Any, kind: LookupKind, conversation_id: str, body: dict[str, Any]
) -> str | None:
    """Whether a close/open/assignment or a tag already took effect on the conversation."""
    conversation = client.get_conversation(conversation_id)
    if kind is LookupKind.CONVERSATION_TAG:
        tags = (conversation.get("tags") or {}).get("tags") or []
        done = any(str(t.get("id")) == str(body.get("id")) for t in tags)
        return conversation_id if done else None
    change = body.get("message_type")
    if change == "close":
        done = conversation.get("state") == "closed"
    elif change == "open":
        done = conversation.get("state") == "open"
    elif change == "assignment":
        key = "team_assignee_id" if body.get("type") == "team" else "admin_assignee_id"
        done = str(conversation.get(key)) == str(body.get("assignee_id"))
    else:
        raise ValueError(f"not a change of a conversation's state: {change!r}")
    return conversation_id if done else None


def find_ticket_object(client: Any, step: Step, unit_id: str, body: dict[str, Any]) -> str | None:
    """The id of the ticket, part, type or type attribute an in-doubt write made, or None.

    ``unit_id``: the unit's ticket (for a part) or ticket type (for an attribute).
    """
    found = _TICKET_FINDERS[LookupKind(step.lookup_kind)](client, step, unit_id, body)
    return str(found["id"]) if found else None


def _find_ticket(client: Any, step: Step, unit_id: str, body: dict[str, Any]) -> Json | None:
    return lookups.find_ticket(
        client,
        step.lookup["marker_attribute_id"],
        step.lookup["marker"],
        step.lookup.get("contact_id", ""),
    )


def _find_ticket_part(client: Any, step: Step, unit_id: str, body: dict[str, Any]) -> Json | None:
    author = body.get("admin_id") or body.get("intercom_user_id") or ""
    return lookups.find_ticket_part(
        client, unit_id, author, int(body["created_at"]), body.get("body", "")
    )


def _find_ticket_type(client: Any, step: Step, unit_id: str, body: dict[str, Any]) -> Json | None:
    return lookups.find_ticket_type(client, body["name"])


def _find_type_attribute(
    client: Any, step: Step, unit_id: str, body: dict[str, Any]
) -> Json | None:
    found = lookups.find_ticket_type_attribute(client, unit_id, body["name"])
    if found is not None and found.get("data_type") != body["data_type"]:
        raise lookups.Unresolvable(
            f"ticket attribute {body['name']!r} exists as {found.get('data_type')}, not "
            f"{body['data_type']}: rename it in the map",
            method="GET",
            path=f"/ticket_types/{unit_id}/attributes",
        )
    return found


#: How the tickets target's objects are found (in doubt, or find-first).
_TICKET_FINDERS: dict[LookupKind, Callable[[Any, Step, str, dict[str, Any]], Json | None]] = {
    LookupKind.TICKET: _find_ticket,
    LookupKind.TICKET_PART: _find_ticket_part,
    LookupKind.TICKET_TYPE: _find_ticket_type,
    LookupKind.TICKET_TYPE_ATTRIBUTE: _find_type_attribute,
}

#: The one dispatch table: how an in-doubt write of each lookup kind is settled.
SETTLERS: dict[LookupKind, Settler] = {
    LookupKind.CONTACT: _settle_contact,
    LookupKind.CONVERSATION: _settle_conversation,
    LookupKind.PART: _settle_part,
    LookupKind.COLLECTION: _settle_named,
    LookupKind.ARTICLE: _settle_named,
    LookupKind.CONVERSATION_ATTRIBUTE: _settle_named,
    LookupKind.TAG: _settle_named,
    LookupKind.IDEMPOTENT: _send_again,
    LookupKind.CONVERSATION_STATE: _settle_applied,
    LookupKind.CONVERSATION_TAG: _settle_applied,
    LookupKind.TICKET: _settle_ticket_object,
    LookupKind.TICKET_PART: _settle_ticket_object,
    LookupKind.TICKET_TYPE: _settle_ticket_object,
    LookupKind.TICKET_TYPE_ATTRIBUTE: _settle_ticket_object,
}
