"""The ledger database's sessions as the write engine uses them: a unit's advisory lock on
a connection of its own, whether that session is still alive, the database's clock, and
the planner statistics the coordinator refreshes between phases.

No ledger table is read here; these are the few statements the engine sends besides the
ledger's own, kept with them so that every SQL statement lives in ``ledger/``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psycopg
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from ledger.database import Statement, driver_pipeline, driver_rows

_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%(n)s, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%(n)s, 0))"


_BEGIN: Statement = ("BEGIN ISOLATION LEVEL READ COMMITTED", ())
#: Marks (in a pooled connection's ``info``) a session whose isolation ``h2i_take_unit``
#: refused: its later units go straight to the statements.
_STRICTER_ISOLATION = "h2i_stricter_isolation"
_COMMIT: Statement = ("COMMIT", ())


class HeldLock:
    """A session-level advisory lock tried on an autocommit connection of its own.

    ``got``: whether it was taken; ``conn``: the connection whose session holds it;
    ``rows``: the rows of the reads asked for with it (empty lists when not taken);
    ``more``: the rows of a ``call``'s parts beyond those reads, by part number (none when
    the statements were sent instead).
    """

    def __init__(self, conn: Connection, name: str) -> None:
        self.conn = conn
        self.name = name
        self.got = False
        self.rows: list[list[Any]] = []
        self.more: dict[int, list[Any]] = {}

    def take(self, reads: Sequence[Statement], call: Statement | None = None) -> None:
        """Try the lock, then run ``reads``: all in one round trip.

        Each read starts once the lock is taken and sees everything committed before it
        started (an explicit READ COMMITTED transaction: whatever the server's default
        isolation, a snapshot taken before the lock could miss the last holder's events).

        ``call``: the same as one statement (``h2i_take_unit``, ``Ledger.take_unit_call``),
        whose rows' first column numbers the read they belong to (0: not taken; -1: the
        session's isolation is not READ COMMITTED, nothing was done). Tried first, except on a
        session marked as one whose default isolation is stricter (it stays so).
        """
        params = {"n": self.name}
        if call is not None and not self.conn.info.get(_STRICTER_ISOLATION):
            rows = driver_rows(self.conn, *call)
            part = rows[0][0] if rows else None
            if part != -1:
                self.got = part != 0
                parts: dict[int, list[Any]] = {i: [] for i in range(1, len(reads) + 1)}
                if self.got:
                    for r in rows:
                        parts.setdefault(r[0], []).append(r[1:])
                self.rows = [parts.pop(i) for i in range(1, len(reads) + 1)]
                self.more = parts
                return
            self.conn.info[_STRICTER_ISOLATION] = True
        if not reads:
            ((got,),) = driver_rows(self.conn, _TRY_LOCK, params)
            self.got = bool(got)
            return
        rows = driver_pipeline(self.conn, [_BEGIN, (_TRY_LOCK, params), *reads, _COMMIT])
        self.got = bool(rows[1][0][0])
        self.rows = rows[2:-1] if self.got else [[] for _ in reads]

    def release(self, by: Statement | None = None) -> list[Any]:
        """Let the lock go, and answer the rows of the statement that did.

        The connection is in autocommit: whatever was appended on it is committed before
        the unlock is sent. ``by``: a statement that does more and lets this lock go as
        its last act, such as a unit's last append (``Ledger.append_unlock_statement``).
        Should it fail, the lock is still held and let go as the block ends.
        """
        if not self.got:
            return []
        rows = driver_rows(self.conn, *(by or (_UNLOCK, {"n": self.name})))
        self.got = False
        return rows


@contextmanager
def held_lock(
    engine: Engine, name: str, reads: Sequence[Statement] = (), *, call: Statement | None = None
) -> Iterator[HeldLock]:
    """Try the session-level advisory lock ``name`` (and run ``reads`` in the same round
    trip, as one ``call`` when given: see :meth:`HeldLock.take`) on an autocommit
    connection of its own, checked out of ``engine``'s pool.

    The lock lives as long as that session (the server releases it if the process dies);
    it is released on exit unless :meth:`HeldLock.release` was called, or an error closed
    the connection (which released it). A unit's last append, made on the connection
    before the block ends (or by the release itself), is committed before the lock is
    let go.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        lock = HeldLock(conn, name)
        lock.take(reads, call)
        try:
            yield lock
        finally:
            if lock.got and not conn.invalidated:
                lock.release()


def ping(conn: Connection) -> None:
    """One round trip on ``conn``: raises (DBAPIError) when its session is gone."""
    conn.exec_driver_sql("SELECT 1")


def seconds_since(conn: Connection, at: datetime) -> float:
    """Seconds from ``at`` to now, on the database's clock."""
    age = conn.exec_driver_sql(
        "SELECT extract(epoch FROM clock_timestamp() - %(t)s)", {"t": at}
    ).scalar()
    return float(age or 0.0)


#: The ledger's growing tables and the columns their reads filter and sort on (analysing
#: only these skips the event payloads, which cost two thirds of a whole-table ANALYZE).
_PLANNED_COLUMNS = {
    "events": "migration_id, key, type, object, source_id, seq, txid",
    "projection_rows": "projection, migration_id, key",
}


#: How long an ANALYZE waits for its lock (a long VACUUM holds it) before it is left out.
ANALYZE_LOCK_TIMEOUT = "2s"
#: Rows sampled per ANALYZE are 300 times this (PostgreSQL's default is 100): the reads
#: only need the table's size and the spread of its keys, and a third of the sample costs
#: a third of the time (58 ms instead of 160 ms at 100,000 events), while the workers run.
ANALYZE_STATISTICS_TARGET = 30


def refresh_statistics(engine: Engine) -> list[str]:
    """Bring the planner's statistics of the ledger's growing tables up to date; returns
    the tables left out because another maintenance job held them (a long VACUUM).

    A migration adds its events faster than autovacuum analyses them (it looks once a
    minute): planned on the counts of a smaller table, a unit's indexed reads became scans
    of a whole migration (6 ms instead of 0.1 ms each). A role that does not own the
    tables gets PostgreSQL's warning ("only table or database owner can analyze it") and
    autovacuum's statistics.
    """
    skipped = []
    for table, columns in _PLANNED_COLUMNS.items():
        try:
            with engine.begin() as conn:
                conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{ANALYZE_LOCK_TIMEOUT}'")
                conn.exec_driver_sql(
                    f"SET LOCAL default_statistics_target = {ANALYZE_STATISTICS_TARGET}"
                )
                conn.exec_driver_sql(f"ANALYZE {table} ({columns})")
        except OperationalError as err:
            if not isinstance(err.orig, psycopg.errors.LockNotAvailable):
                raise
            skipped.append(table)
    return skipped
