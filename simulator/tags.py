"""Tags: create (or find by case-insensitive name, or rename), list, delete."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, invalid, not_found
from .routing import Request, Route
from .state import Obj, Workspace, lookup_id


def require_tag(ws: Workspace, raw: object) -> Obj:
    """The tag with id ``raw``, else 404."""
    tag = lookup_id(ws.tags, raw)
    if tag is None:
        raise not_found("Tag not found")
    return tag


def create_tag(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /tags``: ``{name}`` creates or returns the tag, ``{id, name}`` renames it."""
    body = req.body or {}
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise invalid("name is required", "name")
    if any(k in body for k in ("companies", "users")):
        raise ApiError(400, "unsupported", "The simulator does not tag companies or users")
    if body.get("id") is not None:
        tag = require_tag(ws, body["id"])
        other = ws.tag_names.get(name.lower())
        if other is not None and other != tag["id"]:
            raise invalid(f"A tag named {name!r} already exists", "name")
        ws.tag_names.pop(tag["name"].lower(), None)
        tag["name"] = name
        ws.tag_names[name.lower()] = tag["id"]
        return 200, tag
    existing = ws.tag_names.get(name.lower())
    if existing is not None:
        return 200, ws.tags[existing]
    tag_id = ws.number()
    tag = {"type": "tag", "id": tag_id, "name": name}
    ws.tags[tag_id] = tag
    ws.tag_names[name.lower()] = tag_id
    return 200, tag


def list_tags(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /tags``."""
    return 200, {"type": "list", "data": list(ws.tags.values())}


def delete_tag(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /tags/{tag_id}`` (answers 200 with no body, like Intercom)."""
    tag = require_tag(ws, req.params["tag_id"])
    del ws.tags[tag["id"]]
    ws.tag_names.pop(tag["name"].lower(), None)
    return 200, None


ROUTES = [
    Route("GET", "/tags", list_tags, False),
    Route("POST", "/tags", create_tag, True),
    Route("DELETE", "/tags/{tag_id}", delete_tag, True),
]
