"""Custom fields -> conversation attributes: creating them, and typing ticket values."""

from __future__ import annotations

from typing import Any

from core.intercom_limits import ATTRIBUTE_DESCRIPTION_MAX
from hesk.records import CustomFieldDefinition, CustomFieldValue
from mapping.common import completion, disposition, entry, identity, option, unix
from mapping.defaults import IP_ATTR, builtin_attributes, field_migrates
from mapping.steps import Completion, Disposition, LookupKind, Plan, Step, UnitContext

ATTRIBUTES_PATH = "/conversations/attributes"


def attribute_body(item: dict[str, Any], description: str = "") -> dict[str, Any]:
    """The ``POST /conversations/attributes`` body of a map entry."""
    body: dict[str, Any] = {
        "name": str(item.get("attribute") or item.get("name")),
        "data_type": item["data_type"],
    }
    text = description or item.get("description") or ""
    if text:
        body["description"] = str(text)[:ATTRIBUTE_DESCRIPTION_MAX]
    if item["data_type"] == "list":
        body["options"] = [{"label": str(label)} for label in item.get("options") or []]
    if item.get("hesk_type") == "textarea" and item["data_type"] == "string":
        body["multiline"] = True
    return body


def _create_step(op: str, body: dict[str, Any], done: Completion) -> Step:
    return Step(
        op=op,
        method="POST",
        path=ATTRIBUTES_PATH,
        body=body,
        identity_hash=identity(body),
        lookup={"name": body["name"], "data_type": body["data_type"]},
        lookup_kind=LookupKind.CONVERSATION_ATTRIBUTE,
        creates="conversation_attribute",
        completes=(done,),
    )


def plan_custom_field(defn: CustomFieldDefinition, ctx: UnitContext) -> Plan:
    """Create the conversation attribute of a custom field, link an existing one, or skip."""
    item = entry(ctx.map, "custom_fields", defn.id)
    if item is None:
        return Plan(
            dispositions=(
                disposition(
                    defn,
                    "quarantined",
                    "custom field is not in the confirmed map: run map propose/confirm again",
                ),
            )
        )
    if not field_migrates(item, ctx.map):
        reason = (
            "left out by the map (migrate: false)"
            if item.get("migrate") is False
            else "staff-only field: not moved (map option staff_only_fields: skip)"
        )
        return Plan(dispositions=(disposition(defn, "skipped", reason),))
    if item.get("existing_id") is not None:
        return Plan(
            dispositions=(
                disposition(
                    defn,
                    "migrated",
                    f"linked to existing conversation attribute {item.get('attribute')!r}",
                    str(item["existing_id"]),
                ),
            )
        )
    description = f"Hesk custom field {defn.column}: {defn.name}"
    body = attribute_body(item, description)
    return Plan(steps=(_create_step("create", body, completion(defn)),))


def builtin_items(ctx: UnitContext) -> list[dict[str, Any]]:
    """The always-created attributes of the map (``hesk_ip`` added when IPs move)."""
    items = list(ctx.map.get("attributes") or builtin_attributes())
    if option(ctx, "migrate_ip") and all(i.get("name") != IP_ATTR for i in items):
        items += [i for i in builtin_attributes(migrate_ip=True) if i["name"] == IP_ATTR]
    return items


def plan_builtin_attributes(ctx: UnitContext) -> Plan:
    """Create the always-created attributes (object ``custom_field``, ``builtin:<name>``)."""
    steps: list[Step] = []
    dispositions: list[Disposition] = []
    for item in builtin_items(ctx):
        body = attribute_body(item)
        source_id = f"builtin:{item['name']}"
        digest = identity(body)
        if item.get("existing_id") is not None:
            dispositions.append(
                Disposition(
                    "custom_field",
                    source_id,
                    digest,
                    "migrated",
                    f"linked to existing conversation attribute {item['name']!r}",
                    str(item["existing_id"]),
                )
            )
            continue
        steps.append(
            _create_step(
                f"create:{item['name']}", body, Completion("custom_field", source_id, digest)
            )
        )
    return Plan(steps=tuple(steps), dispositions=tuple(dispositions))


def typed_value(value: CustomFieldValue, item: dict[str, Any]) -> tuple[Any, str]:
    """``(value, problem)``: a ticket's custom field value typed for its attribute.

    string: the plain text (checkbox options joined by ``, ``); list: the chosen label (must
    be an option); datetime: Unix seconds; integer/decimal: the number. ``None`` with a
    problem when the value does not fit.
    """
    data_type = item.get("data_type")
    text = value.text.strip()
    if data_type == "string":
        return (", ".join(value.values) if len(value.values) > 1 else text), ""
    if data_type == "list":
        options = [str(o) for o in item.get("options") or []]
        match = next((o for o in options if o.casefold() == text.casefold()), None)
        if match is None:
            return None, f"{value.name}: {text!r} is not an option of {item.get('attribute')!r}"
        return match, ""
    if data_type == "datetime":
        if value.date is not None:
            return unix(value.date), ""
        if text.isdigit():
            return int(text), ""
        return None, f"{value.name}: {text!r} is not a date"
    if data_type in ("integer", "decimal"):
        try:
            number = float(text) if data_type == "decimal" else int(text)
        except ValueError:
            return None, f"{value.name}: {text!r} is not a number"
        return number, ""
    if data_type == "boolean":
        return text.casefold() in ("1", "yes", "true", "on", "y"), ""
    return None, f"{value.name}: unsupported attribute type {data_type!r}"


def custom_attribute_values(
    values: tuple[CustomFieldValue, ...], ctx: UnitContext
) -> tuple[dict[str, Any], list[str]]:
    """``(custom_attributes, problems)`` for a ticket's mapped custom field values."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for value in values:
        item = entry(ctx.map, "custom_fields", value.field_id)
        if item is None or not field_migrates(item, ctx.map):
            continue
        name = ctx.attributes.get(str(value.field_id)) or str(item.get("attribute") or "")
        typed, problem = typed_value(value, item)
        if problem:
            problems.append(problem)
        elif name and typed not in (None, ""):
            out[name] = typed
    return out, problems
