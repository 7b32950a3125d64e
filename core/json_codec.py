"""JSON on the hot paths: Intercom's answers and request bodies, and the ledger's payloads.

One codec (orjson, in Rust) instead of the standard library's: decoding answers and
payloads and encoding bodies and events took about a tenth of a worker's CPU per write.
It writes what ``json.dumps(..., ensure_ascii=False, separators=(",", ":"))`` wrote for
the values we store: keys that are not strings become strings, and a value it cannot
encode (a datetime, a Decimal, a dataclass) goes through ``default`` as before.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def loads(data: bytes | bytearray | memoryview | str) -> Any:
    """The value of a JSON text (ValueError when it is not JSON)."""
    return orjson.loads(data)


def dumps(value: Any, *, default: Callable[[Any], Any] | None = str) -> str:
    """Compact JSON text of ``value``, non-ASCII kept as is; what JSON has no type for goes
    through ``default`` (``str`` unless told otherwise; None: TypeError)."""
    return dumps_bytes(value, default=default).decode("utf-8")


def dumps_bytes(value: Any, *, default: Callable[[Any], Any] | None = None) -> bytes:
    """:func:`dumps` as UTF-8 bytes (an HTTP body); without ``default``, a value JSON has no
    type for is a TypeError."""
    return orjson.dumps(value, default=default, option=_OPTIONS)
