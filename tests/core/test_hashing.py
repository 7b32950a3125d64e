"""The digests stored in ledgers and in Intercom never change: existing ledgers resume,
contacts keep their ``external_id``. Each is pinned to its value for a fixed input."""

from __future__ import annotations

from core import hashing

VALUE = {"b": [1, "é"], "a": None}


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_utf8() -> None:
    assert hashing.canonical_json(VALUE) == '{"a":null,"b":[1,"é"]}'


def test_each_digest_keeps_its_value_and_length() -> None:
    record = "f8f17faab95c024891d173fa43442b0e52007736a1f36715ac721ab22deeefc5"
    assert hashing.record_hash(VALUE) == record  # src: keys, dispositions (64 hex)
    assert hashing.content_hash(VALUE) == record[:16]  # dst: keys, the map (16 hex)
    assert hashing.email_digest("Ann@Example.com") == "71d4f55f72fa128dfb468a1a"  # 24 hex
    assert hashing.email_digest("ann@example.com") == hashing.email_digest("ANN@example.com")
    assert hashing.fingerprint("tok") == "1a7674eb"  # 8 hex
    assert hashing.text_hash("hello") == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
    )


def test_a_record_is_named_by_its_full_hash() -> None:
    from hesk.records import CannedResponse  # noqa: PLC0415

    canned = CannedResponse(
        source_id="1", id=1, title="Hi", message_html="<p>Hi</p>", message_text="Hi", order=0
    )
    assert canned.content_hash == hashing.record_hash(canned.to_payload())
    assert canned.to_payload() == {
        "source_id": "1",
        "id": 1,
        "title": "Hi",
        "message_html": "<p>Hi</p>",
        "message_text": "Hi",
        "order": 0,
    }
