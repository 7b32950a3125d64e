"""Small pieces every planner shares: times, keys, completions, map look-ups, authors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.hashing import content_hash
from hesk.records import Record
from mapping.defaults import DEFAULT_OPTIONS
from mapping.steps import Completion, Disposition, UnitContext


@dataclass(frozen=True)
class NotedCompletion(Completion):
    """A completion with a line for the report (e.g. "private article imported as draft").

    It *is* a :class:`~mapping.steps.Completion`: an engine that ignores ``reason`` still
    settles the record; one that records it shows the line in the report.
    """

    reason: str = ""


def unix(at: datetime | None) -> int | None:
    """An aware datetime as Unix seconds (None stays None)."""
    return None if at is None else int(at.timestamp())


def dep_key(obj: str, source_id: object) -> str:
    """The ``"object:source_id"`` key of a dependency (as in ``UnitContext.ids``)."""
    return f"{obj}:{source_id}"


def identity(value: Any) -> str:
    """An identity hash of a JSON-able value (see ``Step.identity_hash``)."""
    return content_hash(value)


def completion(record: Record, reason: str = "") -> Completion:
    """The completion of a record: plain, or with a report line when ``reason`` is set."""
    if reason:
        return NotedCompletion(record.OBJECT, record.source_id, record.content_hash, reason)
    return Completion(record.OBJECT, record.source_id, record.content_hash)


def disposition(record: Record, state: str, reason: str, intercom_id: str = "") -> Disposition:
    """A record settled without a write: ``skipped``, ``quarantined`` or linked ``migrated``."""
    return Disposition(
        record.OBJECT, record.source_id, record.content_hash, state, reason, intercom_id
    )


# --------------------------------------------------------------------------- map access


def option(ctx_or_map: UnitContext | dict[str, Any], name: str) -> Any:
    """A map option (``options.<name>``), with the default when the map leaves it out."""
    mapping = ctx_or_map.map if isinstance(ctx_or_map, UnitContext) else ctx_or_map
    value = (mapping.get("options") or {}).get(name)
    return DEFAULT_OPTIONS.get(name) if value is None else value


def entry(mapping: dict[str, Any], section: str, hesk_id: object) -> dict[str, Any] | None:
    """The map entry of a section (``custom_fields``, ``categories``…) for a Hesk id."""
    wanted = str(hesk_id)
    item: dict[str, Any]
    for item in mapping.get(section) or ():
        if str(item.get("hesk_id")) == wanted:
            return item
    return None


# --------------------------------------------------------------------------- authors


def admin_for(staff_id: int | None, author_name: str, ctx: UnitContext) -> tuple[str, str]:
    """``(admin id, prefix)`` for a staff author: the matched admin and no prefix, or the
    fallback admin and an "Originally by NAME" prefix (empty admin id if neither exists).
    """
    admin = ctx.admins.get(str(staff_id)) if staff_id is not None else None
    if admin:
        return str(admin), ""
    name = (author_name or "").strip() or (
        f"Hesk staff #{staff_id}" if staff_id is not None else "Hesk staff"
    )
    return ctx.fallback_admin_id, f"Originally by {name}"
