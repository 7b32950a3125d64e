"""The hot-path JSON codec writes and reads what the standard library did for our values."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from core import json_codec


@dataclass
class Point:
    x: int


def stdlib(value: object) -> str:
    """How the ledger and the client encoded JSON before the codec."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=str)


VALUES = [
    {"subject": "Drucker kaputt – bitte helfen 🙏", "id": 42, "ok": True, "none": None},
    {"nested": [{"a": [1, 2.5, -3]}, "x"], "empty": {}, "list": []},
    {1: "int keys become strings", "2": "as json.dumps does"},
    {"when": datetime(2024, 2, 29, 13, 45, 1, tzinfo=UTC), "day": date(2024, 1, 2)},
    {"price": Decimal("12.50"), "point": Point(3)},
    {"html": '<p class="x">a &amp; b</p>\n\t"quoted" \\ back\u2028slash'},
    {"big": 2**63 - 1, "small": -(2**63), "float": 0.1 + 0.2},
]


@pytest.mark.parametrize("value", VALUES)
def test_it_writes_what_the_standard_library_wrote(value: object) -> None:
    assert json.loads(json_codec.dumps(value)) == json.loads(stdlib(value))
    assert json_codec.dumps(value) == stdlib(value)


@pytest.mark.parametrize("value", VALUES)
def test_it_reads_back_what_it_wrote_like_the_standard_library(value: object) -> None:
    text = stdlib(value)
    assert json_codec.loads(text) == json.loads(text)
    assert json_codec.loads(text.encode()) == json.loads(text)


def test_a_body_without_a_default_refuses_what_json_has_no_type_for() -> None:
    assert json_codec.dumps_bytes({"a": "é"}) == '{"a":"é"}'.encode()
    with pytest.raises(TypeError):
        json_codec.dumps_bytes({"at": datetime(2024, 1, 1, tzinfo=UTC)})


@pytest.mark.parametrize("bad", [b"", b"{", b"{'a': 1}", b"NaN", "[1,]"])
def test_what_is_not_json_is_a_value_error(bad: bytes | str) -> None:
    with pytest.raises(ValueError):
        json_codec.loads(bad)
