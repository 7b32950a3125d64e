"""A unit's lock taken with its reads, and released with its last append, on real PostgreSQL.

The worker takes the lock and reads the unit in one statement (or, where the session's
isolation is stricter, one round trip of statements), and appends its last events before
the unlock. What must hold: the reads see what the last holder committed, the
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

from ledger.events import RecordMigrated, RecordQuarantined, RecordSkipped, SourceCaptured
from ledger.sessions import held_lock
from ledger.store import Ledger, SettlementsRead, recorded_rows


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


@pytest.mark.parametrize(
    ("one_call", "pipeline"),
    [(True, True), (False, True), (False, False)],
    ids=["one-call", "pipelined", "libpq-without-pipeline"],
)
def test_reads_come_back_with_the_lock_and_see_the_last_holders_append(
    engine: Engine,
    ledger: Ledger,
    name: str,
    one_call: bool,
    pipeline: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same as one function call, in one round trip of statements, or (a libpq older
    than 14) one statement at a time."""
    monkeypatch.setattr(psycopg.Pipeline, "is_supported", classmethod(lambda cls: pipeline))
    read = [ledger.unit_events_read("contact", "c1")]
    call = ledger.take_unit_call(name, "contact", "c1") if one_call else None
    ledger.append([_captured("c1")])
    with held_lock(engine, name, read, call=call) as first:
        assert first.got
        assert [r.event for r in recorded_rows(first.rows[0])] == [_captured("c1")]
        ledger.append([_migrated("c1")], conn=first.conn)  # the unit's last append
    with held_lock(engine, name, read, call=call) as second:
        assert second.got
        events = [r.event for r in recorded_rows(second.rows[0])]
        assert events == [_captured("c1"), _migrated("c1")]


def test_one_call_reads_a_tickets_own_events_and_its_thread(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    """The function answers what the two reads answer, each under its own part."""
    tid = uuid.uuid4().hex[:8]
    ticket = SourceCaptured(object="ticket", source_id=tid, content_hash="t", record={"id": tid})
    replies = [
        SourceCaptured(
            object="reply", source_id=f"{tid}-{n}", content_hash=f"r{n}", record={"ticket_id": tid}
        )
        for n in range(3)
    ]
    newer = SourceCaptured(
        object="reply", source_id=f"{tid}-0", content_hash="r0b", record={"ticket_id": tid, "x": 1}
    )
    ledger.append([ticket, *replies, newer])
    reads = [ledger.unit_events_read("ticket", tid), ledger.ticket_children_read(tid)]
    with held_lock(engine, name, reads) as by_statements:
        expected = [recorded_rows(rows) for rows in by_statements.rows]
    call = ledger.take_unit_call(name, "ticket", tid, tid)
    with held_lock(engine, name, reads, call=call) as by_call:
        assert by_call.got
        assert [recorded_rows(rows) for rows in by_call.rows] == expected
    assert [r.event for r in expected[0]] == [ticket]
    assert sorted(r.event.content_hash for r in expected[1]) == ["r0b", "r1", "r2"]


def test_a_lock_held_elsewhere_is_not_taken_and_its_reads_are_not_used(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    ledger.append([_captured("c2")])
    read = ledger.unit_events_read("contact", "c2")
    call = ledger.take_unit_call(name, "contact", "c2")
    with held_lock(engine, name, [read]) as holder:
        assert holder.got
        with held_lock(engine, name, [read, read]) as other:
            assert not other.got
            assert other.rows == [[], []]
        with held_lock(engine, name, [read], call=call) as by_call:
            assert not by_call.got
            assert by_call.rows == [[]]
    with held_lock(engine, name, [read], call=call) as after:
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
        read = [ledger.unit_events_read("contact", "c3")]
        call = ledger.take_unit_call(name, "contact", "c3")
        with strict.connect() as conn:  # the function does nothing there, and says so
            assert conn.exec_driver_sql(*call).all() == [(-1, None, None, None, None, None, None)]
        with held_lock(strict, name, read, call=call) as lock:
            assert lock.got
            ledger.append([_migrated("c3")], conn=lock.conn)
        with held_lock(strict, name, read, call=call) as again:
            assert again.got
            assert len(again.rows[0]) == 2
    finally:
        strict.dispose()


def test_a_failed_last_append_commits_nothing_and_frees_the_lock(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    ledger.append([_captured("c4")])
    refused = SourceCaptured(  # PostgreSQL's jsonb takes no NUL character
        object="contact", source_id="c4", content_hash="h2", record={"id": "c4", "x": "a\x00b"}
    )
    read = [ledger.unit_events_read("contact", "c4")]
    with held_lock(engine, name, read) as lock:
        assert lock.got
        with pytest.raises(DBAPIError):
            ledger.append([_migrated("c4"), refused], conn=lock.conn)
        assert lock.got  # still held: let go as the block ends
    assert not lock.got
    with held_lock(engine, name, read) as next_holder:
        assert next_holder.got
        assert [r.event for r in recorded_rows(next_holder.rows[0])] == [_captured("c4")]


def test_the_last_append_lets_the_lock_go_in_the_same_statement(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    """``h2i_append_unlock``: the events are recorded (an event already there is not new)
    and the next holder finds the lock free and the events in its reads."""
    ledger.append([_captured("c5")])
    read = [ledger.unit_events_read("contact", "c5")]
    call = ledger.take_unit_call(name, "contact", "c5")
    with held_lock(engine, name, read, call=call) as lock:
        assert lock.got
        last = ledger.append_unlock_statement([_captured("c5"), _migrated("c5")], name)
        assert [k for (k,) in lock.release(by=last)] == [_migrated("c5").key]
        assert not lock.got
        with held_lock(engine, name, read, call=call) as next_holder:  # free at once
            assert next_holder.got
            events = [r.event for r in recorded_rows(next_holder.rows[0])]
    assert events == [_captured("c5"), _migrated("c5")]


def test_the_unit_stays_locked_until_its_last_events_are_committed(
    engine: Engine, ledger: Ledger, ledger_url: str, name: str
) -> None:
    """The function lets the session's lock go before its transaction commits: the
    transaction's own lock on the unit keeps another worker out until the events are
    visible (else it would take the unit's last write for one in doubt)."""
    raw_url = ledger_url.replace("postgresql+psycopg://", "postgresql://")
    statement = ledger.append_unlock_statement([_migrated("c6")], name)
    with psycopg.connect(raw_url) as holder, psycopg.connect(raw_url, autocommit=True) as other:
        try_lock = "SELECT pg_try_advisory_lock(hashtextextended(%s, 0))"
        holder.execute(try_lock, (name,))
        holder.commit()
        holder.execute(*statement)  # in an open transaction, not yet committed
        assert other.execute(try_lock, (name,)).fetchone() == (False,)
        holder.commit()
        assert other.execute(try_lock, (name,)).fetchone() == (True,)
    assert [r.event for r in ledger.read(objects=["contact"], source_id="c6")] == [_migrated("c6")]


def test_a_refused_last_append_leaves_the_lock_to_the_block(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    refused = SourceCaptured(
        object="contact", source_id="c7", content_hash="h2", record={"id": "c7", "x": "a\x00b"}
    )
    read = [ledger.unit_events_read("contact", "c7")]
    with held_lock(engine, name, read) as lock:
        assert lock.got
        with pytest.raises(DBAPIError):
            lock.release(by=ledger.append_unlock_statement([_migrated("c7"), refused], name))
        assert lock.got  # still held, let go as the block ends
    with held_lock(engine, name, read) as next_holder:
        assert next_holder.got
        assert next_holder.rows == [[]]  # nothing of the refused append was committed


def test_a_tickets_dependencies_come_back_with_its_lock(
    engine: Engine, ledger: Ledger, name: str
) -> None:
    """Part 3: every pair asked for and every pair the ticket record names, settled or
    not; only the newest settlement of each; a pair it did not ask for is read apart."""
    tid = uuid.uuid4().hex[:8]
    record = {
        "id": tid,
        "requester_contact_id": "alice",
        "follower_contact_ids": ["bob"],
        "custom_fields": [{"field_id": 3, "value": "x"}],
        "category_id": 2,
    }
    ticket = SourceCaptured(object="ticket", source_id=tid, content_hash="t1", record=record)
    older = RecordQuarantined(
        object="contact", source_id="alice", content_hash="h0", reason="no e-mail"
    )
    newer = RecordMigrated(
        object="contact",
        source_id="alice",
        content_hash="h1",
        intercom_id="c-1",
        intercom_type="contact",
    )
    staff = RecordSkipped(object="staff", source_id="7", content_hash="s", reason="unused")
    ledger.append([ticket, older, newer, staff])
    asked = [("custom_field", "builtin:hesk_ticket_id")]
    call = ledger.take_unit_call(name, "ticket", tid, tid, asked)
    reads = [ledger.unit_events_read("ticket", tid), ledger.ticket_children_read(tid)]
    with held_lock(engine, name, reads, call=call) as lock:
        assert lock.got
        read = SettlementsRead.of_call(lock.more)
    assert read is not None
    assert read.asked == {
        ("custom_field", "builtin:hesk_ticket_id"),
        ("contact", "alice"),
        ("contact", "bob"),
        ("custom_field", "3"),
        ("category", "2"),
    }
    assert {p: r.event for p, r in read.found.items()} == {("contact", "alice"): newer}
    found = ledger.settlements(
        [("contact", "alice"), ("staff", "7"), ("contact", "bob")], read=read
    )
    assert {p: r.event for p, r in found.items()} == {
        ("contact", "alice"): newer,
        ("staff", "7"): staff,
    }
