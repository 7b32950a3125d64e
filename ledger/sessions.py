"""The ledger database's sessions as the write engine uses them: a unit's advisory lock on
a connection of its own, whether that session is still alive, the database's clock, and
the planner statistics the coordinator refreshes between phases.

No ledger table is read here; these are the few statements the engine sends besides the
ledger's own, kept with them so that every SQL statement lives in ``ledger/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import psycopg
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from ledger.database import driver_rows

_TRY_LOCK = "SELECT pg_try_advisory_lock(hashtextextended(%(n)s, 0))"
_UNLOCK = "SELECT pg_advisory_unlock(hashtextextended(%(n)s, 0))"


@contextmanager
def advisory_lock(engine: Engine, name: str) -> Iterator[tuple[bool, Connection]]:
    """Try the session-level advisory lock ``name`` on an autocommit connection of its own.

    Yields whether it was taken and the connection that holds it (the lock lives as long
    as that session; the server releases it if the process dies). Released on exit.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        # Straight on the driver: taken and released once per unit, on every worker thread.
        ((got,),) = driver_rows(conn, _TRY_LOCK, {"n": name})
        try:
            yield bool(got), conn
        finally:
            if got and not conn.invalidated:
                driver_rows(conn, _UNLOCK, {"n": name})


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
