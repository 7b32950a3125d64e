"""Projections: pure folds over events, optionally kept as a table caught up incrementally.

A projection says which row keys an event touches and how a row's value changes
(``apply(key, value, recorded) -> value | None``; None removes the row). :func:`fold` runs
it over any event stream in memory. :class:`ProjectionTable` keeps the same state in
``projection_rows`` and catches up from its checkpoint, writing rows and checkpoint in one
transaction, so a crash never leaves them apart and rebuilding from seq 0 gives the same rows.

Why a snapshot checkpoint and not just ``seq``: sequence numbers are handed out before
commit, so a transaction still in flight can later commit an event *below* a seq we have
already passed. The checkpoint is therefore the transaction snapshot (``pg_current_snapshot``)
of the last catch-up: the next one applies exactly the events whose writing transaction was
not visible then and is visible now, in seq order. Transactions that never write events
(however long they run) delay nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection, Engine

from core import json_codec
from ledger.events import Recorded
from ledger.schema import projection_checkpoints, projection_rows
from ledger.store import recorded_from_row

JSON = Any
#: Told, once a catch-up has committed, of each row it changed: the row's key, its value
#: before and its value after (None: no row).
RowObserver = Callable[[str, JSON | None, JSON | None], None]


#: The rows of the keys a catch-up touched: one probe of the primary key per key. As a
#: join it hashed the whole projection (18 ms for 541 keys of 22,000 rows, and growing
#: with the migration) instead of 3 ms.
ROWS_BY_KEYS = (
    "SELECT x.k, r.value FROM unnest(%(k)b::text[]) AS x(k) CROSS JOIN LATERAL ("
    "SELECT value FROM projection_rows WHERE projection = %(p)s AND migration_id = %(m)s "
    "AND key = x.k LIMIT 1) AS r"
)


class Projection(Protocol):
    """A keyed fold over ledger events."""

    name: str
    types: tuple[str, ...] | None  # event types it reads; None reads every type
    #: Payload fields it never reads, left in the database when it catches up (a captured
    #: record's whole Hesk row, say: most of the bytes, and most of the decoding).
    omitted: tuple[str, ...]

    def keys(self, recorded: Recorded) -> Iterable[str]:
        """The row keys this event changes."""
        ...

    def apply(self, key: str, value: JSON | None, recorded: Recorded) -> JSON | None:
        """The row's new value after this event (None removes the row)."""
        ...


def fold(projection: Projection, records: Iterable[Recorded]) -> dict[str, JSON]:
    """The projection's whole state after the given events, computed in memory."""
    state: dict[str, JSON] = {}
    for rec in records:
        if projection.types is not None and rec.type not in projection.types:
            continue
        for key in projection.keys(rec):
            new = projection.apply(key, state.get(key), rec)
            if new is None:
                state.pop(key, None)
            else:
                state[key] = new
    return state


_EVENTS_SINCE = (
    "SELECT seq, recorded_at, type, object, source_id, payload - %(omit)s::text[] FROM events "
    "WHERE migration_id = %(m)s AND txid >= pg_snapshot_xmin(%(lo)s::pg_snapshot) "
    "AND NOT pg_visible_in_snapshot(txid, %(lo)s::pg_snapshot) "
    "AND pg_visible_in_snapshot(txid, %(hi)s::pg_snapshot)"
)
_NO_SNAPSHOT = "1:1:"  # before any transaction: nothing was visible
#: Rows a ProjectionTable keeps in memory between its catch-ups (a few hundred MB at most).
KEPT_ROWS_MAX = 250_000


class ProjectionTable:
    """A projection kept in ``projection_rows`` for one migration, caught up on demand."""

    def __init__(
        self, engine: Engine, migration_id: str, projection: Projection, *, flush_every: int = 5000
    ) -> None:
        self.engine = engine
        self.migration_id = migration_id
        self.projection = projection
        self.flush_every = flush_every
        #: The snapshot this object's last catch-up left as the checkpoint (None: none yet).
        self._left_at: str | None = None
        #: True when the last catch-up started where this object's previous one ended: no
        #: other process applied events in between, so an observer has seen every change.
        self.continuous = False
        #: The rows this object's catch-ups wrote, as committed (None: deleted), while they
        #: are continuous: the next catch-up takes a row from here instead of reading it.
        self._kept: dict[str, JSON | None] = {}

    @property
    def _lock_id(self) -> str:
        return f"projection:{self.projection.name}:{self.migration_id}"

    def catch_up(self, observe: RowObserver | None = None) -> int:
        """Apply every committed event not yet applied; returns how many were applied.

        ``observe``, once the catch-up has committed, is told every row it changed; with
        :attr:`continuous` it lets a caller keep a summary of the rows without reading them.
        """
        self.continuous = False
        changes: dict[str, tuple[JSON | None, JSON | None]] | None = (
            {} if observe is not None else None
        )
        written: dict[str, JSON | None] = {}
        try:
            with self.engine.begin() as conn:
                conn.exec_driver_sql(
                    "SELECT pg_advisory_xact_lock(hashtextextended(%(l)s, 0))",
                    {"l": self._lock_id},
                )
                low, last_seq = self._checkpoint(conn)
                continuous = low == self._left_at
                if not continuous:
                    self._kept.clear()  # another process changed rows since: read them
                high = str(conn.exec_driver_sql("SELECT pg_current_snapshot()::text").scalar_one())
                applied = 0
                if high != low:
                    applied, max_seq = self._apply_range(conn, low, high, changes, written)
                    self._save_checkpoint(conn, high, max(last_seq, max_seq))
        except BaseException:
            self._kept.clear()
            raise
        self._left_at, self.continuous = high, continuous
        self._keep(written)
        if observe is not None and changes:
            for key, (before, after) in changes.items():
                observe(key, before, after)
        return applied

    def _keep(self, written: dict[str, JSON | None]) -> None:
        """Remember the rows a committed catch-up wrote, up to KEPT_ROWS_MAX rows."""
        if len(self._kept) + len(written) > KEPT_ROWS_MAX:
            self._kept.clear()  # a large migration: its rows are read as they are needed
            if len(written) > KEPT_ROWS_MAX:
                return
        self._kept.update(written)

    def _apply_range(
        self,
        conn: Connection,
        low: str,
        high: str,
        changes: dict[str, tuple[JSON | None, JSON | None]] | None = None,
        written: dict[str, JSON | None] | None = None,
    ) -> tuple[int, int]:
        sql = _EVENTS_SINCE
        params: dict[str, Any] = {
            "m": self.migration_id,
            "lo": low,
            "hi": high,
            "omit": list(self.projection.omitted),
        }
        if self.projection.types is not None:
            sql += " AND type = ANY(%(types)s)"
            params["types"] = list(self.projection.types)
        sql += " ORDER BY seq"
        cache: dict[str, JSON | None] = {}
        dirty: set[str] = set()
        applied = max_seq = 0
        opts = {"stream_results": True, "yield_per": 2000}
        result = conn.exec_driver_sql(sql, params, execution_options=opts)
        for block in result.partitions(2000):
            records = [recorded_from_row(row) for row in block]
            touched = [list(self.projection.keys(rec)) for rec in records]
            missing = list(dict.fromkeys(k for keys in touched for k in keys if k not in cache))
            # What this catch-up flushed already, else what the last ones committed.
            known: dict[str, JSON | None] = {}
            for k in missing:
                if written is not None and k in written:
                    known[k] = written[k]
                elif k in self._kept:
                    known[k] = self._kept[k]
            missing = [k for k in missing if k not in known]
            loaded = self._load(conn, missing) if missing else {}  # one query per block
            loaded.update(known)
            if loaded:
                cache.update(loaded)
                if changes is not None:
                    for key, value in loaded.items():
                        if key not in changes:  # a key flushed earlier keeps its first value
                            changes[key] = (value, value)
            for rec, keys in zip(records, touched, strict=True):
                for key in keys:
                    cache[key] = self.projection.apply(key, cache[key], rec)
                    dirty.add(key)
                    if changes is not None:
                        changes[key] = (changes[key][0], cache[key])
            applied += len(records)
            max_seq = records[-1].seq if records else max_seq
            if len(dirty) >= self.flush_every:
                self._flush(conn, cache, dirty, written)
                cache.clear()
                dirty.clear()
                if written is not None and len(written) > KEPT_ROWS_MAX:
                    # Too many to keep: read them back as before, memory bounded by
                    # flush_every, and keep none of this catch-up's rows.
                    written.clear()
                    self._kept.clear()
                    written = None
        self._flush(conn, cache, dirty, written)
        return applied, max_seq

    def _checkpoint(self, conn: Connection) -> tuple[str, int]:
        t = projection_checkpoints
        row = conn.execute(
            sa.select(t.c.snapshot, t.c.seq).where(
                t.c.projection == self.projection.name, t.c.migration_id == self.migration_id
            )
        ).first()
        return (str(row[0]), int(row[1])) if row else (_NO_SNAPSHOT, 0)

    def _save_checkpoint(self, conn: Connection, snapshot: str, seq: int) -> None:
        stmt = pg_insert(projection_checkpoints).values(
            projection=self.projection.name,
            migration_id=self.migration_id,
            snapshot=snapshot,
            seq=seq,
        )
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["projection", "migration_id"],
                set_={"snapshot": stmt.excluded.snapshot, "seq": stmt.excluded.seq},
            )
        )

    def _load(self, conn: Connection, keys: list[str]) -> dict[str, JSON | None]:
        found: dict[str, JSON | None] = dict.fromkeys(keys)
        rows = conn.exec_driver_sql(
            ROWS_BY_KEYS, {"k": keys, "p": self.projection.name, "m": self.migration_id}
        )
        for key, value in rows:
            found[key] = value
        return found

    def _flush(
        self,
        conn: Connection,
        cache: dict[str, JSON | None],
        dirty: set[str],
        written: dict[str, JSON | None] | None = None,
    ) -> None:
        if not dirty:
            return
        if written is not None:
            written.update((k, cache[k]) for k in dirty)
        t = projection_rows
        gone = [k for k in dirty if cache[k] is None]
        kept = [k for k in dirty if cache[k] is not None]
        if gone:
            conn.execute(
                t.delete().where(
                    t.c.projection == self.projection.name,
                    t.c.migration_id == self.migration_id,
                    t.c.key.in_(gone),
                )
            )
        if kept:
            conn.exec_driver_sql(
                "INSERT INTO projection_rows (projection, migration_id, key, value) "
                "SELECT %(p)s, %(m)s, k, v::jsonb FROM unnest(%(k)b::text[], %(v)b::text[]) "
                "AS x(k, v) ON CONFLICT (projection, migration_id, key) "
                "DO UPDATE SET value = EXCLUDED.value",
                {
                    "p": self.projection.name,
                    "m": self.migration_id,
                    "k": kept,
                    "v": [json_codec.dumps(cache[k]) for k in kept],
                },
            )

    # --- reading ---------------------------------------------------------------------

    def get(self, key: str) -> JSON | None:
        """The current value of one row (after the last catch-up)."""
        with self.engine.connect() as conn:
            return self._load(conn, [key])[key]

    def items(self) -> Iterator[tuple[str, JSON]]:
        """Every row, streamed in key order."""
        t = projection_rows
        q = (
            sa.select(t.c.key, t.c.value)
            .where(t.c.projection == self.projection.name, t.c.migration_id == self.migration_id)
            .order_by(t.c.key)
        )
        with self.engine.connect() as conn:
            opts = {"stream_results": True, "yield_per": 2000}
            yield from conn.execute(q, execution_options=opts)

    def state(self) -> dict[str, JSON]:
        """Every row as a dict (for small projections and tests)."""
        return dict(self.items())

    def checkpoint_seq(self) -> int:
        """The highest seq applied so far."""
        with self.engine.connect() as conn:
            return self._checkpoint(conn)[1]

    def rebuild(self) -> int:
        """Drop this projection's rows and checkpoint and replay from seq 0."""
        with self.engine.begin() as conn:
            conn.exec_driver_sql(
                "SELECT pg_advisory_xact_lock(hashtextextended(%(l)s, 0))", {"l": self._lock_id}
            )
            for t in (projection_rows, projection_checkpoints):
                conn.execute(
                    t.delete().where(
                        t.c.projection == self.projection.name,
                        t.c.migration_id == self.migration_id,
                    )
                )
        return self.catch_up()
