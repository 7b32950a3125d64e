"""Request bodies validated against the shipped subset of Intercom's OpenAPI description.

Each operation's ``requestBody`` schema is compiled once into an ``OAS30Validator``
(openapi-schema-validator, the validator openapi-core itself uses) over a registry holding
the subset, so a request costs one schema walk and no spec lookups. Known defects of the
2.16 description are patched at load time (:func:`patch_defects`), each with the reason;
``intercom_2_16_subset.json`` itself stays a faithful extract.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError, best_match
from openapi_schema_validator import OAS30Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from .errors import ApiError

SUBSET_FILE = Path(__file__).with_name("intercom_2_16_subset.json")
_BASE = "urn:intercom-2.16-subset"
_ID_FIELDS = {
    "admin_id",
    "assignee_id",
    "author_id",
    "id",
    "parent_id",
    "help_center_id",
    "owner_id",
    "external_id",
    "user_id",
    "intercom_user_id",
    "tag_id",
}
_STRING_OR_INT = {"anyOf": [{"type": "string"}, {"type": "integer"}]}


def load_subset() -> dict[str, Any]:
    """The subset of Intercom's description shipped with the simulator (parsed JSON)."""
    return json.loads(SUBSET_FILE.read_text(encoding="utf-8"))


def _walk(node: Any, visit: Any) -> None:
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)


def patch_defects(spec: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``spec`` with the description's known defects fixed.

    Each is listed, with its reason, in docs/simulator.md ("Validation").
    """
    spec = copy.deepcopy(spec)
    schemas = spec["components"]["schemas"]

    def visit(node: dict[str, Any]) -> None:
        # Ambiguous oneOfs (reply, POST /tags, PUT /data_attributes, /parts): a valid body
        # can match several branches, which strict oneOf rejects though Intercom accepts it.
        # anyOf keeps "must fit some branch"; the handlers discriminate by type/message_type.
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
            node.pop("discriminator", None)
        # ``format: uuid`` on from.id and friends is wrong: ids are 24-hex strings. Formats
        # are never enforced (no format checker), and we drop this one so nobody adds it.
        if node.get("format") == "uuid":
            node.pop("format")
        props = node.get("properties")
        if isinstance(props, dict):
            for name, prop in list(props.items()):
                # Admin, team, tag, article, collection ids: the spec types them as string in
                # some places and integer in others, and its own examples send integers.
                # Intercom accepts both, so we do.
                if (
                    name in _ID_FIELDS
                    and isinstance(prop, dict)
                    and prop.get("type") in ("string", "integer")
                ):
                    keep = {
                        k: v for k, v in prop.items() if k in ("description", "example", "nullable")
                    }
                    props[name] = {**keep, **copy.deepcopy(_STRING_OR_INT)}

    _walk(spec["paths"], visit)
    _walk(schemas, visit)
    # Conversation custom_attributes allow only string | integer | datetime | object list,
    # yet attribute types include boolean and decimal and the example holds true and 155.5:
    # the real API accepts booleans, numbers and null (to clear a value).
    custom = schemas.get("custom_attributes")
    if custom is not None:
        custom["additionalProperties"] = {
            "anyOf": [
                *custom["additionalProperties"]["anyOf"],
                {"type": "boolean"},
                {"type": "number"},
            ],
            "nullable": True,
        }
    # A search group's ``value`` must be *all* nested groups or *all* single filters, yet
    # Intercom's documented queries mix them (AND of a filter and an OR group).
    group = schemas.get("multiple_filter_search_request")
    if group is not None:
        group["properties"]["value"] = {
            "type": "array",
            "items": {
                "anyOf": [
                    {"$ref": "#/components/schemas/single_filter_search_request"},
                    {"$ref": "#/components/schemas/multiple_filter_search_request"},
                ]
            },
        }
    # A filter's value is ``nullable: true`` beside a bare oneOf, which OpenAPI 3.0 ignores
    # without a ``type``; Intercom accepts ``null`` (e.g. ``title = null``).
    single = schemas.get("single_filter_search_request")
    if single is not None:
        value = single["properties"]["value"]
        value.setdefault("anyOf", []).append({"enum": [None]})
    return spec


def _operation_schemas(spec: dict[str, Any]) -> dict[str, str]:
    refs: dict[str, str] = {}
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if method == "parameters":
                continue
            content = op.get("requestBody", {}).get("content", {}).get("application/json")
            if content and "schema" in content:
                pointer = (
                    f"/paths/{_escape(path)}/{method}/requestBody/content/application~1json/schema"
                )
                refs[f"{method.upper()} {path}"] = pointer
    return refs


def _escape(path: str) -> str:
    return path.replace("~", "~0").replace("/", "~1")


#: Discriminated bodies: (operation, key field) -> value -> schema name. Validating against
#: the one branch the body claims gives Intercom-like errors and is faster than anyOf.
_BRANCHES: dict[str, tuple[str, dict[str, str]]] = {
    "POST /conversations/{conversation_id}/reply": (
        "type",
        {"admin": "admin_reply_conversation_request", "user": "contact_reply_conversation_request"},
    ),
    "POST /tickets/{ticket_id}/reply": (
        "type",
        {"admin": "admin_reply_ticket_request", "user": "contact_reply_ticket_request"},
    ),
    "POST /conversations/{conversation_id}/parts": (
        "message_type",
        {
            "close": "close_conversation_request",
            "snoozed": "snooze_conversation_request",
            "open": "open_conversation_request",
            "assignment": "assign_conversation_request",
        },
    ),
}


class RequestValidator:
    """Validates request bodies per operation (``"POST /contacts"`` keys)."""

    def __init__(self, spec: dict[str, Any] | None = None) -> None:
        self.spec = patch_defects(spec or load_subset())
        resource = Resource.from_contents(self.spec, default_specification=DRAFT4)
        self._registry = Registry().with_resource(_BASE, resource)
        self._pointers = _operation_schemas(self.spec)
        self._validators: dict[str, OAS30Validator] = {}

    def _validator(self, pointer: str) -> OAS30Validator:
        validator = self._validators.get(pointer)
        if validator is None:
            schema = {"$ref": f"{_BASE}#{pointer}"}
            validator = OAS30Validator(schema, registry=self._registry)
            self._validators[pointer] = validator
        return validator

    def warm(self) -> None:
        """Compile every operation's validator now (first requests stay fast)."""
        for pointer in self._pointers.values():
            self._validator(pointer).is_valid({})

    def operations(self) -> list[str]:
        """Keys of the operations that have a request body schema."""
        return sorted(self._pointers)

    def check(self, operation: str, body: Any) -> None:
        """Raise a 400 ``error.list`` :class:`ApiError` when ``body`` is invalid."""
        pointer = self._pointers.get(operation)
        if pointer is None:
            return
        branch = _BRANCHES.get(operation)
        if branch is not None and isinstance(body, dict):
            claimed = body.get(branch[0])
            name = branch[1].get(claimed) if isinstance(claimed, str) else None
            if name is not None:
                pointer = f"/components/schemas/{name}"
        validator = self._validator(pointer)
        if validator.is_valid(body):
            return
        raise _to_api_error(best_match(validator.iter_errors(body)))


def _to_api_error(error: ValidationError | None) -> ApiError:
    if error is None:  # pragma: no cover - is_valid said invalid
        return ApiError(400, "parameter_invalid", "Invalid request body")
    where = ".".join(str(p) for p in error.absolute_path) or None
    if error.validator == "required":
        name = str(error.message).split("'")[1] if "'" in error.message else "parameter"
        return ApiError(400, "parameter_not_found", f"{name} is a required parameter.", name)
    if error.validator == "additionalProperties":
        return ApiError(400, "parameter_invalid", error.message, where)
    message = f"{where}: {error.message}" if where else error.message
    if len(message) > 300:
        message = message[:297] + "..."
    return ApiError(400, "parameter_invalid", message, where)


@cache
def default_validator() -> RequestValidator:
    """One shared validator over the shipped subset (compiling it takes a moment)."""
    return RequestValidator()
