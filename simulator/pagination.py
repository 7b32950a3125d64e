"""Cursor pagination the Intercom way: ``per_page`` (≤150) and an opaque ``starting_after``."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any

from core.intercom_limits import MAX_PER_PAGE

from .errors import ApiError, invalid


def encode_cursor(offset: int) -> str:
    """The opaque cursor for the item at ``offset``."""
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int:
    """The offset a cursor stands for (0 for none); 400 for a cursor we never gave."""
    if not cursor:
        return 0
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not text.startswith("o:"):
            raise ValueError(text)
        offset = int(text[2:])
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise invalid("starting_after is not a valid cursor", "starting_after") from exc
    if offset < 0:
        raise invalid("starting_after is not a valid cursor", "starting_after")
    return offset


def per_page_value(raw: object, default: int) -> int:
    """``per_page`` as an int in 1..150, else 400."""
    if raw is None or raw == "":
        return default
    try:
        value = int(str(raw))
    except ValueError as exc:
        raise invalid("per_page must be an integer", "per_page") from exc
    if value < 1 or value > MAX_PER_PAGE:
        raise ApiError(400, "parameter_invalid", "per_page must be between 1 and 150", "per_page")
    return value


def page(
    items: Iterable[Any] | Sequence[Any], total: int, per_page: int, cursor: str | None
) -> tuple[list[Any], dict[str, Any]]:
    """One page of ``items`` (``total`` long) and Intercom's ``pages`` object."""
    offset = decode_cursor(cursor)
    if isinstance(items, Sequence):
        chunk = list(items[offset : offset + per_page])
    else:
        chunk = list(islice(items, offset, offset + per_page))
    total_pages = max(1, -(-total // per_page))
    pages: dict[str, Any] = {
        "type": "pages",
        "page": offset // per_page + 1,
        "per_page": per_page,
        "total_pages": total_pages,
    }
    if offset + per_page < total:
        pages["next"] = {"per_page": per_page, "starting_after": encode_cursor(offset + per_page)}
    return chunk, pages
