"""Contacts: create/read/update/delete, list, search, find by external_id, notes and tags.

Duplicates answer 409 ``conflict`` "A contact matching those details already exists with
id=…" on create and on update: email compared case-insensitively, external_id exactly.
"""

from __future__ import annotations

from typing import Any

from .admins import require_admin
from .errors import ApiError, invalid, not_found
from .pagination import page, per_page_value
from .routing import Request, Route
from .search import dotted, run_search
from .state import WORKSPACE_ID, Obj, Workspace, now
from .tags import require_tag

_WRITABLE = (
    "role",
    "external_id",
    "email",
    "phone",
    "name",
    "avatar",
    "signed_up_at",
    "last_seen_at",
    "owner_id",
    "unsubscribed_from_emails",
)
SEARCH_FIELDS = {
    name: dotted(name)
    for name in (
        "id",
        "role",
        "name",
        "email",
        "email_domain",
        "phone",
        "external_id",
        "created_at",
        "updated_at",
        "signed_up_at",
        "last_seen_at",
        "owner_id",
        "unsubscribed_from_emails",
    )
}
SEARCH_FIELDS["tag_id"] = lambda c: [t["id"] for t in c["tags"]["data"]]


def require_contact(ws: Workspace, raw: object, message: str = "User Not Found") -> Obj:
    """The contact with id ``raw``, else 404."""
    contact = ws.contacts.get(str(raw)) if raw is not None else None
    if contact is None:
        raise not_found(message)
    return contact


def _conflict(existing_id: str) -> ApiError:
    return ApiError(
        409, "conflict", f"A contact matching those details already exists with id={existing_id}"
    )


def _check_unique(ws: Workspace, body: dict[str, Any], self_id: str | None) -> None:
    email = body.get("email")
    if isinstance(email, str) and email:
        other = ws.email_index.get(email.lower())
        if other is not None and other != self_id:
            raise _conflict(other)
    external_id = body.get("external_id")
    if isinstance(external_id, str | int) and external_id != "":
        other = ws.external_index.get(str(external_id))
        if other is not None and other != self_id:
            raise _conflict(other)


def _check_custom_attributes(ws: Workspace, values: Any) -> None:
    if values is None:
        return
    if not isinstance(values, dict):
        raise invalid("custom_attributes must be an object", "custom_attributes")
    known = {
        a["name"]
        for a in ws.data_attributes.values()
        if a["model"] == "contact" and not a["archived"]
    }
    for name in values:
        if name not in known:
            raise invalid(
                f"Custom attribute '{name}' does not exist. Create it through the Data "
                "Attributes API first.",
                "custom_attributes",
            )


def _apply(ws: Workspace, contact: Obj, body: dict[str, Any]) -> None:
    old_email, old_external = contact.get("email"), contact.get("external_id")
    for key in _WRITABLE:
        if key in body:
            value = body[key]
            contact[key] = str(value) if key in ("external_id", "owner_id") and value else value
    if "email_verified" in body:
        contact["email_verified"] = body["email_verified"]
    if isinstance(body.get("custom_attributes"), dict):
        contact["custom_attributes"].update(body["custom_attributes"])
    email = contact.get("email")
    contact["email_domain"] = email.split("@", 1)[1] if email and "@" in email else None
    contact["updated_at"] = now()
    if old_email and old_email != email:
        ws.email_index.pop(old_email.lower(), None)
    if email:
        ws.email_index[email.lower()] = contact["id"]
    new_external = contact.get("external_id")
    if old_external and old_external != new_external:
        ws.external_index.pop(old_external, None)
    if new_external:
        ws.external_index[new_external] = contact["id"]


def create_contact(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /contacts``."""
    body = req.body or {}
    if not any(body.get(k) for k in ("email", "external_id", "role")):
        raise invalid("Either email, external_id or role is required")
    if "email_verified" in body and not body.get("email"):
        raise invalid("email_verified must be supplied together with an email", "email_verified")
    role = body.get("role") or "user"
    if role not in ("user", "lead"):
        raise invalid("role must be user or lead", "role")
    _check_unique(ws, body, None)
    _check_custom_attributes(ws, body.get("custom_attributes"))
    contact_id = ws.hex_id(ws.contacts)
    stamp = now()
    contact: Obj = {
        "type": "contact",
        "id": contact_id,
        "workspace_id": WORKSPACE_ID,
        "external_id": None,
        "role": role,
        "email": None,
        "email_domain": None,
        "email_verified": False,
        "phone": None,
        "name": None,
        "avatar": None,
        "owner_id": None,
        "social_profiles": {"type": "list", "data": []},
        "has_hard_bounced": False,
        "marked_email_as_spam": False,
        "unsubscribed_from_emails": False,
        "created_at": stamp,
        "updated_at": stamp,
        "signed_up_at": None,
        "last_seen_at": None,
        "custom_attributes": {},
        "tags": {
            "type": "list",
            "data": [],
            "url": f"/contacts/{contact_id}/tags",
            "total_count": 0,
            "has_more": False,
        },
        "notes": {
            "type": "list",
            "data": [],
            "url": f"/contacts/{contact_id}/notes",
            "total_count": 0,
            "has_more": False,
        },
        "companies": {
            "type": "list",
            "data": [],
            "url": f"/contacts/{contact_id}/companies",
            "total_count": 0,
            "has_more": False,
        },
        "location": {"type": "location", "country": None, "region": None, "city": None},
    }
    _apply(ws, contact, {**body, "role": role})
    contact["updated_at"] = stamp
    ws.contacts[contact_id] = contact
    return 200, contact


def get_contact(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /contacts/{contact_id}``."""
    return 200, require_contact(ws, req.params["contact_id"])


def update_contact(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /contacts/{contact_id}``."""
    contact = require_contact(ws, req.params["contact_id"])
    body = req.body or {}
    if "email_verified" in body and not (body.get("email") or contact.get("email")):
        raise invalid("email_verified must be supplied together with an email", "email_verified")
    if body.get("role") == "lead" and contact["role"] == "user":
        raise ApiError(400, "client_error", "Contact with user role can't be converted to a lead")
    if "role" in body and body["role"] not in ("user", "lead"):
        raise invalid("role must be user or lead", "role")
    _check_unique(ws, body, contact["id"])
    _check_custom_attributes(ws, body.get("custom_attributes"))
    _apply(ws, contact, body)
    return 200, contact


def delete_contact(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /contacts/{contact_id}``."""
    contact = require_contact(ws, req.params["contact_id"])
    del ws.contacts[contact["id"]]
    if contact.get("email"):
        ws.email_index.pop(contact["email"].lower(), None)
    if contact.get("external_id"):
        ws.external_index.pop(contact["external_id"], None)
    return 200, {
        "id": contact["id"],
        "external_id": contact.get("external_id"),
        "type": "contact",
        "deleted": True,
    }


def list_contacts(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /contacts?per_page=&starting_after=``."""
    per_page = per_page_value(req.query.get("per_page"), 50)
    items, pages = page(
        iter(ws.contacts.values()), len(ws.contacts), per_page, req.query.get("starting_after")
    )
    return 200, {"type": "list", "data": items, "total_count": len(ws.contacts), "pages": pages}


def search_contacts(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /contacts/search`` (no indexing lag is simulated)."""
    body = req.body if isinstance(req.body, dict) else {}
    items, total, pages = run_search(body, ws.contacts.values(), SEARCH_FIELDS)
    return 200, {"type": "list", "data": items, "total_count": total, "pages": pages}


def find_by_external_id(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /contacts/find_by_external_id/{external_id}``."""
    contact_id = ws.external_index.get(req.params["external_id"])
    if contact_id is None:
        raise not_found("User Not Found")
    return 200, ws.contacts[contact_id]


def create_note(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /contacts/{contact_id}/notes`` (stamped now: notes take no ``created_at``)."""
    contact = require_contact(ws, req.params["contact_id"])
    body = req.body or {}
    admin_id = body.get("admin_id")
    author = require_admin(ws, admin_id) if admin_id is not None else ws.admins[ws.owner_id]
    note_id = ws.number()
    note: Obj = {
        "type": "note",
        "id": note_id,
        "created_at": now(),
        "contact": {"type": "contact", "id": contact["id"]},
        "author": author,
        "body": body.get("body", ""),
    }
    ws.notes[note_id] = note
    refs = contact["notes"]
    refs["data"].append({"type": "note", "id": note_id, "url": f"/notes/{note_id}"})
    refs["total_count"] = len(refs["data"])
    return 200, note


def tag_contact(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /contacts/{contact_id}/tags`` with ``{"id": tag_id}``."""
    contact = require_contact(ws, req.params["contact_id"])
    tag = require_tag(ws, (req.body or {}).get("id"))
    refs = contact["tags"]
    if not any(t["id"] == tag["id"] for t in refs["data"]):
        refs["data"].append({"type": "tag", "id": tag["id"], "url": f"/tags/{tag['id']}"})
        refs["total_count"] = len(refs["data"])
    return 200, {"type": "tag", "id": tag["id"], "name": tag["name"]}


ROUTES = [
    Route("GET", "/contacts", list_contacts, False),
    Route("POST", "/contacts", create_contact, True),
    Route("POST", "/contacts/search", search_contacts, False),
    Route("GET", "/contacts/find_by_external_id/{external_id}", find_by_external_id, False),
    Route("GET", "/contacts/{contact_id}", get_contact, False),
    Route("PUT", "/contacts/{contact_id}", update_contact, True),
    Route("DELETE", "/contacts/{contact_id}", delete_contact, True),
    Route("POST", "/contacts/{contact_id}/notes", create_note, True),
    Route("POST", "/contacts/{contact_id}/tags", tag_contact, True),
]
