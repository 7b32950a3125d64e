"""Contacts: one per distinct case-folded email across ``hesk_customers`` and ticket
snapshots, plus one per emailless requester (``noemail:<ticket id>``).

Pass 1 streams ``hesk_customers`` (Hesk 3.5+) by id, merging rows that share an email in
any case; pass 2 streams tickets and emits every requester/follower not seen yet, with the
same resolution the ticket stream uses (:mod:`hesk.people`). Memory holds one 8-byte digest
per distinct contact (not per ticket or reply).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hesk.db import to_utc
from hesk.people import contact_key, is_valid_email, resolve_people
from hesk.reader_base import ReaderBase
from hesk.records import Customer
from hesk.text import decode_entities

_NEVER = datetime.max.replace(tzinfo=UTC)


def _digest(key: str) -> int:
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big")


def iter_contacts(r: ReaderBase, since_id: int | None = None) -> Iterator[Customer]:
    """Every contact, customers first (by customer id), then ticket-only people.

    ``since_id`` (a ticket id) limits pass 2 to newer tickets and skips pass 1's
    customers that requested no newer ticket — for a delta, re-capture is idempotent.
    """
    seen: set[int] = set()
    if r.has_customers and since_id is None:
        yield from _from_customers(r, seen)
    yield from _from_tickets(r, seen, since_id)


def _from_customers(r: ReaderBase, seen: set[int]) -> Iterator[Customer]:
    cust = r.db.t("customers")
    for rows in r.db.keyset("customers", "id, name, email, language, verified", batch=r.batch_size):
        fresh: dict[str, dict[str, Any]] = {}
        for row in rows:
            key = contact_key(row["email"])
            if key is None:
                continue
            h = _digest(key)
            if h in seen:
                continue
            seen.add(h)
            fresh[key] = row
        if not fresh:
            continue
        emails = sorted({(row["email"] or "").strip() for row in fresh.values()})
        marks = ",".join(["%s"] * len(emails))
        groups: dict[str, list[dict[str, Any]]] = {}
        for other in r.db.query(
            f"SELECT id, name, email FROM {cust} WHERE email IN ({marks}) ORDER BY id", emails
        ):
            k = contact_key(other["email"])
            if k in fresh:
                groups.setdefault(k, []).append(other)
        all_ids = sorted(
            {int(o["id"]) for g in groups.values() for o in g}
            | {int(row["id"]) for row in fresh.values()}
        )
        first = _first_tickets(r, all_ids)
        for key, row in fresh.items():
            group = groups.get(key) or [row]
            ids = tuple(sorted({int(o["id"]) for o in group} | {int(row["id"])}))
            variants = tuple(dict.fromkeys((o["email"] or "").strip() for o in group))
            if len(set(variants)) > 1:
                r.add_finding(
                    "duplicate_email_case",
                    "contact",
                    key,
                    "same email in several cases: " + ", ".join(variants),
                )
            email = (row["email"] or "").strip()
            if not is_valid_email(email):
                r.add_finding("invalid_email", "contact", key, f"email {email!r} is invalid")
            name = next((decode_entities(o["name"]) for o in group if o["name"]), "")
            firsts = [first[i] for i in ids if i in first]
            earliest = min(firsts, key=lambda f: (f[1] is None, f[1] or _NEVER, f[0]), default=None)
            yield Customer(
                source_id=key,
                email=email,
                name=name,
                email_valid=is_valid_email(email),
                email_variants=variants,
                customer_ids=ids,
                origin="customers",
                language=row.get("language"),
                verified=_int(row.get("verified")),
                first_ticket_id=earliest[0] if earliest else None,
                signed_up_at=earliest[1] if earliest else None,
            )


def _first_tickets(r: ReaderBase, customer_ids: list[int]) -> dict[int, tuple[int, Any]]:
    if not customer_ids:
        return {}
    marks = ",".join(["%s"] * len(customer_ids))
    rows = r.db.query(
        f"SELECT l.customer_id, MIN(t.id) AS tid, MIN(t.dt) AS dt "
        f"FROM {r.db.t('ticket_to_customer')} l JOIN {r.db.t('tickets')} t "
        f"ON t.id = l.ticket_id WHERE l.customer_id IN ({marks}) "
        f"AND l.customer_type = 'REQUESTER' GROUP BY l.customer_id",
        customer_ids,
    )
    return {int(x["customer_id"]): (int(x["tid"]), to_utc(x["dt"])) for x in rows}


def _from_tickets(r: ReaderBase, seen: set[int], since_id: int | None) -> Iterator[Customer]:
    cols = ", ".join(f"`{c}`" for c in ("id", "dt", "ip", *r.layout.snapshot_columns))
    for rows in r.db.keyset("tickets", cols, after=since_id, batch=r.batch_size):
        people = resolve_people(r, rows)
        for row in rows:
            tp = people[int(row["id"])]
            persons = ([tp.requester] if tp.requester else []) + tp.followers
            for p in persons:
                h = _digest(p.contact_id)
                if h in seen:
                    continue
                seen.add(h)
                if p.email and not is_valid_email(p.email):
                    r.add_finding(
                        "invalid_email", "contact", p.contact_id, f"email {p.email!r} is invalid"
                    )
                first_dt = to_utc(row.get("dt")) if p.role == "requester" else None
                yield Customer(
                    source_id=p.contact_id,
                    email=p.email,
                    name=p.name,
                    email_valid=is_valid_email(p.email),
                    email_variants=(p.email,) if p.email else (),
                    customer_ids=(p.customer_id,) if p.customer_id else (),
                    origin="customers" if p.customer_id else "ticket_snapshot",
                    language=p.language,
                    verified=_int(p.verified),
                    first_ticket_id=int(row["id"]) if p.role == "requester" else None,
                    signed_up_at=first_dt,
                )


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
