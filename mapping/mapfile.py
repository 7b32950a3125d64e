"""The map as a file: YAML with an explanatory header, read back safely, hashed stably."""

from __future__ import annotations

from typing import Any

import yaml

from core.hashing import content_hash

HEADER = """\
# hesk2intercom field map — proposed by `hesk2intercom map propose`; edit, then run
# `hesk2intercom map confirm --file THIS_FILE`. No record moves before a map is confirmed.
#
# Every entry shows the Hesk object (hesk_id, hesk_name), its proposed Intercom target,
# a confidence (0..1) and the reason. Edit the target; confidence/reason are informational.
# Only the sections and keys below are accepted, each with its type (map confirm names any
# other by its path, e.g. categories.3.team).
#
# target:         conversations | tickets — what a Hesk ticket becomes in Intercom; fixed for a
#                 migration once it ran (a rollback frees it)
# tickets:        (target tickets) type_name: the ticket type found or created; history:
#                 attribute (multiline hesk_history) | note (one admin note)
#
# options:
#   fallback_admin_email  admin who authors what unmatched staff wrote ("Originally by NAME"),
#                         the history notes, closes and assignments (default: token owner)
#   staff_only_fields     skip | move — staff-only custom fields (a field's migrate: true/false
#                         overrides this; migrate: auto follows it)
#   anonymised_tickets    skip | migrate_without_requester (one shared placeholder contact)
#   long_threads          fold | keep — above 500 parts, fold the oldest into one transcript
#                         note (Intercom reads back only the newest 500 parts)
#   migrate_ip            false | true — copy the ticket IP into the hesk_ip attribute
#   max_attachment_bytes  larger files are quarantined (default 25 MB)
#   max_request_bytes     request body Intercom accepts (default 50 MB): a part's files fit
#                         it as base64; a file that cannot even alone is quarantined
#   hesk_url              e.g. https://help.example.com — KB attachment links in articles
#   customer_ticket_url   where `redirects` sends customers' ticket.php links (default: the
#                         help center's home)
# attributes:     conversation attributes always created (hesk_ticket_id may be integer or
#                 string); existing_id links one that already exists instead of creating it
# custom_fields:  attribute (name), data_type (string|integer|list|decimal|boolean|datetime),
#                 options (labels, list only), existing_id (reuse an existing attribute),
#                 migrate (auto|true|false)
# categories:     team: NAME (an existing Intercom team) or tag: NAME (fallback)
# staff:          admin_email: the Intercom admin's email, or null (fallback admin + invite)
# statuses:       state: open | closed; ticket_state: an Intercom ticket state's internal
#                 label (target tickets; states cannot be created by the API)
# priorities:     value: one of the hesk_priority options
"""


def dump_map_yaml(mapping: dict[str, Any]) -> str:
    """The map as YAML text with the explanatory header (round-trips via load_map_yaml)."""
    body = yaml.safe_dump(
        mapping, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return f"{HEADER}\n{body}"


def load_map_yaml(text: str) -> dict[str, Any]:
    """A map from YAML text (``yaml.safe_load``); ValueError if it is not a mapping."""
    loaded = yaml.safe_load(text)
    if not isinstance(loaded, dict):
        raise ValueError("the map file must hold a YAML mapping (see the header comments)")
    return loaded


def map_hash(mapping: dict[str, Any]) -> str:
    """A stable hash of the map's content (key order and YAML comments do not matter)."""
    return content_hash(mapping)
