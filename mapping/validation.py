"""Checking a (user-edited) map against the workspace, and resolving it to Intercom ids."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mapping.defaults import (
    DATA_TYPES,
    DEFAULT_OPTIONS,
    IP_ATTR,
    MAP_VERSION,
    OPTION_VALUES,
    PRIORITY_ATTR,
    TICKET_ID_ATTR,
    builtin_attributes,
    field_migrates,
)
from mapping.ticket_target import target_problems

_SECTIONS = ("attributes", "custom_fields", "categories", "staff", "statuses", "priorities")


def _by_email(admins: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(a.get("email") or "").casefold(): a for a in admins if a.get("email")}


def _options_problems(mapping: dict[str, Any], admins: Sequence[Mapping[str, Any]]) -> list[str]:
    problems: list[str] = []
    options = mapping.get("options") or {}
    if not isinstance(options, dict):
        return ["options: must be a mapping"]
    for name in options:
        if name not in DEFAULT_OPTIONS:
            problems.append(f"options.{name}: unknown option")
    for name, allowed in OPTION_VALUES.items():
        value = options.get(name, DEFAULT_OPTIONS[name])
        if value not in allowed:
            shown = " | ".join(str(v).lower() if isinstance(v, bool) else v for v in allowed)
            problems.append(f"options.{name}: {value!r} is not one of {shown}")
    fallback = options.get("fallback_admin_email")
    if not fallback:
        problems.append("options.fallback_admin_email: required (an Intercom admin's email)")
    elif str(fallback).casefold() not in _by_email(admins):
        problems.append(f"options.fallback_admin_email: no Intercom admin with email {fallback}")
    for name in ("max_attachment_bytes", "max_request_bytes"):
        size = options.get(name, DEFAULT_OPTIONS[name])
        if not isinstance(size, int) or isinstance(size, bool) or size <= 0:
            problems.append(f"options.{name}: {size!r} is not a positive integer")
    return problems


def _attribute_problems(
    where: str, item: dict[str, Any], existing: dict[str, Mapping[str, Any]]
) -> list[str]:
    problems: list[str] = []
    name = str(item.get("attribute") or item.get("name") or "").strip()
    data_type = item.get("data_type")
    if not name:
        problems.append(f"{where}: attribute name is empty")
    if data_type not in DATA_TYPES:
        problems.append(f"{where}: invalid type {data_type!r} (one of {', '.join(DATA_TYPES)})")
    labels = item.get("options") or []
    if data_type == "list":
        if len([o for o in labels if str(o).strip()]) < 2:
            problems.append(f"{where}: a list attribute needs at least 2 options")
        if len(set(labels)) != len(labels):
            problems.append(f"{where}: duplicate options")
    existing_id = item.get("existing_id")
    found = existing.get(name.casefold())
    if existing_id is not None:
        ids = {str(a.get("id")) for a in existing.values()}
        if str(existing_id) not in ids:
            problems.append(f"{where}: existing_id {existing_id} is not a conversation attribute")
        elif found is not None and found.get("data_type") != data_type:
            problems.append(
                f"{where}: existing attribute {name!r} is {found.get('data_type')}, "
                f"not {data_type}"
            )
    elif found is not None:
        problems.append(
            f"{where}: attribute {name!r} already exists in Intercom "
            f"(id {found.get('id')}, {found.get('data_type')}): set existing_id to reuse it "
            "or choose another name"
        )
    return problems


def validate_map(
    mapping: dict[str, Any],
    *,
    admins: Sequence[Mapping[str, Any]],
    teams: Sequence[Mapping[str, Any]],
    conversation_attributes: Sequence[Mapping[str, Any]],
) -> list[str]:
    """Every problem of a map, one readable line each (empty list = valid).

    Checks the version, options, unknown admin emails and teams, attribute types, list
    options, duplicate attribute names, clashes with existing attributes, statuses and
    priority values.
    """
    if not isinstance(mapping, dict):
        return ["the map must be a mapping"]
    problems: list[str] = []
    if mapping.get("version") != MAP_VERSION:
        problems.append(f"version: {mapping.get('version')!r} is not {MAP_VERSION}")
    for section in _SECTIONS:
        if not isinstance(mapping.get(section) or [], list):
            problems.append(f"{section}: must be a list")
            return problems
    problems += _options_problems(mapping, admins)
    problems += target_problems(mapping)
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

    attributes = mapping.get("attributes") or []
    names = {str(a.get("name")) for a in attributes}
    for required in (b["name"] for b in builtin_attributes()):
        if required not in names:
            problems.append(f"attributes: {required} is missing")
    for item in attributes:
        where = f"attributes.{item.get('name')}"
        claim(str(item.get("name") or ""), where)
        problems += _attribute_problems(where, item, existing)
        if item.get("name") == TICKET_ID_ATTR and item.get("data_type") not in (
            "string",
            "integer",
        ):
            problems.append(f"{where}: must be string or integer")
    for item in mapping.get("custom_fields") or []:
        where = f"custom_fields.{item.get('hesk_id')} ({item.get('hesk_name')})"
        if item.get("migrate", "auto") not in ("auto", True, False):
            problems.append(f"{where}: migrate must be auto, true or false")
        if not field_migrates(item, mapping):
            continue
        claim(str(item.get("attribute") or ""), where)
        problems += _attribute_problems(where, item, existing)
    for item in mapping.get("categories") or []:
        where = f"categories.{item.get('hesk_id')} ({item.get('hesk_name')})"
        team, tag = item.get("team"), item.get("tag")
        if bool(team) == bool(tag):
            problems.append(f"{where}: set exactly one of team or tag")
        elif team and str(team).casefold() not in team_names:
            problems.append(f"{where}: unknown team {team!r} (teams cannot be created by API)")
    for item in mapping.get("staff") or []:
        email = item.get("admin_email")
        if email and str(email).casefold() not in emails:
            problems.append(
                f"staff.{item.get('hesk_id')} ({item.get('hesk_name')}): "
                f"unknown admin email {email}"
            )
    for item in mapping.get("statuses") or []:
        if item.get("state") not in ("open", "closed"):
            problems.append(
                f"statuses.{item.get('hesk_id')} ({item.get('hesk_name')}): state must be "
                "open or closed"
            )
    prio = next((a for a in attributes if a.get("name") == PRIORITY_ATTR), {})
    labels = set(prio.get("options") or [])
    for item in mapping.get("priorities") or []:
        if item.get("value") not in labels:
            problems.append(
                f"priorities.{item.get('hesk_id')} ({item.get('hesk_name')}): "
                f"{item.get('value')!r} is not an option of {PRIORITY_ATTR}"
            )
    migrate_ip = (mapping.get("options") or {}).get("migrate_ip")
    if migrate_ip and IP_ATTR in existing and IP_ATTR not in names:
        problems.append(f"attributes: {IP_ATTR} exists in Intercom: list it with existing_id")
    return problems


# --------------------------------------------------------------------------- resolving


def resolve_admins(
    mapping: dict[str, Any], admins: Sequence[Mapping[str, Any]]
) -> dict[str, str]:
    """Hesk staff id (str) -> Intercom admin id, for ``UnitContext.admins``."""
    emails = _by_email(admins)
    out: dict[str, str] = {}
    for item in mapping.get("staff") or []:
        admin = emails.get(str(item.get("admin_email") or "").casefold())
        if admin is not None:
            out[str(item["hesk_id"])] = str(admin["id"])
    return out


def resolve_fallback_admin(
    mapping: dict[str, Any], admins: Sequence[Mapping[str, Any]]
) -> str:
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
