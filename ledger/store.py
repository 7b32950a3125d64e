"""The event store: append events idempotently and stream them back.

``append`` is one INSERT … ON CONFLICT DO NOTHING RETURNING key per batch: an event already
recorded (same migration and key) is success, reported as False. A small batch (a unit's
flush) is a multi-row VALUES; a large one (a capture) SELECTs FROM unnest(…) of arrays sent
in binary (``%(k)b``): psycopg's text-format array dumper escapes every quote of every JSON
payload in Python, which cost more than the INSERT itself.
``read`` streams through a server-side cursor and never loads the whole table. The small,
indexed reads run in autocommit (one round trip, no BEGIN/ROLLBACK), on the caller's
connection when one is given: a worker runs all the reads of a unit on the autocommit
connection that holds the unit's lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from core import json_codec
from ledger.database import Statement, driver_rows, translate_db_error
from ledger.events import Event, Recorded, event_from_row
from ledger.schema import events as events_table

_INSERT = (
    "INSERT INTO events (migration_id, key, type, object, source_id, payload) "
    "SELECT %(m)s, k, t, o, s, p::jsonb "
    "FROM unnest(%(k)b::text[], %(t)b::text[], %(o)b::text[], %(s)b::text[], %(p)b::text[]) "
    "AS x(k, t, o, s, p) "
    "ON CONFLICT (migration_id, key) DO NOTHING RETURNING key"
)
#: Batches up to this many events (a unit's flush: an intent and the outcomes before it)
#: go as one multi-row VALUES of plain parameters, which psycopg adapts in C; larger ones as
#: arrays, whose dumper runs in Python per element but keeps the statement one size.
VALUES_ROWS_MAX = 16


@cache
def _insert_values(rows: int) -> str:
    """The INSERT of ``rows`` events as VALUES with positional parameters."""
    values = ", ".join(["(%s, %s, %s, %s, %s, %s::jsonb)"] * rows)
    return (
        "INSERT INTO events (migration_id, key, type, object, source_id, payload) "
        f"VALUES {values} ON CONFLICT (migration_id, key) DO NOTHING RETURNING key"
    )


#: The hot reads of a worker as plain SQL: no statement to compile or cache-key per call.
_BY_KEYS = (
    "SELECT key, seq, recorded_at, type, object, source_id, payload FROM events "
    "WHERE migration_id = %(m)s AND key = ANY(%(k)s)"
)
_OF_RECORD = (
    "SELECT seq, recorded_at, type, object, source_id, payload FROM events "
    "WHERE migration_id = %(m)s AND object = %(o)s AND source_id = %(s)s ORDER BY seq"
)
#: The newest event of given types of each (object, source_id): a unit's dependencies.
#: One probe of the record index per pair, newest first, whatever the statistics say: as a
#: join, planned on statistics taken before the types asked for were numerous, it read
#: every settlement of the migration instead (38 ms instead of 0.1 ms per unit).
LATEST_OF_RECORDS = (
    "SELECT e.seq, e.recorded_at, e.type, e.object, e.source_id, e.payload "
    "FROM unnest(%(o)s::text[], %(s)s::text[]) AS w(o, s) CROSS JOIN LATERAL ("
    "SELECT seq, recorded_at, type, object, source_id, payload FROM events "
    "WHERE migration_id = %(m)s AND object = w.o AND source_id = w.s AND type = ANY(%(t)s) "
    "ORDER BY seq DESC LIMIT 1) AS e"
)
#: The newest capture of each reply, note and attachment of one ticket (events_by_ticket).
_TICKET_CHILDREN = (
    "SELECT DISTINCT ON (object, source_id) seq, recorded_at, type, object, "
    "source_id, payload FROM events WHERE migration_id = %(m)s "
    "AND type = 'SourceCaptured' AND (payload->'record'->>'ticket_id') = %(t)s "
    "ORDER BY object, source_id, seq DESC"
)
#: A unit's lock and reads in one call (migrations/versions/0004_take_unit.py, and 0006
#: for a ticket's dependencies).
_TAKE_UNIT = (
    "SELECT part, seq, recorded_at, type, object, source_id, payload "
    "FROM h2i_take_unit(%(n)s, %(m)s, %(o)s, %(s)s, %(t)s, %(do)s, %(ds)s)"
)
#: The part of ``h2i_take_unit``'s rows that holds the settlements asked for (0006).
_SETTLEMENTS_PART = 3
#: The types that settle a record (``Ledger.settlements``).
SETTLING_TYPES = ("RecordMigrated", "RecordQuarantined", "RecordSkipped")
#: A unit's last events, then its lock let go (migrations/versions/0005_append_unlock.py).
_APPEND_UNLOCK = (
    "SELECT key FROM h2i_append_unlock(%(n)s, %(m)s, %(k)b::text[], %(t)b::text[], "
    "%(o)b::text[], %(s)b::text[], %(p)b::text[]) AS key"
)
_COLUMNS = (
    events_table.c.seq,
    events_table.c.recorded_at,
    events_table.c.type,
    events_table.c.object,
    events_table.c.source_id,
    events_table.c.payload,
)


def recorded_from_row(row: Any) -> Recorded:
    """A Recorded event from a (seq, recorded_at, type, object, source_id, payload) row."""
    return Recorded(row[0], row[1], event_from_row(row[2], row[3], row[4], row[5]))


def recorded_rows(rows: Iterable[Any]) -> list[Recorded]:
    """The Recorded events of rows read with the columns :func:`recorded_from_row` takes."""
    return [recorded_from_row(row) for row in rows]


@dataclass(frozen=True)
class SettlementsRead:
    """Settlements read ahead of planning (with a unit's lock, ``h2i_take_unit``'s part 3):
    which (object, source_id) pairs were read, and the newest settlement of those settled."""

    asked: frozenset[tuple[str, str]]
    found: dict[tuple[str, str], Recorded]

    @classmethod
    def of_call(cls, parts: dict[int, list[Any]]) -> SettlementsRead | None:
        """From the parts of ``h2i_take_unit``'s rows beyond its reads
        (``ledger.sessions.HeldLock.more``); None when it read no settlements."""
        rows = parts.get(_SETTLEMENTS_PART)
        return None if rows is None else cls.of_rows(rows)

    @classmethod
    def of_rows(cls, rows: Iterable[Any]) -> SettlementsRead:
        """From rows of :func:`recorded_from_row`'s columns, ``seq`` null where unsettled."""
        asked, found = set(), {}
        for row in rows:
            pair = (row[3], row[4])
            asked.add(pair)
            if row[0] is not None:
                found[pair] = recorded_from_row(row)
        return cls(frozenset(asked), found)


class Ledger:
    """The append-only event store of one migration."""

    def __init__(self, engine: Engine, migration_id: str, *, batch_size: int = 1000) -> None:
        self.engine = engine
        self.migration_id = migration_id
        self.batch_size = batch_size
        self._autocommit: tuple[Engine, Engine] | None = None

    # --- writing ---------------------------------------------------------------------

    def append(self, events: Sequence[Event], *, conn: Connection | None = None) -> list[bool]:
        """Record events; for each, True if new, False if it was already recorded."""
        if not events:
            return []
        if conn is not None:
            return self._append(conn, events)
        try:
            if len(events) <= self.batch_size:
                # One INSERT is atomic on its own: autocommit saves the BEGIN and COMMIT
                # round trips of an explicit transaction (a third of a single append).
                with self._reading(None) as c:
                    return self._append(c, events)
            with self.engine.begin() as c:
                return self._append(c, events)
        except DBAPIError as err:
            raise translate_db_error(err, self.engine.url) from None

    def _autocommit_engine(self) -> Engine:
        """The engine in autocommit, made once per engine (making one costs ~100 µs)."""
        if self._autocommit is None or self._autocommit[0] is not self.engine:
            option_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
            self._autocommit = (self.engine, option_engine)
        return self._autocommit[1]

    def append_one(self, event: Event, *, conn: Connection | None = None) -> bool:
        """Record one event; True if new, False if already recorded."""
        return self.append([event], conn=conn)[0]

    def _append(self, conn: Connection, events: Sequence[Event]) -> list[bool]:
        out: list[bool] = []
        for start in range(0, len(events), self.batch_size):
            chunk = events[start : start + self.batch_size]
            rows = [e.to_row(self.migration_id) for e in chunk]
            if len(rows) <= VALUES_ROWS_MAX:
                new_keys = {k for (k,) in driver_rows(conn, *self._values_insert(rows))}
            else:
                new_keys = {k for (k,) in driver_rows(conn, _INSERT, self._arrays(rows))}
            for r in rows:  # the first of two equal keys in one batch is the new one
                is_new = r["key"] in new_keys
                new_keys.discard(r["key"])
                out.append(is_new)
        return out

    def append_unlock_statement(self, events: Sequence[Event], lock_name: str) -> Statement:
        """One statement that records ``events`` and then lets the unit lock ``lock_name``
        go (``h2i_append_unlock``): the unit stays locked until the events are committed.

        Run it on the autocommit connection whose session holds the lock
        (``ledger.sessions.HeldLock.release``); it answers the keys that were new.
        """
        rows = [e.to_row(self.migration_id) for e in events]
        return _APPEND_UNLOCK, {"n": lock_name, **self._arrays(rows)}

    def _arrays(self, rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """The parameters of ``_INSERT`` (and ``h2i_append_unlock``) for ``rows``."""
        return {
            "m": self.migration_id,
            "k": [r["key"] for r in rows],
            "t": [r["type"] for r in rows],
            "o": [r["object"] for r in rows],
            "s": [r["source_id"] for r in rows],
            "p": [json_codec.dumps(r["payload"]) for r in rows],
        }

    def _values_insert(self, rows: Sequence[dict[str, Any]]) -> Statement:
        flat: list[Any] = []
        for r in rows:
            flat += (
                self.migration_id,
                r["key"],
                r["type"],
                r["object"],
                r["source_id"],
                json_codec.dumps(r["payload"]),
            )
        return _insert_values(len(rows)), tuple(flat)

    # --- reading ---------------------------------------------------------------------

    def _select(
        self,
        *,
        types: Iterable[str] | None = None,
        objects: Iterable[str] | None = None,
        source_id: str | None = None,
        keys: Iterable[str] | None = None,
        after_seq: int = 0,
    ) -> sa.Select[Any]:
        t = events_table
        q = sa.select(*_COLUMNS).where(t.c.migration_id == self.migration_id)
        if after_seq:
            q = q.where(t.c.seq > after_seq)
        if types is not None:
            q = q.where(t.c.type.in_(list(types)))
        if objects is not None:
            q = q.where(t.c.object.in_(list(objects)))
        if source_id is not None:
            q = q.where(t.c.source_id == source_id)
        if keys is not None:
            q = q.where(t.c.key.in_(list(keys)))
        return q.order_by(t.c.seq)

    def read(
        self,
        *,
        types: Iterable[str] | None = None,
        objects: Iterable[str] | None = None,
        source_id: str | None = None,
        keys: Iterable[str] | None = None,
        after_seq: int = 0,
        conn: Connection | None = None,
    ) -> Iterator[Recorded]:
        """Stream this migration's events in seq order, filtered as asked.

        On ``conn`` the rows are fetched in one go, without a server-side cursor: for reads
        known to be small (one unit's events).
        """
        q = self._select(
            types=types, objects=objects, source_id=source_id, keys=keys, after_seq=after_seq
        )
        if conn is not None:
            yield from (recorded_from_row(row) for row in conn.execute(q).all())
            return
        with self.engine.connect() as c:
            opts = {"stream_results": True, "yield_per": self.batch_size}
            for row in c.execute(q, execution_options=opts):
                yield recorded_from_row(row)

    @contextmanager
    def _reading(self, conn: Connection | None) -> Iterator[Connection]:
        """``conn`` itself, or a pooled connection in autocommit for one statement (reads,
        and appends small enough for one INSERT)."""
        if conn is not None:
            yield conn
            return
        with self._autocommit_engine().connect() as c:
            yield c

    def get(self, key: str, *, conn: Connection | None = None) -> Recorded | None:
        """The event recorded under this key, if any."""
        found = self.get_many([key], conn=conn)
        return found.get(key)

    def get_many(
        self, keys: Iterable[str], *, conn: Connection | None = None
    ) -> dict[str, Recorded]:
        """The events recorded under these keys, by key (missing keys are absent)."""
        wanted = list(keys)
        if not wanted:
            return {}
        with self._reading(conn) as c:
            rows = driver_rows(c, _BY_KEYS, {"m": self.migration_id, "k": wanted})
            return {row[0]: recorded_from_row(row[1:]) for row in rows}

    def unit_events(self, obj: str, source_id: str, *, conn: Connection) -> list[Recorded]:
        """Every event of one record (a unit's), in seq order, on ``conn`` in one go."""
        return recorded_rows(driver_rows(conn, *self.unit_events_read(obj, source_id)))

    def unit_events_read(self, obj: str, source_id: str) -> Statement:
        """The read of :meth:`unit_events`, to send with other statements
        (:func:`recorded_rows` turns its rows into events)."""
        return _OF_RECORD, {"m": self.migration_id, "o": obj, "s": source_id}

    def take_unit_call(
        self,
        lock_name: str,
        obj: str,
        source_id: str,
        ticket_id: str | None = None,
        dependencies: Sequence[tuple[str, str]] | None = None,
    ) -> Statement:
        """The unit's lock and :meth:`unit_events_read` (then, with ``ticket_id``,
        :meth:`ticket_children_read`) as one statement, ``h2i_take_unit`` (migrations 0004
        and 0006): for :func:`ledger.sessions.held_lock`'s ``call``.

        ``dependencies``: (object, source_id) pairs whose settlements to read as well, with
        those a ticket record names (its contacts, custom fields and category), as the
        call's part 3 (:meth:`SettlementsRead.of_call`); None: no part 3.
        """
        return _TAKE_UNIT, {
            "n": lock_name,
            "m": self.migration_id,
            "o": obj,
            "s": source_id,
            "t": ticket_id,
            "do": None if dependencies is None else [o for o, _s in dependencies],
            "ds": None if dependencies is None else [s for _o, s in dependencies],
        }

    def latest(self, type_name: str) -> Recorded | None:
        """The newest event of one type in this migration, if any (one indexed row)."""
        t = events_table
        q = (
            sa.select(*_COLUMNS)
            .where(t.c.migration_id == self.migration_id, t.c.type == type_name)
            .order_by(t.c.seq.desc())
            .limit(1)
        )
        with self._reading(None) as c:
            row = c.execute(q).first()
        return recorded_from_row(row) if row else None

    def keys_with_prefix(self, prefix: str) -> list[str]:
        """Every key of this migration that starts with ``prefix`` (uses the unique index)."""
        t = events_table
        q = sa.select(t.c.key).where(
            t.c.migration_id == self.migration_id,
            t.c.key >= prefix,
            t.c.key < prefix + "\uffff",
        )
        with self._reading(None) as conn:
            return [k for (k,) in conn.execute(q)]

    def latest_captures(
        self, pairs: Iterable[tuple[str, str]], *, conn: Connection | None = None
    ) -> dict[tuple[str, str], Recorded]:
        """The newest SourceCaptured event of each (object, source_id) asked for."""
        return self._latest(pairs, ["SourceCaptured"], conn)

    def settlements(
        self,
        pairs: Iterable[tuple[str, str]],
        *,
        conn: Connection | None = None,
        read: SettlementsRead | None = None,
    ) -> dict[tuple[str, str], Recorded]:
        """The newest migrated/quarantined/skipped event of each (object, source_id).

        ``read``: settlements already read (with the unit's lock); only the pairs it did
        not ask for are read now.
        """
        if read is None:
            return self._latest(pairs, list(SETTLING_TYPES), conn)
        wanted = list(pairs)
        found = {p: read.found[p] for p in wanted if p in read.found}
        unread = [p for p in wanted if p not in read.asked]
        if unread:
            found.update(self._latest(unread, list(SETTLING_TYPES), conn))
        return found

    def _latest(
        self, pairs: Iterable[tuple[str, str]], types: list[str], conn: Connection | None
    ) -> dict[tuple[str, str], Recorded]:
        wanted = list(dict.fromkeys(pairs))
        if not wanted:
            return {}
        params = {
            "m": self.migration_id,
            "o": [o for o, _ in wanted],
            "s": [s for _, s in wanted],
            "t": types,
        }
        with self._reading(conn) as c:
            rows = driver_rows(c, LATEST_OF_RECORDS, params)
            return {(r[3], r[4]): recorded_from_row(r) for r in rows}

    def ticket_children(self, ticket_id: str, *, conn: Connection | None = None) -> list[Recorded]:
        """The newest capture of every reply, note and attachment of one ticket."""
        with self._reading(conn) as c:
            return recorded_rows(driver_rows(c, *self.ticket_children_read(ticket_id)))

    def ticket_children_read(self, ticket_id: str) -> Statement:
        """The read of :meth:`ticket_children`, to send with other statements."""
        return _TICKET_CHILDREN, {"m": self.migration_id, "t": ticket_id}

    def attachments_of(
        self, parent_object: str, parent_id: str, *, conn: Connection | None = None
    ) -> list[Recorded]:
        """The newest capture of every attachment listed by one parent (e.g. a KB article)."""
        sql = (
            "SELECT DISTINCT ON (source_id) seq, recorded_at, type, object, source_id, payload "
            "FROM events WHERE migration_id = %(m)s AND type = 'SourceCaptured' "
            "AND object = 'attachment' AND (payload->'record'->>'parent_object') = %(po)s "
            "AND (payload->'record'->>'parent_id') = %(pi)s ORDER BY source_id, seq DESC"
        )
        params = {"m": self.migration_id, "po": parent_object, "pi": parent_id}
        with self._reading(conn) as c:
            return [recorded_from_row(r) for r in driver_rows(c, sql, params)]

    def written_ids(
        self, obj: str, intercom_type: str, *, conn: Connection | None = None
    ) -> dict[str, str]:
        """Intercom id -> intent key of every object of ``intercom_type`` the units of
        ``obj`` wrote or linked (a ``WriteSucceeded``, or a ``WriteResolved`` that found it)."""
        sql = (
            "SELECT payload->>'intercom_id', payload->>'intent_key' FROM events "
            "WHERE migration_id = %(m)s AND object = %(o)s "
            "AND type IN ('WriteSucceeded', 'WriteResolved') "
            "AND payload->>'intercom_type' = %(t)s AND coalesce(payload->>'intercom_id', '') <> '' "
            "ORDER BY seq"
        )
        params = {"m": self.migration_id, "o": obj, "t": intercom_type}
        with self._reading(conn) as c:
            return {str(i): str(k) for i, k in c.exec_driver_sql(sql, params)}

    def last_seq(self) -> int:
        """The highest seq of this migration (0 when empty)."""
        t = events_table
        q = sa.select(sa.func.coalesce(sa.func.max(t.c.seq), 0)).where(
            t.c.migration_id == self.migration_id
        )
        with self._reading(None) as conn:
            return int(conn.execute(q).scalar_one())

    def count(self, *, types: Iterable[str] | None = None) -> int:
        """How many events this migration has (of the given types)."""
        t = events_table
        q = sa.select(sa.func.count()).where(t.c.migration_id == self.migration_id)
        if types is not None:
            q = q.where(t.c.type.in_(list(types)))
        with self._reading(None) as conn:
            return int(conn.execute(q).scalar_one())

    def migrations(self) -> list[str]:
        """Every migration id recorded in this ledger."""
        q = sa.select(events_table.c.migration_id).distinct()
        with self._reading(None) as conn:
            return sorted(m for (m,) in conn.execute(q))
