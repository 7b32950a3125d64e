"""The Hesk objects the migration moves and the orders their dependencies impose, stated once.

An object name (``ticket``, ``reply``, …) names a kind of source record everywhere: the
record classes (hesk.records), the ledger's events and projections, the planners, the
phases of ``migrate`` and the report. Every list of them derives from the tuples below.
"""

from __future__ import annotations

#: Every object a report or discover counts, in the order the report's JSON lists them.
#: ``history`` is derived from tickets (one record per ticket with a history).
OBJECTS: tuple[str, ...] = (
    "ticket",
    "reply",
    "note",
    "history",
    "contact",
    "staff",
    "category",
    "custom_field",
    "kb_category",
    "kb_article",
    "canned_response",
    "attachment",
)

#: A record read only for the inventory (``hesk_ticket_templates``): never migrated.
TICKET_TEMPLATE = "ticket_template"

#: The unit of the Intercom workspace itself (ticket types, attributes): no Hesk record.
WORKSPACE = "workspace"

#: Objects read from the source, parents first: a record comes after what it refers to.
DEPENDENCY_ORDER: tuple[str, ...] = (
    "staff",
    "category",
    "custom_field",
    "contact",
    "ticket",
    "reply",
    "note",
    "attachment",
    "kb_category",
    "kb_article",
    "canned_response",
)

#: Objects whose deletion in Hesk a delta looks for (by comparing id sets).
DELETION_TRACKED: tuple[str, ...] = (
    "ticket",
    "reply",
    "note",
    "kb_article",
    "kb_category",
    "canned_response",
)

#: A ticket's thread: records settled by their ticket's unit, never units of their own.
TICKET_THREAD: tuple[str, ...] = ("reply", "note", "attachment", "history")


def _tickets_first(order: tuple[str, ...]) -> tuple[str, ...]:
    """``order`` with tickets moved just before contacts."""
    rest = [o for o in order if o != "ticket"]
    at = rest.index("contact")
    return (*rest[:at], "ticket", *rest[at:])


#: Capture order: the dependency order, except that tickets come before contacts (a
#: ``sample`` captures tickets first, then only the contacts they need).
CAPTURE_ORDER: tuple[str, ...] = _tickets_first(DEPENDENCY_ORDER)

#: The phases of ``migrate`` in order, each with the objects whose pending units it runs:
#: the workspace's attributes and links, contacts, KB collections, tickets, articles, then
#: leftovers (records of a ticket's thread not settled by their ticket, e.g. orphans).
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("workspace", (WORKSPACE, "custom_field", "category", "staff")),
    ("contacts", ("contact",)),
    ("collections", ("kb_category",)),
    ("tickets", ("ticket",)),
    ("articles", ("kb_article", "canned_response")),
    ("leftovers", TICKET_THREAD),
)

#: Objects whose records own writes (units); the rest are settled by their parent's unit.
UNIT_OBJECTS: tuple[str, ...] = tuple(
    o for _name, objects in PHASES for o in objects if o not in TICKET_THREAD
)

#: Records settled by another object's units, shown beside them while they run.
SHOWN_WITH: dict[str, tuple[str, ...]] = {"ticket": TICKET_THREAD}
