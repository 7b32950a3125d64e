"""The proposed field map: every Hesk field, category, staff member, status and priority with
its Intercom target, a confidence (0..1) and the reason — a plain dict the user edits as YAML.

Shape (all ids are Hesk ids; lists keep Hesk's order)::

    version: 1
    target: conversations | tickets
    tickets:       {type_name, history: attribute | note}               # target tickets only
    options: {fallback_admin_email, staff_only_fields, anonymised_tickets, long_threads,
              migrate_ip, max_attachment_bytes, max_request_bytes, hesk_url,
              customer_ticket_url}
    attributes:    [{name, data_type, options?, description, existing_id}]   # always created
    custom_fields: [{hesk_id, hesk_name, hesk_type, staff_only, migrate, attribute,
                     data_type, options, existing_id, confidence, reason}]
    categories:    [{hesk_id, hesk_name, team | tag, confidence, reason}]
    staff:         [{hesk_id, hesk_name, hesk_email, admin_email, confidence, reason}]
    statuses:      [{hesk_id, hesk_name, state: open|closed, ticket_state (tickets),
                     confidence, reason}]
    priorities:    [{hesk_id, hesk_name, value, confidence, reason}]

:mod:`mapping.mapfile` writes/reads it as YAML and hashes it; :mod:`mapping.validation`
checks it against the workspace.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from hesk.records import Category, CustomFieldDefinition, Staff
from mapping.defaults import (
    BUILTIN_PRIORITIES,
    BUILTIN_STATUSES,
    CLOSED_STATUS,
    DEFAULT_OPTIONS,
    DEFAULT_TARGET,
    FIELD_TYPES,
    MAP_VERSION,
    PRIORITY_ATTR,
    TAG_PREFIX,
    TICKET_TYPE_NAME,
    builtin_attributes,
)
from mapping.mapfile import dump_map_yaml, load_map_yaml, map_hash
from mapping.ticket_target import propose_ticket_state
from mapping.validation import validate_map

_MATCH_AT = 0.85  # difflib ratio from which an existing attribute/team is proposed


def normalise_name(name: str) -> str:
    """A name for similarity: lower case, words separated by single spaces."""
    return " ".join(re.split(r"[^0-9a-z]+", name.casefold())).strip()


def similarity(a: str, b: str) -> float:
    """difflib ratio of two normalised names (0..1)."""
    return difflib.SequenceMatcher(None, normalise_name(a), normalise_name(b)).ratio()


def _best(
    name: str, candidates: Iterable[Mapping[str, Any]]
) -> tuple[float, Mapping[str, Any] | None]:
    best: tuple[float, Mapping[str, Any] | None] = (0.0, None)
    for cand in candidates:
        score = similarity(name, str(cand.get("name") or ""))
        if score > best[0]:
            best = (score, cand)
    return best


# --------------------------------------------------------------------------- sections


def propose_custom_field(
    defn: CustomFieldDefinition,
    existing: Sequence[Mapping[str, Any]],
    taken: set[str],
    staff_only_fields: str = "skip",
) -> dict[str, Any]:
    """The map entry of one custom field: reuse a similar existing attribute or create one."""
    data_type = FIELD_TYPES.get(defn.field_type, "string")
    options = list(dict.fromkeys(o for o in defn.options if o))
    confidence, reason = 0.9, f"Hesk {defn.field_type} field -> new {data_type} attribute"
    if defn.field_type not in FIELD_TYPES:
        confidence, reason = 0.5, f"unknown Hesk field type {defn.field_type!r}: stored as string"
    if data_type == "list" and len(options) < 2:
        data_type, confidence = "string", 0.7
        reason = f"Hesk {defn.field_type} field with fewer than 2 options -> string attribute"
    if data_type != "list":
        options = []
    score, match = _best(defn.name, existing)
    entry: dict[str, Any] = {
        "hesk_id": defn.id,
        "hesk_name": defn.name,
        "hesk_type": defn.field_type,
        "staff_only": defn.staff_only,
        "migrate": "auto",
        "attribute": defn.name,
        "data_type": data_type,
        "options": options,
        "existing_id": None,
    }
    if match is not None and score >= _MATCH_AT and match.get("data_type") == data_type:
        entry["attribute"] = str(match["name"])
        entry["existing_id"] = str(match.get("id")) if match.get("id") is not None else None
        entry["options"] = [o.get("label", "") for o in match.get("options") or []] or options
        confidence = round(score, 2)
        reason = (
            f"existing {data_type} attribute {match['name']!r} matches the name "
            f"(similarity {score:.2f}) and the type"
        )
    else:
        if match is not None and score >= _MATCH_AT:
            reason += (
                f"; existing attribute {match['name']!r} has a similar name (similarity "
                f"{score:.2f}) but type {match.get('data_type')}, not {data_type}"
            )
            confidence = min(confidence, 0.6)
        name = defn.name.strip() or defn.column
        if normalise_name(name) in taken:
            name = f"{name} (Hesk {defn.column})"
            reason += "; renamed: the name is already used"
        entry["attribute"] = name
    taken.add(normalise_name(entry["attribute"]))
    if defn.staff_only:
        moved = staff_only_fields == "move"
        reason += "; staff-only in Hesk: " + (
            "moved (options.staff_only_fields: move)"
            if moved
            else "not moved unless options.staff_only_fields is move or migrate is true"
        )
    entry["confidence"] = confidence
    entry["reason"] = reason
    return entry


def propose_category(cat: Category, teams: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The map entry of a category: a team with a matching name, else a tag."""
    entry: dict[str, Any] = {"hesk_id": cat.id, "hesk_name": cat.name}
    exact = [t for t in teams if str(t.get("name", "")).casefold() == cat.name.casefold()]
    score, match = (1.0, exact[0]) if exact else _best(cat.name, teams)
    if match is not None and score >= _MATCH_AT:
        entry["team"] = str(match["name"])
        entry["confidence"] = round(score, 2)
        entry["reason"] = (
            f"team {match['name']!r} has the same name"
            if exact
            else f"team {match['name']!r} has a similar name (similarity {score:.2f})"
        )
    else:
        entry["tag"] = f"{TAG_PREFIX}{cat.name}"
        entry["confidence"] = 0.8
        entry["reason"] = (
            "no team with a similar name (teams cannot be created by API): conversations "
            "are tagged instead; create the team and set team: to assign them"
        )
    return entry


def propose_staff(staff: Staff, admins: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The map entry of a staff member: the admin with the same email (case-insensitive)."""
    email = (staff.email or "").strip()
    entry: dict[str, Any] = {
        "hesk_id": staff.id,
        "hesk_name": staff.name,
        "hesk_email": email,
        "admin_email": None,
    }
    match = next(
        (a for a in admins if email and str(a.get("email") or "").casefold() == email.casefold()),
        None,
    )
    if match is not None:
        entry["admin_email"] = str(match["email"])
        entry["confidence"] = 1.0
        entry["reason"] = "same email as the Intercom admin (case-insensitive)"
        return entry
    if not email:  # an export file names staff but has no e-mails: match by name
        named = [
            a
            for a in admins
            if a.get("email")
            and normalise_name(str(a.get("name") or "")) == normalise_name(staff.name)
        ]
        if len(named) == 1:
            entry["admin_email"] = str(named[0]["email"])
            entry["confidence"] = 0.9
            entry["reason"] = (
                "same name as the Intercom admin (the source has no staff "
                "e-mails): check it is the same person"
            )
            return entry
    entry["confidence"] = 1.0
    entry["reason"] = (
        "no Intercom admin with this email: parts authored by the fallback admin "
        "('Originally by NAME'), on the invite list"
    )
    score, similar = _best(staff.name, admins)
    if similar is not None and score >= 0.9:
        entry["confidence"] = 0.5
        entry["reason"] += (
            f"; admin {similar.get('name')!r} <{similar.get('email')}> has a similar name: "
            "set admin_email to link them"
        )
    return entry


def propose_status(status_id: int, name: str) -> dict[str, Any]:
    """The map entry of a status: Resolved (3) -> closed, everything else open."""
    closed = status_id == CLOSED_STATUS
    builtin = status_id in BUILTIN_STATUSES
    return {
        "hesk_id": status_id,
        "hesk_name": name,
        "state": "closed" if closed else "open",
        "confidence": 1.0 if builtin else 0.9,
        "reason": (
            "Resolved is Hesk's only closed status"
            if closed
            else ("open in Hesk" if builtin else "custom status: open (only Resolved is closed)")
        ),
    }


def propose_priority(priority_id: int, name: str) -> dict[str, Any]:
    """The map entry of a priority: a value of the ``hesk_priority`` list attribute."""
    builtin = BUILTIN_PRIORITIES.get(priority_id)
    return {
        "hesk_id": priority_id,
        "hesk_name": name,
        "value": builtin or name,
        "confidence": 1.0 if builtin else 0.9,
        "reason": (
            f"built-in priority -> {PRIORITY_ATTR} {builtin!r}"
            if builtin
            else f"custom priority -> new {PRIORITY_ATTR} option {name!r}"
        ),
    }


# --------------------------------------------------------------------------- whole map


def propose_map(
    *,
    staff: Iterable[Staff],
    categories: Iterable[Category],
    custom_fields: Iterable[CustomFieldDefinition],
    statuses: Mapping[int, str],
    priorities: Mapping[int, str],
    admins: Sequence[Mapping[str, Any]],
    teams: Sequence[Mapping[str, Any]],
    conversation_attributes: Sequence[Mapping[str, Any]],
    me: Mapping[str, Any] | None = None,
    target: str = DEFAULT_TARGET,
    ticket_states: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The proposed map for a Hesk help desk and an Intercom workspace.

    ``statuses``/``priorities`` map Hesk ids to names (built-ins and custom ones);
    ``admins``/``teams``/``conversation_attributes`` are Intercom objects as listed by the
    API (``id``, ``name``, ``email``, ``data_type``, ``options``); ``me`` is the token's
    owner (``GET /me``), the default fallback admin (else the first admin). ``target``:
    ``conversations`` or ``tickets``; for tickets, each status is proposed one of
    ``ticket_states`` (the workspace's, by name, else by meaning).
    """
    owner = me or (admins[0] if admins else None)
    options = dict(DEFAULT_OPTIONS)
    options["fallback_admin_email"] = str(owner["email"]) if owner else None

    attributes = builtin_attributes()
    existing_by_name = {str(a.get("name")): a for a in conversation_attributes}
    for attr in attributes:
        found = existing_by_name.get(attr["name"])
        if found is not None and found.get("data_type") == attr["data_type"]:
            attr["existing_id"] = str(found.get("id"))

    priority_entries = [propose_priority(pid, name) for pid, name in sorted(priorities.items())]
    prio_attr = next(a for a in attributes if a["name"] == PRIORITY_ATTR)
    for p in priority_entries:
        if p["value"] not in prio_attr["options"]:
            prio_attr["options"].append(p["value"])

    taken = {normalise_name(a["name"]) for a in attributes}
    existing_fields = [
        a
        for a in conversation_attributes
        if str(a.get("name")) not in {b["name"] for b in attributes}
    ]
    statuses_out = [propose_status(sid, name) for sid, name in sorted(statuses.items())]
    head: dict[str, Any] = {"version": MAP_VERSION, "target": target}
    if target == "tickets":
        head["tickets"] = {"type_name": TICKET_TYPE_NAME, "history": "attribute"}
        for item in statuses_out:
            label, why = propose_ticket_state(item["hesk_id"], item["hesk_name"], ticket_states)
            item["ticket_state"] = label
            item["reason"] += f"; ticket state: {why}"
            if label is None:
                item["confidence"] = 0.3
    return {
        **head,
        "options": options,
        "attributes": attributes,
        "custom_fields": [
            propose_custom_field(d, existing_fields, taken, options["staff_only_fields"])
            for d in sorted(custom_fields, key=lambda d: d.id)
        ],
        "categories": [propose_category(c, teams) for c in categories],
        "staff": [propose_staff(s, admins) for s in staff],
        "statuses": statuses_out,
        "priorities": priority_entries,
    }


__all__ = [
    "BUILTIN_PRIORITIES",
    "BUILTIN_STATUSES",
    "DEFAULT_OPTIONS",
    "FIELD_TYPES",
    "MAP_VERSION",
    "builtin_attributes",
    "dump_map_yaml",
    "load_map_yaml",
    "map_hash",
    "propose_map",
    "similarity",
    "validate_map",
]
