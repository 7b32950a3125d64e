"""A unit's lock taken with its reads, and released with its last append, on real PostgreSQL.

The worker sends the lock and the unit's reads in one round trip, and its last events and
the unlock in another. What must hold: the reads see what the last holder committed, the
last append is committed before the lock is free, a server whose default isolation is
stricter than READ COMMITTED changes none of that, and a failed append leaves neither the
lock held nor half a transaction.
"""

from __future__ import annotations

import uuid

import psycopg
import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from ledger.events import RecordMigrated, SourceCaptured
from ledger.sessions import held_lock
from ledger.store import Ledger, recorded_rows


def _captured(source_id: str) -> SourceCaptured:
    return SourceCaptured(
        object="contact", source_id=source_id, content_hash="h1", record={"id": source_id}
    )


def _migrated(source_id: str) -> RecordMigrated:
    return RecordMigrated(
        object="contact",
        source_id=source_id,
        content_hash="h1",
        intercom_id="ic-1",
        intercom_type="contact",
    )


@pytest.fixture
def name() -> str:
    return f"unit:test:{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("pipeline", [True, False], ids=["pipelined", "libpq-without-pipeline"])
def test_reads_come_back_with_the_lock_and_see_the_last_holders_append(
    engine: Engine, ledger: Ledger, name: str, pipeline: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same in one round trip, or (a libpq older than 14) one statement at a time."""
    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: pipeline))
    ledger.append([_captured("c1")])
    with held_lock(engine, name, [ledger.unit_events_read("contact", "c1")]) as first:
        assert first.got
        assert [r.event for r in recorded_rows(first.rows[0])] == [_captured("c1")]
        statement = ledger.insert_statement([_migrated("c1")])
        assert statement is not None
        first.release(after=statement)
        # released in the same round trip, after the append was committed
        with held_lock(engine, name, [ledger.unit_events_read("contact", "c1")]) as second:
            assert second.got
            events = [r.event for r in recorded_rows(second.rows[0])]
            assert events == [_captured("c1"), _migrated("c1")]


def test_a_lock_held_elsewhere_is_not_taken_and_its_reads_are_not_used(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    ledger.append([_captured("c2")])
    read = ledger.unit_events_read("contact", "c2")
    with held_lock(engine, name, [read]) as holder:
        assert holder.got
        with held_lock(engine, name, [read, read]) as other:
            assert not other.got
            assert other.rows == [[], []]
    with held_lock(engine, name, [read]) as after:
        assert after.got  # released when the holder's block ended


def test_a_stricter_default_isolation_still_reads_after_the_lock(
    ledger_url: str, ledger: Ledger, name: str
) -> None:
    """The reads run in a READ COMMITTED transaction of their own: under a stricter
    default, one snapshot taken at the lock's statement, before the lock was granted,
    could miss an append its last holder committed meanwhile."""
    strict = create_engine(
        ledger_url, connect_args={"options": "-c default_transaction_isolation=serializable"}
    )
    try:
        with strict.connect() as conn:
            level = conn.exec_driver_sql("SHOW default_transaction_isolation").scalar_one()
        assert level == "serializable"
        ledger.append([_captured("c3")])
        with held_lock(strict, name, [ledger.unit_events_read("contact", "c3")]) as lock:
            assert lock.got
            statement = ledger.insert_statement([_migrated("c3")])
            assert statement is not None
            lock.release(after=statement)
        with held_lock(strict, name, [ledger.unit_events_read("contact", "c3")]) as again:
            assert again.got
            assert len(again.rows[0]) == 2
    finally:
        strict.dispose()


def test_a_failed_last_append_commits_nothing_and_frees_the_lock(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    ledger.append([_captured("c4")])
    statement = ledger.insert_statement([_migrated("c4")])
    assert statement is not None
    sql, params = statement
    broken = (sql.replace("::jsonb", "::jsonb[]", 1), params)  # fails in the server
    with held_lock(engine, name, [ledger.unit_events_read("contact", "c4")]) as lock:
        assert lock.got
        with pytest.raises(DBAPIError):
            lock.release(after=broken)
        assert lock.conn.invalidated  # its session ended: the server released the lock
    with held_lock(engine, name, [ledger.unit_events_read("contact", "c4")]) as next_holder:
        assert next_holder.got
        assert [r.event for r in recorded_rows(next_holder.rows[0])] == [_captured("c4")]
