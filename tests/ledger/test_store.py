"""The event store against real PostgreSQL: idempotent appends, reads, append-only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core.hashing import content_hash
from ledger.events import (
    RecordQuarantined,
    SourceCaptured,
    WriteIntended,
    WriteSucceeded,
    event_from_row,
)
from ledger.keys import outcome_key, parse_source_key, source_key, write_key
from ledger.store import VALUES_ROWS_MAX, Ledger


def captured(n: int, body: str = "x") -> SourceCaptured:
    record = {"id": n, "body": body}
    return SourceCaptured(
        object="ticket", source_id=str(n), content_hash=content_hash(record), record=record
    )


def test_append_reports_new_and_already_recorded(ledger: Ledger) -> None:
    first = ledger.append([captured(1), captured(2)])
    again = ledger.append([captured(1), captured(3)])
    assert first == [True, True]
    assert again == [False, True]
    assert ledger.count() == 3


@pytest.mark.parametrize("size", [3, VALUES_ROWS_MAX + 4])  # as VALUES, and as arrays
def test_duplicate_key_inside_one_batch_is_recorded_once(ledger: Ledger, size: int) -> None:
    batch = [captured(5), captured(5), *(captured(n) for n in range(6, 6 + size - 2))]
    assert ledger.append(batch) == [True, False] + [True] * (size - 2)
    assert ledger.count() == size - 1
    assert ledger.append(batch) == [False] * size


def test_changed_content_is_a_new_event_same_content_is_not(ledger: Ledger) -> None:
    assert ledger.append_one(captured(7, "old"))
    assert ledger.append_one(captured(7, "new"))
    assert not ledger.append_one(captured(7, "new"))
    assert [r.event.record["body"] for r in ledger.read(source_id="7")] == ["old", "new"]


def test_big_batches_are_split_and_all_recorded(ledger: Ledger) -> None:
    ledger.batch_size = 100
    events = [captured(i) for i in range(1, 351)]
    assert all(ledger.append(events))
    assert ledger.count() == 350
    assert not any(ledger.append(events))


def test_events_round_trip_through_rows(ledger: Ledger) -> None:
    intent = WriteIntended(
        object="ticket",
        source_id="9",
        operation="create_conversation",
        content_hash="abc",
        target={"contact": "c1"},
    )
    ok = WriteSucceeded(
        object="ticket",
        source_id="9",
        intent_key=intent.key,
        intercom_id="123",
        intercom_type="conversation",
        created=True,
    )
    ledger.append([intent, ok])
    got = [r.event for r in ledger.read()]
    assert got == [intent, ok]
    row = ok.to_row("m")
    assert event_from_row(row["type"], row["object"], row["source_id"], row["payload"]) == ok


def test_reads_filter_by_type_object_key_and_checkpoint(ledger: Ledger) -> None:
    ledger.append([captured(1), captured(2)])
    q = RecordQuarantined(object="reply", source_id="4", content_hash="h", reason="orphan")
    ledger.append_one(q)
    assert [r.event for r in ledger.read(types=["RecordQuarantined"])] == [q]
    assert [r.event.source_id for r in ledger.read(objects=["ticket"])] == ["1", "2"]
    assert ledger.get(q.key).event == q
    first_seq = next(iter(ledger.read())).seq
    assert [r.event.source_id for r in ledger.read(after_seq=first_seq)] == ["2", "4"]
    assert set(ledger.get_many([q.key, "nope"])) == {q.key}


def test_reads_stream_without_loading_everything(ledger: Ledger) -> None:
    ledger.append([captured(i) for i in range(1, 2501)])
    ledger.batch_size = 100
    stream = ledger.read()
    first = next(stream)
    assert first.event.source_id == "1"
    assert sum(1 for _ in stream) == 2499


def test_migrations_never_see_each_other(engine, ledger: Ledger) -> None:
    other = Ledger(engine, ledger.migration_id + "-other")
    ledger.append_one(captured(1))
    assert other.append_one(captured(1)) is True
    assert other.count() == 1 and ledger.count() == 1


def test_keys_are_deterministic_from_content() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert source_key("ticket", "1", "h") == "src:ticket:1:h"
    assert write_key("create", "ticket", "1", "h") == "dst:create:ticket:1:h"
    assert write_key("create", "ticket", "1", "h", attempt=2) == "dst:create:ticket:1:h#2"
    assert outcome_key("dst:x", "ok") == "dst:x|ok"


@pytest.mark.parametrize(
    ("key", "named"),
    [
        (source_key("ticket", "1", "ab12"), ("ticket", "1")),
        (source_key("attachment", "kb:2", "ab12"), ("attachment", "kb:2")),
        (source_key("workspace", "attributes", "ab12"), ("workspace", "attributes")),
        (write_key("create", "ticket", "1", "h"), None),
        ("src:ticket:1", None),
        ("src::1:h", None),
        ("", None),
    ],
)
def test_a_capture_key_names_its_record(key: str, named: tuple[str, str] | None) -> None:
    assert parse_source_key(key) == named


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE events SET payload = '{}'::jsonb",
        "DELETE FROM events",
        "TRUNCATE events",
    ],
)
def test_the_database_refuses_to_change_or_remove_events(ledger: Ledger, sql: str) -> None:
    ledger.append_one(captured(1))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"), ledger.engine.begin() as conn:
        conn.exec_driver_sql(sql)
    assert ledger.count() == 1
