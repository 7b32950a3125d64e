"""The map's vocabulary: option defaults and values, Hesk built-ins, attribute types/names."""

from __future__ import annotations

from typing import Any

from core.intercom_limits import MAX_REQUEST_BYTES

MAP_VERSION = 1

#: Options and their defaults (the values the planners use when the map leaves one out).
DEFAULT_OPTIONS: dict[str, Any] = {
    "fallback_admin_email": None,
    "staff_only_fields": "skip",
    "anonymised_tickets": "skip",
    "long_threads": "fold",
    "migrate_ip": False,
    "max_attachment_bytes": 25 * 1024 * 1024,
    "max_request_bytes": MAX_REQUEST_BYTES,
    "hesk_url": None,
    "customer_ticket_url": None,
}
#: (Allowed values and types of every key: ``mapping.fieldmap.MapOptions``.)

#: Hesk's built-in priorities (id -> label), most urgent first.
BUILTIN_PRIORITIES: dict[int, str] = {0: "Critical", 1: "High", 2: "Medium", 3: "Low"}
#: Hesk's built-in statuses; only 3 (Resolved) is closed.
BUILTIN_STATUSES: dict[int, str] = {
    0: "New", 1: "Waiting reply", 2: "Replied", 3: "Resolved", 4: "In Progress", 5: "On Hold",
}  # fmt: skip
CLOSED_STATUS = 3

#: Hesk custom field type -> conversation attribute data type (docs/mapping.md).
FIELD_TYPES: dict[str, str] = {
    "text": "string", "textarea": "string", "email": "string", "hidden": "string",
    "select": "list", "radio": "list", "checkbox": "string", "date": "datetime",
}  # fmt: skip

#: Names of the attributes the migration always creates.
TICKET_ID_ATTR = "hesk_ticket_id"
TRACKID_ATTR = "hesk_trackid"
PRIORITY_ATTR = "hesk_priority"
MERGED_ATTR = "hesk_merged_ids"
IP_ATTR = "hesk_ip"
TAG_PREFIX = "Hesk: "

#: Where tickets go (the map's ``target``): Intercom conversations or Intercom tickets.
TARGETS = ("conversations", "tickets")
DEFAULT_TARGET = "conversations"
#: Tickets target: the ticket type's default name, and where the Hesk history goes.
TICKET_TYPE_NAME = "Hesk ticket"
HISTORY_PLACES = ("attribute", "note")
HISTORY_ATTR = "hesk_history"
CATEGORY_ATTR = "hesk_category"


def builtin_attributes(*, migrate_ip: bool = False) -> list[dict[str, Any]]:
    """The attributes every migration creates (plus ``hesk_ip`` when IPs move)."""
    attrs: list[dict[str, Any]] = [
        {"name": TICKET_ID_ATTR, "data_type": "integer",
         "description": "Hesk ticket id (numeric); string also allowed", "existing_id": None},
        {"name": TRACKID_ATTR, "data_type": "string",
         "description": "Hesk tracking id", "existing_id": None},
        {"name": PRIORITY_ATTR, "data_type": "list", "options": list(BUILTIN_PRIORITIES.values()),
         "description": "Hesk priority (Intercom's own priority is read-only)",
         "existing_id": None},
        {"name": MERGED_ATTR, "data_type": "string",
         "description": "Tracking ids of Hesk tickets merged into this one", "existing_id": None},
    ]  # fmt: skip
    if migrate_ip:
        attrs.append(
            {
                "name": IP_ATTR,
                "data_type": "string",
                "description": "IP address the Hesk ticket came from",
                "existing_id": None,
            }
        )
    return attrs


def field_migrates(entry: dict[str, Any], mapping: dict[str, Any]) -> bool:
    """Whether a custom field's values move: its ``migrate`` (true/false), or for ``auto``
    public fields always and staff-only fields per ``options.staff_only_fields``.
    """
    migrate = entry.get("migrate", "auto")
    if migrate is True or migrate is False:
        return migrate
    if not entry.get("staff_only"):
        return True
    options = mapping.get("options") or {}
    return bool(options.get("staff_only_fields", DEFAULT_OPTIONS["staff_only_fields"]) == "move")
