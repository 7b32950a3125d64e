"""What the ledger keeps of a record: nothing the map does not migrate (the IP by default)."""

from __future__ import annotations

from hesk.records import CustomFieldValue
from mapping.retention import retained
from tests.helpers.mapping_builders import base_map, ticket

PUBLIC = CustomFieldValue(1, "custom1", "Order number", "text", "A-1", ("A-1",))
STAFF_ONLY = CustomFieldValue(3, "custom3", "Internal code", "hidden", "X9", ("X9",))
UNMAPPED = CustomFieldValue(42, "custom42", "custom42", None, "left over", ("left over",))


def test_the_proposal_does_not_migrate_ips() -> None:
    assert base_map()["options"]["migrate_ip"] is False


def test_the_ip_and_unmigrated_custom_values_are_dropped_the_rest_kept() -> None:
    t = ticket(ip="203.0.113.9", custom_fields=(PUBLIC, STAFF_ONLY, UNMAPPED))
    kept = retained(t, base_map())
    assert kept.ip == "" and kept.custom_fields == (PUBLIC,)
    assert "203.0.113.9" not in str(kept.to_payload())
    assert "X9" not in str(kept.to_payload())
    for name in (
        "source_id",
        "id",
        "trackid",
        "created_at",
        "updated_at",
        "closed_at",
        "requester_contact_id",
        "follower_contact_ids",
        "attachments",
        "history",
        "message_html",
        "category_id",
        "owner_id",
        "anonymised",
    ):
        assert getattr(kept, name) == getattr(t, name), name


def test_a_change_only_in_what_does_not_move_is_no_change() -> None:
    the_map = base_map()
    a = retained(ticket(ip="203.0.113.9", custom_fields=(PUBLIC, STAFF_ONLY)), the_map)
    b = retained(ticket(ip="198.51.100.4", custom_fields=(PUBLIC,)), the_map)
    assert a.content_hash == b.content_hash
    c = retained(ticket(ip="198.51.100.4", subject="Printer still on fire"), the_map)
    assert c.content_hash != a.content_hash


def test_what_the_map_moves_is_kept() -> None:
    t = ticket(ip="203.0.113.9", custom_fields=(PUBLIC, STAFF_ONLY))
    kept = retained(t, base_map(migrate_ip=True, staff_only_fields="move"))
    assert kept is t
    moved = base_map()
    next(e for e in moved["custom_fields"] if e["hesk_id"] == 3)["migrate"] = True
    assert retained(t, moved).custom_fields == (PUBLIC, STAFF_ONLY)
    quiet = base_map()
    next(e for e in quiet["custom_fields"] if e["hesk_id"] == 1)["migrate"] = False
    assert retained(t, quiet).custom_fields == ()
