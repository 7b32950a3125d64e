"""Seeding a workspace's own content: what a customer made before any migration ran.

``POST /_sim/seed`` creates admins, teams and contacts (admin_api.py) and, through this
module, ``tags``, ``collections``, ``articles``, ``conversation_attributes`` and
``data_attributes``, each with the same rules as its ``POST`` endpoint. A collection or
article names its parent by the ``parent_name`` of a collection seeded before it in the
same call (or by ``parent_id``), so a nested help center is one request.
"""

from __future__ import annotations

from typing import Any

from .attributes import create_conversation_attribute, create_data_attribute
from .errors import invalid
from .help_center import create_article, create_collection
from .routing import Request
from .state import Obj, Workspace
from .tags import create_tag

#: Seedable content, in creation order (parents before what they contain).
CONTENT = ("tags", "conversation_attributes", "data_attributes", "collections", "articles")
_CREATE = {
    "tags": ("/tags", create_tag),
    "conversation_attributes": ("/conversations/attributes", create_conversation_attribute),
    "data_attributes": ("/data_attributes", create_data_attribute),
    "collections": ("/help_center/collections", create_collection),
    "articles": ("/articles", create_article),
}


def seed_content(ws: Workspace, body: dict[str, Any]) -> dict[str, list[Obj]]:
    """Create the seeded content of ``body``; answer each kind's objects with their ids."""
    out: dict[str, list[Obj]] = {}
    collections: dict[str, str] = {}
    for kind in CONTENT:
        items = body.get(kind) or []
        if not isinstance(items, list):
            raise invalid(f"{kind} must be a list of objects")
        path, create = _CREATE[kind]
        made = out.setdefault(kind, [])
        for item in items:
            if not isinstance(item, dict):
                raise invalid(f"each of {kind} must be an object")
            fields = dict(item)
            parent = fields.pop("parent_name", None)
            if parent is not None:
                if str(parent) not in collections:
                    raise invalid(f"parent_name {parent!r} is not a collection seeded before")
                fields["parent_id"] = collections[str(parent)]
                if kind == "articles":
                    fields["parent_type"] = "collection"
            obj = create(ws, Request("POST", path, {}, {}, fields))[1]
            if kind == "collections":
                collections[str(obj["name"])] = str(obj["id"])
            made.append(obj)
    return {k: v for k, v in out.items() if v}
