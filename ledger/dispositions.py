"""The dispositions projection (a pure fold over ledger events) and the queries on its rows.

``Dispositions``: one row per source record (``object:source_id``) with its state —
pending, migrated, quarantined or skipped — for the newest captured version. A record
captured again with new content goes back to pending until that version is settled.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from sqlalchemy.engine import Engine

from core.objects import OBJECTS
from ledger.events import (
    Recorded,
    RecordMigrated,
    RecordQuarantined,
    RecordSkipped,
    SourceCaptured,
    SourceDeleted,
)
from ledger.keys import source_key

STATES = ("migrated", "quarantined", "skipped", "pending")


class DispositionRow(TypedDict, total=False):
    """One row of the dispositions projection (``object:source_id``), as stored.

    ``hash`` is the newest captured version's record hash; ``state`` and ``reason`` where
    that version stands; ``settled`` the state and reason of every version settled so far
    (by hash); ``captured``/``deleted`` are present (True) once captured / seen deleted;
    ``intercom_id`` is the last migrated version's.
    """

    object: str
    source_id: str
    captured: bool
    hash: str
    state: str
    reason: str
    settled: dict[str, list[str]]
    deleted: bool
    intercom_id: str


_FINAL = {
    RecordMigrated.TYPE: "migrated",
    RecordQuarantined.TYPE: "quarantined",
    RecordSkipped.TYPE: "skipped",
}


class Dispositions:
    """Per source record: its newest version's hash and where that version stands."""

    name = "dispositions"
    types: tuple[str, ...] | None = (
        SourceCaptured.TYPE,
        SourceDeleted.TYPE,
        *_FINAL,
    )
    omitted: tuple[str, ...] = ("record",)

    def keys(self, recorded: Recorded) -> Iterable[str]:
        """One row per (object, source_id)."""
        e = recorded.event
        return (f"{e.object}:{e.source_id}",)

    def apply(self, key: str, value: DispositionRow | None, recorded: Recorded) -> DispositionRow:
        """Fold one event into the record's row."""
        e = recorded.event
        row: DispositionRow = (
            DispositionRow(**value) if value else {"object": e.object, "source_id": e.source_id}
        )
        if isinstance(e, SourceCaptured):
            row["captured"] = True
            if row.get("hash") != e.content_hash:
                row["hash"] = e.content_hash
                known = row.get("settled", {}).get(e.content_hash)
                row["state"], row["reason"] = known or ("pending", "")
            row.pop("deleted", None)
            return row
        if isinstance(e, SourceDeleted):
            row["deleted"] = True
            return row
        state = _FINAL[e.TYPE]
        digest = getattr(e, "content_hash", "")
        reason = getattr(e, "reason", "")
        # Remember the settlement per version: it may arrive before a re-capture is folded.
        settled = dict(row.get("settled", {}))
        if state == "migrated" or digest not in settled or settled[digest][0] != "migrated":
            settled[digest] = [state, reason]
        row["settled"] = settled
        if isinstance(e, RecordMigrated):
            row["intercom_id"] = e.intercom_id
        if row.get("hash", digest) == digest:
            row["hash"] = digest
            row["state"], row["reason"] = settled[digest]
        return row


def summarise(rows: Iterable[DispositionRow]) -> dict[str, dict[str, int]]:
    """Counts per object: source, and each state; objects with no record count zero."""
    counts = {o: dict.fromkeys(("source", *STATES), 0) for o in OBJECTS}
    for row in rows:
        c = counts.get(row["object"])
        if c is None or not row.get("captured"):
            continue  # not a Hesk record (the workspace unit, built-in attributes)
        c["source"] += 1
        c[row.get("state", "pending")] += 1
    return counts


class SettledTally:
    """Per object: captured records and how many of them are settled, kept up to date
    from a counting (:func:`settled_counts`) and the rows each catch-up changed since.

    It counts every object, the workspace unit (no Hesk record, not in the report's object
    list) included: a phase must not end while its workspace unit is pending.
    Counting the projection's rows reads every row of the migration (tens of ms at tens
    of thousands of records); a coordinator that follows a phase twice a second keeps
    this tally instead, from what its own catch-ups tell it (``ProjectionTable.catch_up``'s
    observer), and counts again only when another process caught up in between.
    """

    def __init__(self, counted: dict[str, tuple[int, int]]) -> None:
        self.totals = {obj: total for obj, (total, _) in counted.items()}
        self.settled = {obj: settled for obj, (_, settled) in counted.items()}

    def observe(self, key: str, before: Any, after: Any) -> None:
        """Move the counts by one row's change (``before``/``after``: None is no row)."""
        for row, sign in ((before, -1), (after, 1)):
            if not row or not row.get("captured"):
                continue
            obj = row["object"]
            self.totals[obj] = self.totals.get(obj, 0) + sign
            if row.get("state", "pending") != "pending":
                self.settled[obj] = self.settled.get(obj, 0) + sign

    def counts(self, objects: Iterable[str]) -> dict[str, tuple[int, int]]:
        """Per object with any captured record: (captured, of which settled), as
        :func:`settled_counts` answers."""
        return {
            obj: (self.totals[obj], self.settled.get(obj, 0))
            for obj in objects
            if self.totals.get(obj, 0) > 0
        }


def pending_keys(engine: Engine, migration_id: str, objects: Iterable[str]) -> list[str]:
    """Capture keys of every pending, not deleted record of these objects."""
    sql = (
        "SELECT value->>'object', value->>'source_id', value->>'hash' FROM projection_rows "
        "WHERE projection = %(p)s AND migration_id = %(m)s AND value->>'state' = 'pending' "
        "AND value->>'object' = ANY(%(o)s) AND NOT (value ? 'deleted')"
    )
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(
            sql, {"p": Dispositions.name, "m": migration_id, "o": list(objects)}
        )
        return [source_key(o, s, h) for o, s, h in rows]


def settled_counts(
    engine: Engine, migration_id: str, objects: Iterable[str] | None = None
) -> dict[str, tuple[int, int]]:
    """Per object: (captured records, of which settled), for these objects (None: every
    object with a captured record, the workspace unit included)."""
    sql = (
        "SELECT value->>'object', count(*), "
        "count(*) FILTER (WHERE value->>'state' <> 'pending') FROM projection_rows "
        "WHERE projection = %(p)s AND migration_id = %(m)s AND (value ? 'captured') "
    )
    params: dict[str, Any] = {"p": Dispositions.name, "m": migration_id}
    if objects is not None:
        sql += "AND value->>'object' = ANY(%(o)s) "
        params["o"] = list(objects)
    with engine.connect() as conn:
        rows = conn.exec_driver_sql(sql + "GROUP BY 1", params)
        return {obj: (int(total), int(settled)) for obj, total, settled in rows}


#: Captured records of one object that Hesk still had at the last look.
_PRESENT = (
    "FROM projection_rows WHERE projection = %(p)s AND migration_id = %(m)s "
    "AND value->>'object' = %(o)s AND NOT (value ? 'deleted') AND (value ? 'captured')"
)


def _query_present(engine: Engine, migration_id: str, select: str, obj: str) -> list[Any]:
    with engine.connect() as conn:
        params = {"p": Dispositions.name, "m": migration_id, "o": obj}
        return list(conn.exec_driver_sql(f"SELECT {select} {_PRESENT}", params))


def present_ids(engine: Engine, migration_id: str, obj: str) -> set[str]:
    """Source ids of this object captured and not yet marked deleted."""
    return {s for (s,) in _query_present(engine, migration_id, "value->>'source_id'", obj)}


def present_summary(engine: Engine, migration_id: str, obj: str) -> tuple[int, int]:
    """How many ids of this object are captured and not deleted, and the largest of them."""
    select = "count(*), coalesce(max((value->>'source_id')::bigint), 0)"
    count, top = _query_present(engine, migration_id, select, obj)[0]
    return int(count), int(top)
