"""Staff -> admins (linked, never created) and customers -> contacts."""

from __future__ import annotations

from typing import Any

from core.hashing import email_digest
from hesk.records import Customer, Staff
from mapping.common import completion, disposition, identity, unix
from mapping.steps import UNIT_ID, Completion, LookupKind, Plan, Step, UnitContext

#: The one placeholder contact that requests anonymised tickets when the map migrates them.
ANONYMISED_CONTACT = "anonymised"
ANONYMISED_EXTERNAL_ID = "hesk:anonymised"


def external_id(contact_source_id: str, mark: str = "") -> str:
    """The stable, URL-safe ``external_id`` of a contact, ending with the migration's mark.

    ``hesk:noemail:<ticket id>`` for an emailless requester; else ``hesk:customer:`` and
    the first 24 hex of the sha256 of the case-folded email (no PII, no ``@``/``+`` in
    ``GET /contacts/find_by_external_id/{external_id}``); then ``:<mark>`` (ledger.marks),
    so a contact of another migration never passes for one of this migration.
    """
    if contact_source_id == ANONYMISED_CONTACT:
        base = ANONYMISED_EXTERNAL_ID
    elif contact_source_id.startswith("noemail:"):
        base = f"hesk:noemail:{contact_source_id.removeprefix('noemail:')}"
    else:
        base = f"hesk:customer:{email_digest(contact_source_id)}"
    return f"{base}:{mark}" if mark else base


def carries_mark(contact_external_id: str | None, mark: str) -> bool:
    """Whether a contact's ``external_id`` is one this migration (``mark``) gives."""
    value = str(contact_external_id or "")
    return bool(mark) and value.startswith("hesk:") and value.endswith(f":{mark}")


def plan_staff(staff: Staff, ctx: UnitContext) -> Plan:
    """Staff are linked to the admin with their email; unmatched ones go to the invite list."""
    admin = ctx.admins.get(staff.source_id)
    if admin:
        return Plan(
            dispositions=(
                disposition(staff, "migrated", f"linked to Intercom admin {admin}", str(admin)),
            )
        )
    return Plan(
        dispositions=(
            disposition(
                staff,
                "skipped",
                "no Intercom admin with this email: parts authored by the fallback admin, "
                "on the invite list",
            ),
        )
    )


def contact_step(body: dict[str, Any], done: tuple[Completion, ...]) -> Step:
    """The ``POST /contacts`` step of a contact body (a 409 is a match, settled by lookup)."""
    return Step(
        op="create",
        method="POST",
        path="/contacts",
        body=body,
        identity_hash=identity({"external_id": body["external_id"]}),
        lookup={"external_id": body["external_id"], "email": body.get("email")},
        lookup_kind=LookupKind.CONTACT,
        creates="contact",
        completes=done,
    )


def plan_contact(customer: Customer, ctx: UnitContext, *, changed: bool = False) -> Plan:
    """Create (or match, on 409) the contact of a requester/follower; invalid email quarantined.

    ``changed``: an earlier version of this customer is already in Intercom, so the create
    (same identity, already done) only finds the contact and a ``PUT`` brings its name,
    email and sign-up time up to date.
    """
    if customer.email is not None and not customer.email_valid:
        return Plan(
            dispositions=(
                disposition(
                    customer,
                    "quarantined",
                    f"invalid email address {customer.email!r}: correct it in Hesk and re-capture",
                ),
            )
        )
    body: dict[str, Any] = {
        "role": "user",
        "external_id": external_id(customer.source_id, ctx.mark),
    }
    if customer.email:
        body["email"] = customer.email.strip()
    if customer.name.strip():
        body["name"] = customer.name.strip()
    signed_up = unix(customer.signed_up_at)
    if signed_up is not None and signed_up > 0:
        body["signed_up_at"] = signed_up
    if not changed:
        return Plan(steps=(contact_step(body, (completion(customer),)),))
    update = {k: v for k, v in body.items() if k in ("email", "name", "signed_up_at")}
    return Plan(
        steps=(
            contact_step(body, ()),
            Step(
                op="update",
                method="PUT",
                path=f"/contacts/{UNIT_ID}",
                body=update,
                identity_hash=identity(update),
                lookup={},
                lookup_kind=LookupKind.IDEMPOTENT,
                completes=(completion(customer),),
            ),
        )
    )


def plan_anonymised_contact(ctx: UnitContext) -> Plan:
    """The placeholder contact requesting anonymised tickets (map: migrate_without_requester).

    Its dependency key is ``contact:anonymised``: the step settles that key (a record no
    Hesk table holds, so the report does not count it) with the contact's Intercom id.
    """
    body = {
        "role": "user",
        "external_id": external_id(ANONYMISED_CONTACT, ctx.mark),
        "name": "Anonymised customer",
    }
    done = Completion("contact", ANONYMISED_CONTACT, identity(body))
    return Plan(steps=(contact_step(body, (done,)),))
