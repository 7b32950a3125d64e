"""What of a Hesk record the ledger keeps: every field, less those the map does not migrate.

Data the map leaves behind (the requester's IP unless ``options.migrate_ip``; the values of
custom fields whose entry does not migrate, e.g. staff-only fields under
``staff_only_fields: skip``) is dropped before a record is captured, so it is never
written to the ledger. The content hash is then the hash of what is kept: a change in a
field that does not move is not a change (a delta captures nothing new for it). Ids,
timestamps and parent links are never dropped: the engine needs them.

Changing the map to move more (``migrate_ip: true``) takes effect for the records
captured after it: a full ``migrate`` re-captures every record, a delta only the changed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hesk.records import Record, Ticket
from mapping.common import entry, option
from mapping.defaults import field_migrates


def retained(record: Record, the_map: dict[str, Any]) -> Record:
    """``record`` with the fields ``the_map`` does not migrate emptied (same record if none)."""
    if not isinstance(record, Ticket):
        return record
    changes: dict[str, Any] = {}
    if record.ip and not option(the_map, "migrate_ip"):
        changes["ip"] = ""
    kept = tuple(v for v in record.custom_fields if _moves(v.field_id, the_map))
    if len(kept) != len(record.custom_fields):
        changes["custom_fields"] = kept
    return dataclasses.replace(record, **changes) if changes else record


def _moves(field_id: int, the_map: dict[str, Any]) -> bool:
    """Whether a custom field's values move: it has a map entry that migrates."""
    item = entry(the_map, "custom_fields", field_id)
    return item is not None and field_migrates(item, the_map)
