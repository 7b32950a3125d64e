"""Data attributes (contact/company custom fields) and conversation attributes (2.16 API)."""

from __future__ import annotations

from typing import Any

from .errors import ApiError, invalid, missing, not_found
from .routing import Request, Route
from .state import Obj, Workspace, lookup_id, now

DATA_TYPES = {"string", "integer", "float", "boolean", "datetime", "date", "options"}
CONVERSATION_TYPES = {
    "string",
    "integer",
    "list",
    "decimal",
    "boolean",
    "datetime",
    "relationship",
    "files",
}


# --- data attributes ----------------------------------------------------------------
def list_data_attributes(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /data_attributes?model=&include_archived=`` (model=conversation -> 422)."""
    model = req.query.get("model")
    if model == "conversation":
        raise ApiError(
            422,
            "unprocessable_entity",
            "Use GET /conversations/attributes for conversation attributes",
        )
    archived = req.query.get("include_archived", "false").lower() == "true"
    data = [
        a
        for a in ws.data_attributes.values()
        if (model is None or a["model"] == model) and (archived or not a["archived"])
    ]
    return 200, {"type": "list", "data": data}


def create_data_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /data_attributes`` (duplicate name in the model -> 400 parameter_invalid)."""
    body = req.body or {}
    for key in ("name", "model", "data_type"):
        if not body.get(key):
            raise missing(key)
    name, model, data_type = str(body["name"]), body["model"], body["data_type"]
    if model not in ("contact", "company"):
        raise invalid("model must be contact or company", "model")
    if data_type not in DATA_TYPES:
        raise invalid(f"data_type {data_type!r} is not supported", "data_type")
    if any(ch in name for ch in ".$[]") or not name.strip():
        raise invalid(f"'{name}' is not a valid attribute name", "name")
    if any(a["name"] == name and a["model"] == model for a in ws.data_attributes.values()):
        where = "people" if model == "contact" else "company"
        raise invalid(
            f"You already have '{name}' in your {where} data. To save this as new {where} "
            "data, use a different name.",
            "name",
        )
    options: list[str] = []
    if data_type == "options":
        raw = body.get("options") or []
        options = [str(o.get("value")) for o in raw if isinstance(o, dict)]
        if len(options) < 2:
            raise invalid("At least two options are required", "options")
    stamp = now()
    attr_id = ws.number()
    attribute: Obj = {
        "type": "data_attribute",
        "id": int(attr_id),
        "model": model,
        "name": name,
        "full_name": f"custom_attributes.{name}",
        "label": name,
        "description": body.get("description", ""),
        "data_type": "string" if data_type == "options" else data_type,
        "options": options,
        "api_writable": True,
        "messenger_writable": bool(body.get("messenger_writable", False)),
        "ui_writable": True,
        "custom": True,
        "archived": False,
        "created_at": stamp,
        "updated_at": stamp,
        "admin_id": ws.owner_id,
    }
    ws.data_attributes[attr_id] = attribute
    return 200, attribute


def update_data_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /data_attributes/{id}``: archived, description, messenger_writable, options."""
    attribute = lookup_id(ws.data_attributes, req.params["data_attribute_id"])
    if attribute is None:
        raise not_found("Data attribute not found")
    body = req.body or {}
    if "data_type" in body:
        raise invalid("Updating the data type is not possible", "data_type")
    for key in ("archived", "description", "messenger_writable"):
        if key in body:
            attribute[key] = body[key]
    if "options" in body:
        options = [str(o.get("value")) for o in body["options"] or [] if isinstance(o, dict)]
        if len(options) < 2:
            raise invalid("At least two options are required", "options")
        attribute["options"] = options
    attribute["updated_at"] = now()
    return 200, attribute


# --- conversation attributes --------------------------------------------------------
def _require_conv_attr(ws: Workspace, raw: object) -> Obj:
    attribute = lookup_id(ws.conversation_attributes, raw)
    if attribute is None:
        raise not_found("Conversation attribute not found")
    return attribute


def list_conversation_attributes(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /conversations/attributes?include_archived=``."""
    archived = req.query.get("include_archived", "false").lower() == "true"
    data = [a for a in ws.conversation_attributes.values() if archived or not a["archived"]]
    return 200, {"type": "list", "data": data}


def create_conversation_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations/attributes`` (duplicate name or bad type -> 422)."""
    body = req.body or {}
    name, data_type = body.get("name"), body.get("data_type")
    if not isinstance(name, str) or not name.strip():
        raise missing("name")
    if data_type not in CONVERSATION_TYPES:
        raise ApiError(422, "data_invalid", f"data_type {data_type!r} is not supported")
    if any(a["name"] == name for a in ws.conversation_attributes.values()):
        raise ApiError(422, "data_invalid", f"An attribute named '{name}' already exists")
    options = []
    if data_type == "list":
        for item in body.get("options") or []:
            if isinstance(item, dict) and item.get("label"):
                options.append({"id": ws.number(), "label": str(item["label"]), "archived": False})
        if len(options) < 2:
            raise ApiError(422, "data_invalid", "A list attribute needs at least 2 options")
    stamp = now()
    attr_id = ws.number()
    attribute: Obj = {
        "type": "conversation_attribute",
        "id": attr_id,
        "name": name,
        "description": body.get("description", ""),
        "data_type": data_type,
        "required": bool(body.get("required", False)),
        "multiline": bool(body.get("multiline", False)),
        "archived": False,
        "options": options,
        "visible_to_team_ids": list(body.get("visible_to_team_ids") or []),
        "reference": body.get("reference"),
        "created_at": stamp,
        "updated_at": stamp,
    }
    ws.conversation_attributes[attr_id] = attribute
    return 200, attribute


def get_conversation_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``GET /conversations/attributes/{id}``."""
    return 200, _require_conv_attr(ws, req.params["id"])


def update_conversation_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``PUT /conversations/attributes/{id}``."""
    attribute = _require_conv_attr(ws, req.params["id"])
    body = req.body or {}
    for key in (
        "name",
        "description",
        "multiline",
        "required",
        "visible_to_team_ids",
        "reference",
        "archived",
    ):
        if key in body:
            attribute[key] = body[key]
    attribute["updated_at"] = now()
    return 200, attribute


def delete_conversation_attribute(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``DELETE /conversations/attributes/{id}``: archives it."""
    attribute = _require_conv_attr(ws, req.params["id"])
    attribute["archived"] = True
    attribute["updated_at"] = now()
    return 200, attribute


def add_option(ws: Workspace, req: Request) -> tuple[int, Any]:
    """``POST /conversations/attributes/{id}/options`` with ``{label}``."""
    attribute = _require_conv_attr(ws, req.params["id"])
    if attribute["data_type"] != "list":
        raise ApiError(422, "data_invalid", "Options can only be added to list attributes")
    label = (req.body or {}).get("label")
    if not isinstance(label, str) or not label:
        raise missing("label")
    if any(o["label"] == label for o in attribute["options"]):
        raise ApiError(422, "data_invalid", f"Option '{label}' already exists")
    attribute["options"].append({"id": ws.number(), "label": label, "archived": False})
    attribute["updated_at"] = now()
    return 200, attribute


ROUTES = [
    Route("GET", "/data_attributes", list_data_attributes, False),
    Route("POST", "/data_attributes", create_data_attribute, True),
    Route("PUT", "/data_attributes/{data_attribute_id}", update_data_attribute, True),
    Route("GET", "/conversations/attributes", list_conversation_attributes, False),
    Route("POST", "/conversations/attributes", create_conversation_attribute, True),
    Route("GET", "/conversations/attributes/{id}", get_conversation_attribute, False),
    Route("PUT", "/conversations/attributes/{id}", update_conversation_attribute, True),
    Route("DELETE", "/conversations/attributes/{id}", delete_conversation_attribute, True),
    Route("POST", "/conversations/attributes/{id}/options", add_option, True),
]
