"""Who is on a ticket: requester and followers, as contact ids, for a batch of tickets.

One rule, used by both the ticket and the contact streams so their ids always agree:

* Hesk 3.5+: ``hesk_ticket_to_customer`` rows (REQUESTER / FOLLOWER) joined to
  ``hesk_customers``; a contact id is the case-folded email, or ``noemail:<ticket id>``
  for an emailless requester (emailless followers are dropped with a finding).
* No REQUESTER row: anonymised tickets have no requester; otherwise the ticket
  snapshot (``u_name``/``u_email``) stands in.
* Hesk < 3.5 (no customer tables): the snapshot ``name``/``email`` (comma-separated: the
  first address is the requester, the others followers).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hesk.text import decode_entities

if TYPE_CHECKING:
    from hesk.reader_base import ReaderBase as HeskReader

_EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


def contact_key(email: str | None) -> str | None:
    """The contact ``source_id`` for an email: stripped and case-folded (None if empty)."""
    value = (email or "").strip()
    return value.casefold() if value else None


def is_valid_email(email: str | None) -> bool:
    """A light syntax check of an email address."""
    return bool(email) and bool(_EMAIL.match((email or "").strip()))


@dataclass
class Person:
    """One person on a ticket (requester or follower)."""

    contact_id: str
    name: str
    email: str | None
    customer_id: int | None
    role: str
    language: str | None = None
    verified: int | None = None


@dataclass
class TicketPeople:
    """The requester (None if anonymised / none) and followers of one ticket."""

    requester: Person | None = None
    followers: list[Person] = field(default_factory=list)
    anonymised: bool = False
    by_customer: dict[int, Person] = field(default_factory=dict)


def snapshot(row: dict[str, Any], columns: tuple[str, str]) -> tuple[str, str]:
    """The ticket's requester snapshot (name, email) from ``columns``: ``u_name, u_email``
    (Hesk 3.5+) or ``name, email`` (before; see ``SchemaLayout.snapshot_columns``)."""
    name_col, email_col = columns
    return decode_entities((row[name_col] or "").strip()), (row[email_col] or "").strip()


def is_anonymised(row: dict[str, Any], has_requester_row: bool, columns: tuple[str, str]) -> bool:
    """Hesk's anonymisation marks: no requester, ``[Customer]``, ip ``0.0.0.0``."""
    name, email = snapshot(row, columns)
    return (
        (not has_requester_row)
        and name == "[Customer]"
        and not email
        and ((row.get("ip") or "") in ("0.0.0.0", ""))
    )


def resolve_people(r: HeskReader, rows: list[dict[str, Any]]) -> dict[int, TicketPeople]:
    """Requester and followers for each ticket row of a batch (one extra query)."""
    links: dict[int, list[dict[str, Any]]] = {}
    if r.has_customers and rows:
        ids = [int(row["id"]) for row in rows]
        marks = ",".join(["%s"] * len(ids))
        for link in r.db.query(
            f"SELECT l.ticket_id, l.customer_id, l.customer_type, c.id AS cid, c.name, "
            f"c.email, c.language, c.verified FROM {r.db.t('ticket_to_customer')} l "
            f"LEFT JOIN {r.db.t('customers')} c ON c.id = l.customer_id "
            f"WHERE l.ticket_id IN ({marks}) ORDER BY l.id",
            ids,
        ):
            links.setdefault(int(link["ticket_id"]), []).append(link)
    return {int(row["id"]): _people_for(r, row, links.get(int(row["id"]), [])) for row in rows}


def _people_for(r: HeskReader, row: dict[str, Any], links: list[dict[str, Any]]) -> TicketPeople:
    tid = int(row["id"])
    people = TicketPeople()
    for link in links:
        role = "requester" if link["customer_type"] == "REQUESTER" else "follower"
        if link["cid"] is None:
            r.add_finding(
                "dangling_customer",
                "ticket",
                tid,
                f"{role} customer {link['customer_id']} does not exist",
            )
            continue
        key = contact_key(link["email"])
        if key is None:
            if role == "follower":
                r.add_finding(
                    "emailless_follower",
                    "ticket",
                    tid,
                    f"follower customer {link['cid']} has no email",
                )
                continue
            key = f"noemail:{tid}"
        person = Person(
            key,
            decode_entities(link["name"] or ""),
            (link["email"] or "").strip() or None,
            int(link["cid"]),
            role,
            link.get("language"),
            link.get("verified"),
        )
        people.by_customer[int(link["cid"])] = person
        if role == "requester" and people.requester is None:
            people.requester = person
        elif role == "requester":
            r.add_finding(
                "extra_requester",
                "ticket",
                tid,
                f"customer {link['cid']} is a second REQUESTER; kept as follower",
            )
            person.role = "follower"
            people.followers.append(person)
        else:
            people.followers.append(person)
    if people.requester is not None:
        return people
    columns = r.layout.snapshot_columns
    if r.has_customers and is_anonymised(row, False, columns):
        people.anonymised = True
        return people
    name, emails = snapshot(row, columns)
    addresses = [a.strip() for a in emails.split(",") if a.strip()] if emails else []
    if r.has_customers:
        r.add_finding(
            "no_requester_row",
            "ticket",
            tid,
            "no REQUESTER in ticket_to_customer; using the ticket snapshot",
        )
    elif (
        not r.has_customers
        and name == "[Customer]"
        and not addresses
        and (row.get("ip") == "0.0.0.0")
    ):
        people.anonymised = True
        return people
    first = addresses[0] if addresses else None
    people.requester = Person(
        contact_key(first) or f"noemail:{tid}", name, first, None, "requester"
    )
    for extra in addresses[1:]:
        key = contact_key(extra)
        if key and key != people.requester.contact_id:
            people.followers.append(Person(key, "", extra, None, "follower"))
    return people
