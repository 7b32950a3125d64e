"""The planners' context: the confirmed map's ids plus the Intercom ids of dependencies."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Connection

from engine.resources import Resources
from ledger.events import RecordMigrated
from ledger.store import SettlementsRead
from mapping.steps import UnitContext


def resolve_map(
    the_map: Mapping[str, Any],
    *,
    admins: Sequence[Mapping[str, Any]],
    teams: Sequence[Mapping[str, Any]],
    me: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The map's names and emails turned into workspace ids (recorded with MapConfirmed)."""
    by_email = {str(a.get("email", "")).casefold(): str(a["id"]) for a in admins if a.get("id")}
    by_team = {str(t.get("name", "")).casefold(): str(t["id"]) for t in teams if t.get("id")}
    staff = {}
    for entry in the_map.get("staff") or ():
        email = str(entry.get("admin_email") or "").casefold()
        if email and email in by_email:
            staff[str(entry["hesk_id"])] = by_email[email]
    categories = {}
    for entry in the_map.get("categories") or ():
        team = str(entry.get("team") or "").casefold()
        if team and team in by_team:
            categories[str(entry["hesk_id"])] = by_team[team]
    options = the_map.get("options") or {}
    fallback_email = str(options.get("fallback_admin_email") or "").casefold()
    fallback = by_email.get(fallback_email) or (str(me["id"]) if me else "")
    return {"admins": staff, "teams": categories, "fallback_admin_id": fallback}


def attribute_names(the_map: Mapping[str, Any]) -> dict[str, str]:
    """Custom field id -> conversation attribute name, for the fields the map moves."""
    names = {}
    for entry in the_map.get("custom_fields") or ():
        if entry.get("migrate", True) and entry.get("attribute"):
            names[str(entry["hesk_id"])] = str(entry["attribute"])
    return names


@dataclass(frozen=True)
class SettledContext(UnitContext):
    """A UnitContext that also knows which dependencies were settled when it was read."""

    settled: frozenset[str] = frozenset()


def dep_pair(key: str) -> tuple[str, str]:
    """The ``(object, source_id)`` of a dependency key (``mapping.common.dep_key`` made it)."""
    obj, _, source_id = key.partition(":")
    return obj, source_id


def build_context(
    res: Resources,
    the_map: dict[str, Any],
    deps: list[str],
    *,
    conn: Connection | None = None,
    read: SettlementsRead | None = None,
) -> SettledContext:
    """The context of one unit: map ids and the Intercom ids of its settled dependencies.

    ``ctx.settled`` lists every dependency settled (in any state) when it was built, so a
    caller can tell "not settled yet" from "settled without an id" on the same reading.
    ``conn``: the connection to read on (a worker's unit lock connection), else a pooled one.
    ``read``: settlements read with the unit's lock; only the dependencies it did not ask
    for are read here.
    """
    resolved = the_map.get("resolved") or {}
    pairs = [dep_pair(d) for d in deps]
    ids: dict[str, str] = {}
    tags: dict[str, str] = {}
    settlements = res.ledger.settlements(pairs, conn=conn, read=read)
    settled = {f"{obj}:{sid}" for obj, sid in settlements}
    for (obj, sid), rec in settlements.items():
        event = rec.event
        if isinstance(event, RecordMigrated) and event.intercom_id:
            ids[f"{obj}:{sid}"] = event.intercom_id
            if obj == "category" and event.intercom_type == "tag":
                tags[sid] = event.intercom_id
    return SettledContext(
        settled=frozenset(settled),
        map=the_map,
        ids=ids,
        admins=dict(resolved.get("admins") or {}),
        fallback_admin_id=str(resolved.get("fallback_admin_id") or ""),
        teams=dict(resolved.get("teams") or {}),
        tags=tags,
        attributes=attribute_names(the_map),
        mark=res.mark(),
    )
