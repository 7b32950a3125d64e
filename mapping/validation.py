"""Checking a (user-edited) map against the workspace, and resolving it to Intercom ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mapping.defaults import (
    IP_ATTR,
    PRIORITY_ATTR,
    TICKET_ID_ATTR,
    builtin_attributes,
    field_migrates,
)
from mapping.fieldmap import (
    AttributeEntry,
    CustomFieldEntry,
    FieldMap,
    MapOptions,
    MapShapeError,
    parse_map,
)


def _by_email(admins: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(a.get("email") or "").casefold(): a for a in admins if a.get("email")}


def _options_problems(options: MapOptions, admins: Sequence[Mapping[str, Any]]) -> list[str]:
    fallback = options.fallback_admin_email
    if not fallback:
        return ["options.fallback_admin_email: required (an Intercom admin's email)"]
    if fallback.casefold() not in _by_email(admins):
        return [f"options.fallback_admin_email: no Intercom admin with email {fallback}"]
    return []


def _attribute_problems(
    where: str,
    name: str,
    item: AttributeEntry | CustomFieldEntry,
    existing: dict[str, Mapping[str, Any]],
) -> list[str]:
    problems: list[str] = []
    name = name.strip()
    data_type = item.data_type
    if not name:
        problems.append(f"{where}: attribute name is empty")
    labels = item.options
    if data_type == "list":
        if len([o for o in labels if o.strip()]) < 2:
            problems.append(f"{where}: a list attribute needs at least 2 options")
        if len(set(labels)) != len(labels):
            problems.append(f"{where}: duplicate options")
    existing_id = item.existing_id
    found = existing.get(name.casefold())
    if existing_id is not None:
        ids = {str(a.get("id")) for a in existing.values()}
        if existing_id not in ids:
            problems.append(f"{where}: existing_id {existing_id} is not a conversation attribute")
        elif found is not None and found.get("data_type") != data_type:
            problems.append(
                f"{where}: existing attribute {name!r} is {found.get('data_type')}, not {data_type}"
            )
    elif found is not None:
        problems.append(
            f"{where}: attribute {name!r} already exists in Intercom "
            f"(id {found.get('id')}, {found.get('data_type')}): set existing_id to reuse it "
            "or choose another name"
        )
    return problems


def validate_map(
    mapping: FieldMap | dict[str, Any],
    *,
    admins: Sequence[Mapping[str, Any]],
    teams: Sequence[Mapping[str, Any]],
    conversation_attributes: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Every problem of a map, one readable line each (empty list = valid).

    First its shape (:mod:`mapping.fieldmap`: sections, keys, value types); a well-formed
    map is then checked against the workspace: the fallback admin, unknown admin emails
    and teams, list options, duplicate attribute names, clashes with existing attributes
    and priority values.
    """
    if not isinstance(mapping, FieldMap):
        try:
            mapping = parse_map(mapping)
        except MapShapeError as err:
            return err.problems
    problems = _options_problems(mapping.options, admins)
    existing = {str(a.get("name") or "").casefold(): a for a in conversation_attributes}
    emails = _by_email(admins)
    team_names = {str(t.get("name") or "").casefold() for t in teams}

    seen: dict[str, str] = {}

    def claim(name: str, where: str) -> None:
        key = name.strip().casefold()
        if key in seen:
            problems.append(f"{where}: duplicate attribute name {name!r} (also {seen[key]})")
        else:
            seen[key] = where

    names = {a.name for a in mapping.attributes}
    for required in (b["name"] for b in builtin_attributes()):
        if required not in names:
            problems.append(f"attributes: {required} is missing")
    for attr in mapping.attributes:
        where = f"attributes.{attr.name}"
        claim(attr.name, where)
        problems += _attribute_problems(where, attr.name, attr, existing)
        if attr.name == TICKET_ID_ATTR and attr.data_type not in ("string", "integer"):
            problems.append(f"{where}: must be string or integer")
    options = {"options": mapping.options.model_dump()}
    for field in mapping.custom_fields:
        where = f"custom_fields.{field.hesk_id} ({field.hesk_name})"
        if not field_migrates(field.model_dump(), options):
            continue
        claim(field.attribute, where)
        problems += _attribute_problems(where, field.attribute, field, existing)
    for cat in mapping.categories:
        where = f"categories.{cat.hesk_id} ({cat.hesk_name})"
        if bool(cat.team) == bool(cat.tag):
            problems.append(f"{where}: set exactly one of team or tag")
        elif cat.team and cat.team.casefold() not in team_names:
            problems.append(f"{where}: unknown team {cat.team!r} (teams cannot be created by API)")
    for staff in mapping.staff:
        if staff.admin_email and staff.admin_email.casefold() not in emails:
            problems.append(
                f"staff.{staff.hesk_id} ({staff.hesk_name}): "
                f"unknown admin email {staff.admin_email}"
            )
    prio = next((a for a in mapping.attributes if a.name == PRIORITY_ATTR), None)
    labels = set(prio.options if prio else ())
    for p in mapping.priorities:
        if p.value not in labels:
            problems.append(
                f"priorities.{p.hesk_id} ({p.hesk_name}): "
                f"{p.value!r} is not an option of {PRIORITY_ATTR}"
            )
    if mapping.options.migrate_ip and IP_ATTR in existing and IP_ATTR not in names:
        problems.append(f"attributes: {IP_ATTR} exists in Intercom: list it with existing_id")
    return problems


# --------------------------------------------------------------------------- resolving


def resolve_admins(mapping: dict[str, Any], admins: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Hesk staff id (str) -> Intercom admin id, for ``UnitContext.admins``."""
    emails = _by_email(admins)
    out: dict[str, str] = {}
    for item in mapping.get("staff") or []:
        admin = emails.get(str(item.get("admin_email") or "").casefold())
        if admin is not None:
            out[str(item["hesk_id"])] = str(admin["id"])
    return out


def resolve_fallback_admin(mapping: dict[str, Any], admins: Sequence[Mapping[str, Any]]) -> str:
    """The fallback admin's id (``UnitContext.fallback_admin_id``), empty if unknown."""
    email = str((mapping.get("options") or {}).get("fallback_admin_email") or "").casefold()
    admin = _by_email(admins).get(email)
    return str(admin["id"]) if admin is not None else ""


def resolve_teams(mapping: dict[str, Any], teams: Sequence[Mapping[str, Any]]) -> dict[str, str]:
    """Hesk category id (str) -> Intercom team id, for ``UnitContext.teams``."""
    by_name = {str(t.get("name") or "").casefold(): t for t in teams}
    out: dict[str, str] = {}
    for item in mapping.get("categories") or []:
        team = by_name.get(str(item.get("team") or "").casefold())
        if item.get("team") and team is not None:
            out[str(item["hesk_id"])] = str(team["id"])
    return out


def resolve_attributes(mapping: dict[str, Any]) -> dict[str, str]:
    """Hesk custom field id (str) -> attribute name, for ``UnitContext.attributes``."""
    return {
        str(item["hesk_id"]): str(item.get("attribute"))
        for item in mapping.get("custom_fields") or []
        if item.get("attribute")
    }
