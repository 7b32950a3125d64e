"""Every record round-trips through its JSON payload and hashes stably."""

from __future__ import annotations

import json

from core.objects import OBJECTS
from hesk.records import RECORD_CLASSES, record_from_payload


def test_object_names_are_the_contract() -> None:
    assert set(OBJECTS) <= set(RECORD_CLASSES)
    assert RECORD_CLASSES["contact"].__name__ == "Customer"
    assert RECORD_CLASSES["ticket_template"].__name__ == "TicketTemplate"


def test_every_record_round_trips(demo_records) -> None:
    seen = set()
    for object, records in demo_records.items():
        if object == "__findings__":
            continue
        for rec in records:
            payload = rec.to_payload()
            text = json.dumps(payload)  # JSON-safe, plain types only
            again = record_from_payload(object, json.loads(text))
            assert again == rec
            assert again.content_hash == rec.content_hash and len(rec.content_hash) == 64
            assert isinstance(rec.source_id, str)
        seen.add(object)
    assert {
        "ticket",
        "reply",
        "note",
        "contact",
        "staff",
        "category",
        "custom_field",
        "kb_category",
        "kb_article",
        "canned_response",
        "attachment",
    } <= seen


def test_content_hash_changes_with_content(demo_records) -> None:
    from dataclasses import replace

    ticket = demo_records["ticket"][0]
    assert replace(ticket, subject=ticket.subject + "!").content_hash != ticket.content_hash
