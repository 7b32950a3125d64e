"""Tickets: ticket types and their attributes, ticket states, and tickets with their parts.

A ticket is created with its type, one contact, back-dated ``created_at``, typed
``ticket_attributes`` (checked against the type's attributes), an assignment, and starts in
the workspace's default state (the first *submitted* state). Replies are contact comments
(no ``attachment_files``: the contact reply schema has none) or admin comments/notes;
``PUT`` changes state, open, assignee and attributes. States are read-only (Intercom's API
cannot create them): a fresh workspace has Intercom's four defaults, and ``/_sim/seed``
adds more.

Notifications: a ticket create, reply or update without ``skip_notifications: true`` would
reach the customer; the app counts it in ``/_sim/stats`` as ``notifications_sent``.
"""

from __future__ import annotations

from typing import Any

from core.intercom_limits import FILES_PER_PART, TICKET_TITLE_MAX
from core.intercom_limits import PARTS_READ_BACK as PART_LIMIT

from .admins import require_admin
from .contacts import create_contact, require_contact
from .conversations import (
    _author_admin,
    _author_contact,
    _file_attachments,
    _timestamp,
    with_parts,
)
from .errors import ApiError, invalid, missing, not_found
from .routing import Request, Route
from .search import dotted, run_search
from .state import WORKSPACE_ID, Obj, Workspace, lookup_id, now
from .tags import require_tag

TITLE = "_default_title_"
DESCRIPTION = "_default_description_"
CATEGORIES = ("Customer", "Back-office", "Tracker")
DATA_TYPES = ("string", "list", "integer", "decimal", "boolean", "datetime", "files")
#: Intercom's default ticket states: (category, internal label, external label).
DEFAULT_STATES = (
    ("submitted", "Submitted", "Submitted"),
    ("in_progress", "In progress", "In progress"),
    ("waiting_on_customer", "Waiting on customer", "Waiting on you"),
    ("resolved", "Resolved", "Resolved"),
)
STATE_CATEGORIES = tuple(c for c, _, _ in DEFAULT_STATES)


# --------------------------------------------------------------------------- states


def add_state(ws: Workspace, category: str, internal: str, external: str | None = None) -> Obj:
    """Add a ticket state (only the admin API and a fresh workspace do this)."""
    if category not in STATE_CATEGORIES:
        raise invalid(f"category must be one of {', '.join(STATE_CATEGORIES)}", "category")
    state_id = ws.number()
    state: Obj = {
        "type": "ticket_state",
        "id": state_id,
        "category": category,
        "internal_label": internal,
        "external_label": external or internal,
        "archived": False,
    }
    ws.ticket_states[state_id] = state
    return state


def add_default_states(ws: Workspace) -> None:
    """Intercom's four default states."""
    for category, internal, external in DEFAULT_STATES:
        add_state(ws, category, internal, external)


def default_state(ws: Workspace) -> Obj:
    """The state a new ticket has: the first unarchived *submitted* state."""
    for state in ws.ticket_states.values():
        if state["category"] == "submitted" and not state["archived"]:
            return state
    raise invalid("the workspace has no submitted ticket state")


def _state_ref(state: Obj) -> Obj:
    return {k: state[k] for k in ("type", "id", "category", "internal_label", "external_label")}


def list_states(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /ticket_states``."""
    return 200, {
        "type": "list",
        "data": [
            {
                **s,
                "ticket_types": {
                    "type": "list",
                    "data": [_type_ref(t) for t in ws.ticket_types.values()],
                },
            }
            for s in ws.ticket_states.values()
        ],
    }


# --------------------------------------------------------------------------- types


def _type_ref(ticket_type: Obj) -> Obj:
    return {
        k: ticket_type[k]
        for k in (
            "type",
            "id",
            "name",
            "description",
            "icon",
            "archived",
            "is_internal",
            "category",
        )
    }


def require_type(ws: Workspace, raw: object) -> Obj:
    """The ticket type with id ``raw``, else 404."""
    found = lookup_id(ws.ticket_types, raw)
    if found is None:
        raise not_found("Ticket type not found")
    return found


def _attributes(ticket_type: Obj) -> list[Obj]:
    return ticket_type["ticket_type_attributes"]["data"]


def _type_view(ws: Workspace, ticket_type: Obj) -> Obj:
    view = dict(ticket_type)
    view["ticket_states"] = {
        "type": "list",
        "data": [_state_ref(s) for s in ws.ticket_states.values() if not s["archived"]],
    }
    return view


def _new_attribute(
    ws: Workspace, ticket_type: Obj, body: dict[str, Any], *, default: bool = False
) -> Obj:
    data_type = body["data_type"]
    options: Obj = {}
    if data_type == "string":
        options["multiline"] = bool(body.get("multiline"))
    if data_type == "list":
        items = [i.strip() for i in str(body.get("list_items") or "").split(",") if i.strip()]
        if len(items) < 1:
            raise invalid("list_items is required for a list attribute", "list_items")
        options["list_options"] = [
            {"id": ws.number(), "label": label, "archived": False} for label in items
        ]
        options["allow_multiple_values"] = bool(body.get("allow_multiple_values"))
    stamp = now()
    attribute: Obj = {
        "type": "ticket_type_attribute",
        "id": ws.number(),
        "workspace_id": WORKSPACE_ID,
        "name": body["name"],
        "description": body.get("description") or "",
        "data_type": data_type,
        "input_options": options,
        "order": len(_attributes(ticket_type)),
        "required_to_create": bool(body.get("required_to_create")),
        "required_to_create_for_contacts": bool(body.get("required_to_create_for_contacts")),
        "visible_on_create": body.get("visible_on_create", True),
        "visible_to_contacts": body.get("visible_to_contacts", True),
        "default": default,
        "ticket_type_id": int(ticket_type["id"]),
        "archived": False,
        "created_at": stamp,
        "updated_at": stamp,
    }
    _attributes(ticket_type).append(attribute)
    return attribute


def create_type(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /ticket_types``: with its default title and description attributes."""
    body = req.body or {}
    name = str(body.get("name") or "").strip()
    if not name:
        raise missing("name")
    if any(
        t["name"].casefold() == name.casefold() and not t["archived"]
        for t in ws.ticket_types.values()
    ):
        raise invalid(f"A ticket type named '{name}' already exists", "name")
    category = body.get("category") or "Customer"
    stamp = now()
    ticket_type: Obj = {
        "type": "ticket_type",
        "id": ws.number(),
        "category": category,
        "name": name,
        "description": body.get("description") or "",
        "icon": body.get("icon") or "\U0001f39f\ufe0f",
        "workspace_id": WORKSPACE_ID,
        "ticket_type_attributes": {"type": "list", "data": []},
        "archived": False,
        "is_internal": bool(body.get("is_internal")),
        "created_at": stamp,
        "updated_at": stamp,
    }
    ws.ticket_types[ticket_type["id"]] = ticket_type
    _new_attribute(ws, ticket_type, {"name": TITLE, "data_type": "string"}, default=True)
    _new_attribute(
        ws,
        ticket_type,
        {"name": DESCRIPTION, "data_type": "string", "multiline": True},
        default=True,
    )
    return 200, _type_view(ws, ticket_type)


def list_types(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /ticket_types``."""
    return 200, {"type": "list", "data": [_type_view(ws, t) for t in ws.ticket_types.values()]}


def get_type(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /ticket_types/{ticket_type_id}``."""
    return 200, _type_view(ws, require_type(ws, req.params["ticket_type_id"]))


def update_type(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /ticket_types/{ticket_type_id}``: name, category, icon, archived, is_internal."""
    ticket_type = require_type(ws, req.params["ticket_type_id"])
    body = req.body or {}
    for key in ("name", "description", "category", "icon", "archived", "is_internal"):
        if key in body:
            ticket_type[key] = body[key]
    ticket_type["updated_at"] = now()
    return 200, _type_view(ws, ticket_type)


def create_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /ticket_types/{id}/attributes``: names are unique within the type."""
    ticket_type = require_type(ws, req.params["ticket_type_id"])
    body = req.body or {}
    name = str(body.get("name") or "").strip()
    if not name:
        raise missing("name")
    if any(a["name"].casefold() == name.casefold() for a in _attributes(ticket_type)):
        raise invalid(f"An attribute named '{name}' already exists on this ticket type", "name")
    if body.get("data_type") not in DATA_TYPES:
        raise invalid(f"data_type must be one of {', '.join(DATA_TYPES)}", "data_type")
    return 200, _new_attribute(ws, ticket_type, {**body, "name": name})


def update_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /ticket_types/{id}/attributes/{attribute_id}``."""
    ticket_type = require_type(ws, req.params["ticket_type_id"])
    attribute = next(
        (a for a in _attributes(ticket_type) if a["id"] == str(req.params["attribute_id"])), None
    )
    if attribute is None:
        raise not_found("Ticket type attribute not found")
    body = req.body or {}
    for key in (
        "name",
        "description",
        "required_to_create",
        "visible_on_create",
        "visible_to_contacts",
        "archived",
    ):
        if key in body:
            attribute[key] = body[key]
    if "list_items" in body and attribute["data_type"] == "list":
        known = {o["label"] for o in attribute["input_options"]["list_options"]}
        for label in (i.strip() for i in str(body["list_items"]).split(",")):
            if label and label not in known:
                attribute["input_options"]["list_options"].append(
                    {"id": ws.number(), "label": label, "archived": False}
                )
    attribute["updated_at"] = now()
    return 200, attribute


# --------------------------------------------------------------------------- tickets


def require_ticket(ws: Workspace, raw: object) -> Obj:
    """The ticket with id ``raw``, else 404."""
    found = lookup_id(ws.tickets, raw)
    if found is None:
        raise not_found("Ticket not found")
    return found


def full_view(ws: Workspace, ticket: Obj, limit: int | None = PART_LIMIT) -> Obj:
    """The GET shape: the ticket with its parts (the last ``limit`` of them)."""
    return with_parts(ticket, ws.ticket_parts.get(ticket["id"], []), "ticket_part", limit)


def _check_value(attribute: Obj, value: Any) -> None:
    name, data_type = attribute["name"], attribute["data_type"]
    if value is None:
        return
    if data_type == "string":
        ok = isinstance(value, str)
        if ok and name == TITLE and len(value) > TICKET_TITLE_MAX:
            raise invalid(f"The title is longer than {TICKET_TITLE_MAX} characters", name)
    elif data_type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif data_type == "decimal":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif data_type == "boolean":
        ok = isinstance(value, bool)
    elif data_type == "datetime":
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    elif data_type == "list":
        labels = {
            o["label"]
            for o in attribute["input_options"].get("list_options", [])
            if not o.get("archived")
        }
        ok = value in labels
    else:
        ok = True
    if not ok:
        raise invalid(f"Invalid value for ticket attribute '{name}' ({data_type})", name)


def _set_attributes(ticket_type: Obj, ticket: Obj, values: Any, *, creating: bool) -> None:
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise invalid("ticket_attributes must be an object", "ticket_attributes")
    by_name = {a["name"]: a for a in _attributes(ticket_type) if not a["archived"]}
    for name, value in values.items():
        attribute = by_name.get(name)
        if attribute is None:
            raise invalid(
                f"Ticket attribute '{name}' does not exist on this ticket type", "ticket_attributes"
            )
        _check_value(attribute, value)
    if creating:
        for attribute in by_name.values():
            if attribute["required_to_create"] and values.get(attribute["name"]) in (None, ""):
                raise missing(attribute["name"])
    ticket["ticket_attributes"].update(values)


def _ticket_contact(ws: Workspace, refs: Any) -> Obj:
    if not isinstance(refs, list) or len(refs) != 1 or not isinstance(refs[0], dict):
        raise invalid("contacts must hold exactly one contact", "contacts")
    ref = refs[0]
    if ref.get("id") is not None:
        return require_contact(ws, ref["id"])
    if ref.get("external_id") is not None:
        return require_contact(ws, ws.external_index.get(str(ref["external_id"])))
    if isinstance(ref.get("email"), str):
        found = ws.email_index.get(ref["email"].lower())
        if found is not None:
            return ws.contacts[found]
        req = Request("POST", "/contacts", {}, {}, {"role": "user", "email": ref["email"]})
        return create_contact(ws, req)[1]
    raise missing("contacts")


def _notify(req: Request, body: dict[str, Any]) -> None:
    if body.get("skip_notifications") is not True:
        req.extra["notification"] = True


def create_ticket(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /tickets``: a ticket of a type for one contact, in the default state."""
    body = req.body or {}
    ticket_type = require_type(ws, body.get("ticket_type_id"))
    if ticket_type["archived"]:
        raise invalid("The ticket type is archived", "ticket_type_id")
    contact = _ticket_contact(ws, body.get("contacts"))
    created_at = _timestamp(body)
    assignment = body.get("assignment") or {}
    admin_assignee = assignment.get("admin_assignee_id")
    team_assignee = assignment.get("team_assignee_id")
    if admin_assignee not in (None, "", "0"):
        require_admin(ws, admin_assignee)
    if team_assignee not in (None, "", "0") and str(team_assignee) not in ws.teams:
        raise not_found("Team not found")
    state = default_state(ws)
    ticket: Obj = {
        "type": "ticket",
        "id": ws.number(),
        "ticket_id": str(len(ws.tickets) + 1),
        "category": ticket_type["category"],
        "ticket_attributes": {},
        "ticket_state": _state_ref(state),
        "ticket_type": _type_ref(ticket_type),
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {"type": "contact", "id": contact["id"], "external_id": contact.get("external_id")}
            ],
        },
        "admin_assignee_id": str(admin_assignee) if admin_assignee not in (None, "") else None,
        "team_assignee_id": str(team_assignee) if team_assignee not in (None, "") else None,
        "created_at": created_at,
        "updated_at": created_at,
        "open": True,
        "snoozed_until": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "is_shared": True,
        "previous_ticket_state_id": None,
    }
    _set_attributes(ticket_type, ticket, body.get("ticket_attributes"), creating=True)
    ws.tickets[ticket["id"]] = ticket
    ws.ticket_parts[ticket["id"]] = []
    _notify(req, body)
    return 200, full_view(ws, ticket)


def _add_part(ws: Workspace, ticket: Obj, part: Obj) -> Obj:
    full: Obj = {
        "type": "ticket_part",
        "id": ws.number(),
        "part_type": part["part_type"],
        "body": part.get("body"),
        "created_at": part["created_at"],
        "updated_at": part["created_at"],
        "assigned_to": None,
        "author": part["author"],
        "attachments": part.get("attachments", []),
        "external_id": None,
        "redacted": False,
    }
    for key in ("previous_ticket_state", "ticket_state"):
        if key in part:
            full[key] = part[key]
    ws.ticket_parts[ticket["id"]].append(full)
    ticket["updated_at"] = max(ticket["updated_at"], full["created_at"])
    return full


def reply(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /tickets/{id}/reply``: a contact comment, or an admin comment or note."""
    ticket = require_ticket(ws, req.params["ticket_id"])
    body = req.body or {}
    kind, message_type = body.get("type"), body.get("message_type")
    if kind == "admin":
        if message_type not in ("comment", "note", "quick_reply"):
            raise invalid("message_type must be comment, note or quick_reply", "message_type")
        if "admin_id" not in body:
            raise missing("admin_id")
        author = _author_admin(require_admin(ws, body["admin_id"]))
        files = body.get("attachment_files")
    elif kind == "user":
        if ticket["category"] == "Back-office":
            raise invalid("User replies are not allowed on Backoffice tickets", "type")
        if message_type != "comment":
            raise invalid("message_type must be comment", "message_type")
        if body.get("attachment_files"):
            raise invalid("attachment_files is not accepted on a contact reply", "attachment_files")
        if body.get("intercom_user_id") is not None:
            contact = require_contact(ws, body["intercom_user_id"])
        elif body.get("email") is not None:
            contact = require_contact(ws, ws.email_index.get(str(body["email"]).lower()))
        else:
            contact = require_contact(ws, ws.external_index.get(str(body.get("user_id"))))
        author = _author_contact(contact)
        files = None
    else:
        raise invalid("type must be admin or user", "type")
    if not isinstance(body.get("body"), str):
        raise missing("body")
    urls = body.get("attachment_urls") or []
    if len(urls) > FILES_PER_PART:
        raise invalid("You can include up to 10 attachment URLs", "attachment_urls")
    part = _add_part(
        ws,
        ticket,
        {
            "part_type": message_type,
            "body": body["body"],
            "created_at": _timestamp(body),
            "author": author,
            "attachments": _file_attachments(ws, req, files),
        },
    )
    _notify(req, body)
    return 200, part


def update_ticket(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /tickets/{id}``: state, open, assignee, attributes (a state change adds a part)."""
    ticket = require_ticket(ws, req.params["ticket_id"])
    body = req.body or {}
    admin = None
    if body.get("admin_id") is not None:
        admin = require_admin(ws, body["admin_id"])
    if "ticket_attributes" in body:
        ticket_type = require_type(ws, ticket["ticket_type"]["id"])
        _set_attributes(ticket_type, ticket, body["ticket_attributes"], creating=False)
    if body.get("ticket_state_id") is not None:
        state = lookup_id(ws.ticket_states, body["ticket_state_id"])
        if state is None or state["archived"]:
            raise not_found("Ticket state not found")
        before = ticket["ticket_state"]
        if before["id"] != state["id"]:
            ticket["previous_ticket_state_id"] = before["id"]
            ticket["ticket_state"] = _state_ref(state)
            author = _author_admin(admin or ws.admins[ws.owner_id])
            _add_part(
                ws,
                ticket,
                {
                    "part_type": "ticket_state_updated_by_admin",
                    "body": None,
                    "created_at": now(),
                    "author": author,
                    "previous_ticket_state": before["category"],
                    "ticket_state": state["category"],
                },
            )
    if "open" in body:
        if not isinstance(body["open"], bool):
            raise invalid("open must be a boolean", "open")
        ticket["open"] = body["open"]
    if body.get("assignee_id") is not None:
        assignee = str(body["assignee_id"])
        if assignee in ws.teams:
            ticket["team_assignee_id"] = assignee
        elif assignee == "0":
            ticket["admin_assignee_id"] = None
        else:
            require_admin(ws, assignee)
            ticket["admin_assignee_id"] = assignee
    ticket["updated_at"] = max(ticket["updated_at"], now())
    _notify(req, body)
    return 200, full_view(ws, ticket)


def get_ticket(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /tickets/{id}``: only the 500 most recent parts."""
    return 200, full_view(ws, require_ticket(ws, req.params["ticket_id"]))


def delete_ticket(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /tickets/{id}``."""
    ticket = require_ticket(ws, req.params["ticket_id"])
    del ws.tickets[ticket["id"]]
    ws.ticket_parts.pop(ticket["id"], None)
    ws.ticket_tags.pop(ticket["id"], None)
    return 200, {"id": ticket["id"], "object": "ticket", "deleted": True}


_FIELDS = {
    name: dotted(name)
    for name in (
        "id",
        "created_at",
        "updated_at",
        "open",
        "admin_assignee_id",
        "team_assignee_id",
        "snoozed_until",
    )
}
_FIELDS["ticket_type_id"] = lambda t: t["ticket_type"]["id"]
_FIELDS["state"] = lambda t: t["ticket_state"]["category"]
_FIELDS["ticket_state_id"] = lambda t: t["ticket_state"]["id"]
_FIELDS["contact_ids"] = lambda t: [c["id"] for c in t["contacts"]["contacts"]]
_FIELDS["title"] = lambda t: t["ticket_attributes"].get(TITLE)
_FIELDS["description"] = lambda t: t["ticket_attributes"].get(DESCRIPTION)


def _attribute_getter(name: str) -> Any:
    return lambda t: t["ticket_attributes"].get(name)


def search_tickets(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /tickets/search``; ``ticket_attribute.{id}`` searches an attribute's value."""
    body = req.body if isinstance(req.body, dict) else {}
    fields = dict(_FIELDS)
    for ticket_type in ws.ticket_types.values():
        for attribute in _attributes(ticket_type):
            fields[f"ticket_attribute.{attribute['id']}"] = _attribute_getter(attribute["name"])
    items, total, pages = run_search(body, ws.tickets.values(), fields)
    return 200, {
        "type": "ticket.list",
        "tickets": [full_view(ws, t) for t in items],
        "total_count": total,
        "pages": pages,
    }


def tag_ticket(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /tickets/{id}/tags`` with ``{"id", "admin_id"}`` (both required); a tag is on
    a ticket once."""
    ticket = require_ticket(ws, req.params["ticket_id"])
    body = req.body or {}
    if "admin_id" not in body:
        raise missing("admin_id")
    admin = require_admin(ws, body["admin_id"])
    tag = require_tag(ws, body.get("id"))
    tags = ws.ticket_tags.setdefault(ticket["id"], [])
    applied = next((t for t in tags if t["id"] == tag["id"]), None)
    if applied is None:
        applied = {
            "type": "tag",
            "id": tag["id"],
            "name": tag["name"],
            "applied_at": now(),
            "applied_by": {"type": "admin", "id": admin["id"]},
        }
        tags.append(applied)
    return 200, applied


def all_views(ws: Workspace) -> list[Obj]:
    """Every ticket with *all* its parts and its ``tags`` (for ``/_sim/dump``)."""
    return [
        {**full_view(ws, t, limit=None), "tags": list(ws.ticket_tags.get(t["id"], []))}
        for t in ws.tickets.values()
    ]


def require_state_seed(item: Any) -> tuple[str, str, str | None]:
    """``(category, internal_label, external_label)`` of a ``/_sim/seed`` ticket state."""
    if not isinstance(item, dict) or not item.get("internal_label"):
        raise invalid("each ticket state needs category and internal_label")
    external = item.get("external_label")
    return (
        str(item.get("category")),
        str(item["internal_label"]),
        str(external) if external else None,
    )


ROUTES = [
    Route("GET", "/ticket_states", list_states, False),
    Route("GET", "/ticket_types", list_types, False),
    Route("POST", "/ticket_types", create_type, True),
    Route("GET", "/ticket_types/{ticket_type_id}", get_type, False),
    Route("PUT", "/ticket_types/{ticket_type_id}", update_type, True),
    Route("POST", "/ticket_types/{ticket_type_id}/attributes", create_attribute, True),
    Route(
        "PUT", "/ticket_types/{ticket_type_id}/attributes/{attribute_id}", update_attribute, True
    ),
    Route("POST", "/tickets", create_ticket, True),
    Route("POST", "/tickets/search", search_tickets, False),
    Route("GET", "/tickets/{ticket_id}", get_ticket, False),
    Route("PUT", "/tickets/{ticket_id}", update_ticket, True),
    Route("DELETE", "/tickets/{ticket_id}", delete_ticket, True),
    Route("POST", "/tickets/{ticket_id}/reply", reply, True),
    Route("POST", "/tickets/{ticket_id}/tags", tag_ticket, True),
]

__all__ = ["ROUTES", "ApiError", "add_default_states", "add_state", "all_views"]
