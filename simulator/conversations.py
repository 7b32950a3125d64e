"""Conversations: create (a user message), reply, manage (close/open/snooze/assign), update,
read (the 500 most recent parts), delete, list, search and tag.

Notifications: an admin ``comment`` written without ``skip_notifications: true`` would reach
the customer; the app counts those in ``/_sim/stats`` as ``notifications_sent``.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from typing import Any

from core.intercom_limits import FILES_PER_PART as MAX_ATTACHMENTS
from core.intercom_limits import PARTS_READ_BACK as PART_LIMIT

from .admins import require_admin
from .contacts import require_contact
from .errors import invalid, missing, not_found
from .pagination import page, per_page_value
from .routing import Request, Route
from .search import Query, dotted, run_search
from .state import Obj, Workspace, now
from .tags import require_tag

SEARCH_FIELDS = {
    name: dotted(name)
    for name in (
        "id",
        "created_at",
        "updated_at",
        "title",
        "state",
        "open",
        "read",
        "priority",
        "waiting_since",
        "snoozed_until",
        "admin_assignee_id",
        "team_assignee_id",
        "source.type",
        "source.id",
        "source.delivered_as",
        "source.subject",
        "source.body",
        "source.author.id",
        "source.author.type",
        "source.author.name",
        "source.author.email",
    )
}
SEARCH_FIELDS["contact_ids"] = lambda c: [ref["id"] for ref in c["contacts"]["contacts"]]
SEARCH_FIELDS["tag_ids"] = lambda c: [t["id"] for t in c["tags"]["tags"]]


def require_conversation(ws: Workspace, raw: object) -> Obj:
    """The conversation with id ``raw``, else 404 "Resource Not Found"."""
    conv = ws.conversations.get(str(raw)) if raw is not None else None
    if conv is None:
        raise not_found("Resource Not Found")
    return conv


def full_view(ws: Workspace, conv: Obj, limit: int | None = PART_LIMIT) -> Obj:
    """The GET shape: the conversation with its parts (the last ``limit`` of them)."""
    return with_parts(conv, ws.parts.get(conv["id"], []), "conversation_part", limit)


def with_parts(owner: Obj, parts: list[Obj], kind: str, limit: int | None) -> Obj:
    """``owner`` with its parts of ``kind`` as a GET shows them: the last ``limit`` of
    them in a ``{kind}.list`` block, with the total count."""
    shown = parts[-limit:] if limit is not None and len(parts) > limit else parts
    view = dict(owner)
    view[f"{kind}s"] = {"type": f"{kind}.list", f"{kind}s": shown, "total_count": len(parts)}
    return view


def _author_admin(admin: Obj) -> Obj:
    return {"type": "admin", "id": admin["id"], "name": admin["name"], "email": admin["email"]}


def _author_contact(contact: Obj) -> Obj:
    return {
        "type": contact["role"] if contact["role"] in ("user", "lead") else "user",
        "id": contact["id"],
        "name": contact.get("name"),
        "email": contact.get("email") or "",
    }


def _timestamp(body: dict[str, Any]) -> int:
    value = body.get("created_at")
    if value is None:
        return now()
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid("created_at must be a Unix timestamp in seconds", "created_at")
    return value


def create_conversation(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations``: a contact-initiated conversation; answers a user_message."""
    body = req.body or {}
    sender = body.get("from")
    if not isinstance(sender, dict):
        raise missing("from")
    if "body" not in body:
        raise missing("body")
    contact = ws.contacts.get(str(sender.get("id")))
    if contact is None:
        raise not_found("User Not Found")
    urls = body.get("attachment_urls") or []
    if len(urls) > MAX_ATTACHMENTS:
        raise invalid("You can include up to 10 attachment URLs", "attachment_urls")
    created_at = _timestamp(body)
    conv_id = ws.hex_id(ws.conversations)
    message_id = ws.number()
    conv: Obj = {
        "type": "conversation",
        "id": conv_id,
        "title": None,
        "created_at": created_at,
        "updated_at": created_at,
        "waiting_since": created_at,
        "snoozed_until": None,
        "open": True,
        "state": "open",
        "read": False,
        "priority": "none",
        "admin_assignee_id": None,
        "team_assignee_id": None,
        "tags": {"type": "tag.list", "tags": []},
        "conversation_rating": None,
        "source": {
            "type": "conversation",
            "id": message_id,
            "delivered_as": "customer_initiated",
            "subject": body.get("subject") or "",
            "body": body["body"],
            "author": _author_contact(contact),
            "attachments": [_url_attachment(u) for u in urls],
            "url": None,
            "redacted": False,
        },
        "contacts": {
            "type": "contact.list",
            "contacts": [
                {"type": "contact", "id": contact["id"], "external_id": contact["external_id"]}
            ],
        },
        "teammates": {"type": "admin.list", "admins": []},
        "custom_attributes": {},
        "first_contact_reply": {"created_at": created_at, "type": "conversation", "url": None},
        "sla_applied": None,
        "statistics": None,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": False},
        "ai_agent_participated": False,
    }
    ws.conversations[conv_id] = conv
    ws.parts[conv_id] = []
    ws.contact_conversations.setdefault(contact["id"], {})[conv_id] = None
    return 200, {
        "type": "user_message",
        "id": message_id,
        "created_at": created_at,
        "body": body["body"],
        "message_type": "inapp",
        "conversation_id": conv_id,
    }


def _url_attachment(url: str) -> Obj:
    name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "attachment"
    return {
        "type": "upload",
        "name": name,
        "url": url,
        "content_type": mimetypes.guess_type(name)[0] or "application/octet-stream",
        "filesize": None,
        "width": None,
        "height": None,
    }


def _file_attachments(ws: Workspace, req: Request, files: Any) -> list[Obj]:
    if not files:
        return []
    if not isinstance(files, list) or len(files) > MAX_ATTACHMENTS:
        raise invalid("You can include up to 10 attachment files", "attachment_files")
    out = []
    for item in files:
        if not isinstance(item, dict) or not isinstance(item.get("data"), str):
            raise invalid("attachment_files items need base64 data", "attachment_files")
        try:
            data = base64.b64decode(item["data"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise invalid("attachment data is not valid base64", "attachment_files") from exc
        blob_id = ws.number()
        ws.blobs[blob_id] = data
        name = str(item.get("name") or "attachment")
        out.append(
            {
                "type": "upload",
                "name": name,
                "url": f"{req.base_url}/_sim/attachments/{blob_id}/{name}",
                "content_type": str(item.get("content_type") or "application/octet-stream"),
                "filesize": len(data),
                "width": None,
                "height": None,
            }
        )
    return out


def _add_part(ws: Workspace, conv: Obj, part: Obj) -> Obj:
    part_id = ws.number()
    full: Obj = {
        "type": "conversation_part",
        "id": part_id,
        "part_type": part["part_type"],
        "body": part.get("body"),
        "created_at": part["created_at"],
        "updated_at": part["created_at"],
        "notified_at": part["created_at"],
        "assigned_to": part.get("assigned_to"),
        "author": part["author"],
        "attachments": part.get("attachments", []),
        "external_id": None,
        "redacted": False,
    }
    ws.parts[conv["id"]].append(full)
    conv["updated_at"] = max(conv["updated_at"], full["created_at"])
    return full


def reply(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations/{id}/reply``: contact reply, or admin comment / note.

    The id ``last`` means the replying contact's most recent conversation.
    """
    body = req.body or {}
    conv_id = req.params["conversation_id"]
    if conv_id == "last" and body.get("type") == "user":
        started = ws.contact_conversations.get(_reply_contact(ws, body)["id"]) or {}
        conv_id = max(started, key=lambda c: ws.conversations[c]["created_at"], default="")
    conv = require_conversation(ws, conv_id)
    kind = body.get("type")
    message_type = body.get("message_type")
    if kind == "admin":
        if message_type not in ("comment", "note", "quick_reply"):
            raise invalid("message_type must be comment, note or quick_reply", "message_type")
        if "admin_id" not in body:
            raise missing("admin_id")
        author = _author_admin(require_admin(ws, body["admin_id"]))
    elif kind == "user":
        if message_type != "comment":
            raise invalid("message_type must be comment", "message_type")
        contact = _reply_contact(ws, body)
        author = _author_contact(contact)
    else:
        raise invalid("type must be admin or user", "type")
    if message_type in ("comment", "note") and not isinstance(body.get("body"), str):
        raise missing("body")
    created_at = _timestamp(body)
    urls = body.get("attachment_urls") or []
    if len(urls) > MAX_ATTACHMENTS:
        raise invalid("You can include up to 10 attachment URLs", "attachment_urls")
    attachments = _file_attachments(ws, req, body.get("attachment_files"))
    attachments += [_url_attachment(u) for u in urls]
    _add_part(
        ws,
        conv,
        {
            "part_type": message_type,
            "body": body.get("body"),
            "created_at": created_at,
            "author": author,
            "attachments": attachments,
        },
    )
    if kind == "user":
        conv["state"], conv["open"] = "open", True
        conv["waiting_since"] = created_at
    elif message_type == "comment":
        conv["waiting_since"] = None
        if not body.get("skip_notifications"):
            req.extra["notification"] = True
    return 200, full_view(ws, conv)


def _reply_contact(ws: Workspace, body: dict[str, Any]) -> Obj:
    if body.get("intercom_user_id") is not None:
        return require_contact(ws, body["intercom_user_id"])
    if body.get("user_id") is not None:
        contact_id = ws.external_index.get(str(body["user_id"]))
        return require_contact(ws, contact_id)
    if isinstance(body.get("email"), str):
        return require_contact(ws, ws.email_index.get(body["email"].lower()))
    raise missing("intercom_user_id")


def manage(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations/{id}/parts``: close, open, snoozed or assignment (stamped now)."""
    conv = require_conversation(ws, req.params["conversation_id"])
    body = req.body or {}
    message_type = body.get("message_type")
    if "admin_id" not in body:
        raise missing("admin_id")
    author = _author_admin(require_admin(ws, body["admin_id"]))
    stamp = now()
    part: Obj = {
        "part_type": message_type,
        "body": body.get("body"),
        "created_at": stamp,
        "author": author,
    }
    if message_type == "close":
        conv["state"], conv["open"], conv["snoozed_until"] = "closed", False, None
    elif message_type == "open":
        conv["state"], conv["open"], conv["snoozed_until"] = "open", True, None
    elif message_type == "snoozed":
        until = body.get("snoozed_until")
        if isinstance(until, bool) or not isinstance(until, int):
            raise missing("snoozed_until")
        conv["state"], conv["open"], conv["snoozed_until"] = "snoozed", True, until
    elif message_type == "assignment":
        if "assignee_id" not in body:
            raise missing("assignee_id")
        assignee = str(body["assignee_id"])
        kind = body.get("type", "admin")
        if kind == "team":
            if assignee != "0" and assignee not in ws.teams:
                raise not_found("Team not found")
            conv["team_assignee_id"] = None if assignee == "0" else assignee
        elif kind == "admin":
            if assignee != "0":
                require_admin(ws, assignee)
            conv["admin_assignee_id"] = None if assignee == "0" else assignee
        else:
            raise invalid("type must be admin or team", "type")
        part["assigned_to"] = None if assignee == "0" else {"type": kind, "id": assignee}
    else:
        raise invalid("message_type must be close, open, snoozed or assignment", "message_type")
    _add_part(ws, conv, part)
    return 200, full_view(ws, conv)


def _check_custom_value(attribute: Obj, name: str, value: Any) -> None:
    data_type = attribute["data_type"]
    ok = True
    if value is None:
        return
    if data_type == "string":
        ok = isinstance(value, str)
    elif data_type == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif data_type == "decimal":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif data_type == "boolean":
        ok = isinstance(value, bool)
    elif data_type == "datetime":
        ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    elif data_type == "list":
        labels = {o["label"] for o in attribute.get("options", []) if not o.get("archived")}
        ok = value in labels
    if not ok:
        raise invalid(f"Invalid value for custom attribute '{name}' ({data_type})", name)


def update_conversation(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /conversations/{id}``: title, read and existing custom attributes only."""
    conv = require_conversation(ws, req.params["conversation_id"])
    body = req.body or {}
    custom = body.get("custom_attributes")
    if custom is not None:
        if not isinstance(custom, dict):
            raise invalid("custom_attributes must be an object", "custom_attributes")
        by_name = {a["name"]: a for a in ws.conversation_attributes.values() if not a["archived"]}
        for name, value in custom.items():
            attribute = by_name.get(name)
            if attribute is None:
                raise invalid(
                    f"Conversation attribute '{name}' does not exist. Create it with "
                    "POST /conversations/attributes first.",
                    "custom_attributes",
                )
            _check_custom_value(attribute, name, value)
        conv["custom_attributes"].update(custom)
    if "title" in body:
        conv["title"] = body["title"]
    if "read" in body:
        conv["read"] = bool(body["read"])
    conv["updated_at"] = max(conv["updated_at"], now())
    return 200, full_view(ws, conv)


def get_conversation(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /conversations/{id}``: only the 500 most recent parts (hard limit)."""
    return 200, full_view(ws, require_conversation(ws, req.params["conversation_id"]))


def delete_conversation(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /conversations/{id}``."""
    conv = require_conversation(ws, req.params["conversation_id"])
    del ws.conversations[conv["id"]]
    ws.parts.pop(conv["id"], None)
    for ref in conv["contacts"]["contacts"]:
        ws.contact_conversations.get(ref["id"], {}).pop(conv["id"], None)
    return 200, {"id": conv["id"], "object": "conversation", "deleted": True}


def list_conversations(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /conversations?per_page=&starting_after=`` (no parts, like Intercom's list)."""
    per_page = per_page_value(req.query.get("per_page"), 20)
    items, pages = page(
        iter(ws.conversations.values()),
        len(ws.conversations),
        per_page,
        req.query.get("starting_after"),
    )
    return 200, {
        "type": "conversation.list",
        "conversations": items,
        "total_count": len(ws.conversations),
        "pages": pages,
    }


def search_conversations(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations/search``; ``>``/``<`` are inclusive as documented (L11700)."""
    body = req.body if isinstance(req.body, dict) else {}
    query = Query(body.get("query"), SEARCH_FIELDS, inclusive_gt_lt=True)
    contact_ids = query.equality_values("contact_ids")
    candidates: Any
    if contact_ids is not None:  # narrow by the contact index instead of scanning all
        seen: dict[str, None] = {}
        for contact_id in contact_ids:
            seen.update(ws.contact_conversations.get(contact_id, {}))
        candidates = [ws.conversations[c] for c in seen if c in ws.conversations]
    elif (ids := query.equality_values("id")) is not None:
        candidates = [ws.conversations[c] for c in ids if c in ws.conversations]
    else:
        candidates = ws.conversations.values()
    items, total, pages = run_search(body, candidates, SEARCH_FIELDS, query=query)
    return 200, {
        "type": "conversation.list",
        "conversations": items,
        "total_count": total,
        "pages": pages,
    }


def tag_conversation(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations/{id}/tags`` with ``{"id", "admin_id"}`` (both required)."""
    conv = require_conversation(ws, req.params["conversation_id"])
    body = req.body or {}
    if "admin_id" not in body:
        raise missing("admin_id")
    admin = require_admin(ws, body["admin_id"])
    tag = require_tag(ws, body.get("id"))
    if not any(t["id"] == tag["id"] for t in conv["tags"]["tags"]):
        conv["tags"]["tags"].append(
            {
                "type": "tag",
                "id": tag["id"],
                "name": tag["name"],
                "applied_at": now(),
                "applied_by": {"type": "admin", "id": admin["id"]},
            }
        )
    return 200, {"type": "tag", "id": tag["id"], "name": tag["name"]}


def all_views(ws: Workspace) -> list[Obj]:
    """Every conversation with *all* its parts (for ``/_sim/dump``)."""
    return [full_view(ws, conv, limit=None) for conv in ws.conversations.values()]


ROUTES = [
    Route("GET", "/conversations", list_conversations, False),
    Route("POST", "/conversations", create_conversation, True),
    Route("POST", "/conversations/search", search_conversations, False),
    Route("GET", "/conversations/{conversation_id}", get_conversation, False),
    Route("PUT", "/conversations/{conversation_id}", update_conversation, True),
    Route("DELETE", "/conversations/{conversation_id}", delete_conversation, True),
    Route("POST", "/conversations/{conversation_id}/reply", reply, True),
    Route("POST", "/conversations/{conversation_id}/parts", manage, True),
    Route("POST", "/conversations/{conversation_id}/tags", tag_conversation, True),
]
