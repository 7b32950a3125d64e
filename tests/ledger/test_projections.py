"""Projections: the incrementally kept table always equals a rebuild from seq 0."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event

from ledger import projections
from ledger.dispositions import (
    DispositionRow,
    Dispositions,
    SettledTally,
    settled_counts,
    summarise,
)
from ledger.events import (
    RecordMigrated,
    RecordQuarantined,
    RecordSkipped,
    SourceCaptured,
)
from ledger.projections import ROWS_BY_KEYS, ProjectionTable, fold
from ledger.store import Ledger

OBJECTS = ["ticket", "reply", "contact"]


def event_strategy() -> st.SearchStrategy:
    ids = st.integers(1, 6).map(str)
    hashes = st.sampled_from(["h1", "h2", "h3"])
    objs = st.sampled_from(OBJECTS)
    return st.one_of(
        st.builds(
            lambda o, i, h: SourceCaptured(object=o, source_id=i, content_hash=h, record={"h": h}),
            objs,
            ids,
            hashes,
        ),
        st.builds(
            lambda o, i, h: RecordMigrated(
                object=o, source_id=i, content_hash=h, intercom_id="x" + i
            ),
            objs,
            ids,
            hashes,
        ),
        st.builds(
            lambda o, i, h: RecordQuarantined(object=o, source_id=i, content_hash=h, reason="bad"),
            objs,
            ids,
            hashes,
        ),
        st.builds(
            lambda o, i, h: RecordSkipped(object=o, source_id=i, content_hash=h, reason="rule"),
            objs,
            ids,
            hashes,
        ),
    )


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunks=st.lists(st.lists(event_strategy(), max_size=12), min_size=1, max_size=6))
def test_incremental_state_equals_rebuild_from_zero(engine, chunks) -> None:
    ledger = Ledger(engine, f"prop-{uuid.uuid4().hex[:10]}")
    table = ProjectionTable(engine, ledger.migration_id, Dispositions(), flush_every=3)
    for chunk in chunks:
        ledger.append(chunk)
        table.catch_up()  # incremental, from the checkpoint
    incremental = table.state()
    assert incremental == fold(Dispositions(), ledger.read())
    table.rebuild()
    assert table.state() == incremental


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(chunks=st.lists(st.lists(event_strategy(), max_size=12), min_size=1, max_size=6))
def test_a_tally_kept_from_catch_ups_equals_a_counting_of_the_rows(engine, chunks) -> None:
    """What the coordinator shows and ends a phase on: the tally its catch-ups keep never
    drifts from a counting of the rows (flushes inside a catch-up included)."""
    ledger = Ledger(engine, f"tally-{uuid.uuid4().hex[:10]}")
    table = ProjectionTable(engine, ledger.migration_id, Dispositions(), flush_every=2)
    tally = SettledTally({})
    for chunk in chunks:
        ledger.append(chunk)
        table.catch_up(observe=tally.observe)
        counted = settled_counts(engine, ledger.migration_id, OBJECTS)
        assert tally.counts(OBJECTS) == counted


def test_a_catch_up_by_another_process_in_between_is_told(ledger: Ledger, engine) -> None:
    """A tally is only as good as the catch-ups it saw: ``continuous`` says when another
    ProjectionTable (``status`` run meanwhile) applied events this one never observed."""
    ours = ProjectionTable(engine, ledger.migration_id, Dispositions())
    theirs = ProjectionTable(engine, ledger.migration_id, Dispositions())
    seen: list[str] = []

    def observe(key: str, before: object, after: object) -> None:
        seen.append(key)

    ledger.append([SourceCaptured(object="ticket", source_id="1", content_hash="a")])
    ours.catch_up(observe=observe)
    assert not ours.continuous  # the first catch-up of this object: nothing to go on
    ledger.append([RecordMigrated(object="ticket", source_id="1", content_hash="a")])
    ours.catch_up(observe=observe)
    assert ours.continuous and seen == ["ticket:1", "ticket:1"]
    assert ours.catch_up(observe=observe) == 0 and ours.continuous  # nothing new: still whole
    ledger.append([SourceCaptured(object="ticket", source_id="2", content_hash="a")])
    theirs.catch_up()
    ledger.append([SourceCaptured(object="ticket", source_id="3", content_hash="a")])
    ours.catch_up(observe=observe)
    assert not ours.continuous and seen[-1] == "ticket:3"  # ticket:2 went by unseen
    ours.catch_up(observe=observe)
    assert ours.continuous


def test_an_observer_is_told_nothing_of_a_catch_up_that_did_not_commit(
    ledger: Ledger, engine
) -> None:
    class Broken(Dispositions):
        def apply(self, key: str, value: object, recorded: object) -> DispositionRow:
            raise RuntimeError("fold failed")

    table = ProjectionTable(engine, ledger.migration_id, Broken())
    seen: list[str] = []
    ledger.append([SourceCaptured(object="ticket", source_id="1", content_hash="a")])
    with pytest.raises(RuntimeError, match="fold failed"):
        table.catch_up(observe=lambda key, before, after: seen.append(key))
    assert seen == [] and not table.continuous and table.state() == {}


def test_catch_up_applies_each_event_once(ledger: Ledger, engine) -> None:
    table = ProjectionTable(engine, ledger.migration_id, Dispositions())
    ledger.append([SourceCaptured(object="ticket", source_id="1", content_hash="a")])
    assert table.catch_up() == 1
    assert table.catch_up() == 0
    ledger.append([RecordMigrated(object="ticket", source_id="1", content_hash="a")])
    assert table.catch_up() == 1
    assert summarise(table.state().values())["ticket"]["migrated"] == 1


def test_a_slow_transaction_committing_below_the_checkpoint_is_not_missed(
    ledger: Ledger, engine
) -> None:
    """seq is handed out before commit: an older, slower writer must still be applied."""
    table = ProjectionTable(engine, ledger.migration_id, Dispositions())
    slow_started = threading.Event()
    release = threading.Event()

    def slow_writer() -> None:
        with engine.begin() as conn:
            slow = SourceCaptured(object="ticket", source_id="slow", content_hash="a")
            ledger.append([slow], conn=conn)
            slow_started.set()
            release.wait(10)

    t = threading.Thread(target=slow_writer)
    t.start()
    slow_started.wait(10)
    ledger.append([SourceCaptured(object="ticket", source_id="fast", content_hash="a")])
    table.catch_up()
    release.set()
    t.join()
    table.catch_up()
    assert set(table.state()) == {"ticket:slow", "ticket:fast"}


def test_dispositions_follow_the_newest_version() -> None:
    from datetime import UTC, datetime

    from ledger.events import Recorded

    now = datetime.now(UTC)
    evs = [
        SourceCaptured(object="ticket", source_id="1", content_hash="a"),
        RecordMigrated(object="ticket", source_id="1", content_hash="a"),
        SourceCaptured(object="ticket", source_id="1", content_hash="b"),
    ]
    state = fold(Dispositions(), [Recorded(i, now, e) for i, e in enumerate(evs, 1)])
    assert state["ticket:1"]["state"] == "pending"
    evs.append(RecordQuarantined(object="ticket", source_id="1", content_hash="b", reason="r"))
    state = fold(Dispositions(), [Recorded(i, now, e) for i, e in enumerate(evs, 1)])
    assert (state["ticket:1"]["state"], state["ticket:1"]["reason"]) == ("quarantined", "r")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    chunks=st.lists(
        st.tuples(st.lists(event_strategy(), max_size=12), st.booleans()), min_size=1, max_size=8
    )
)
def test_two_processes_catching_up_in_turns_both_keep_the_true_rows(engine, chunks) -> None:
    """A table reuses the rows its own catch-ups wrote instead of reading them again; when
    another process (``status``) caught up in between, those rows may have changed, and it
    reads them again."""
    ledger = Ledger(engine, f"turns-{uuid.uuid4().hex[:10]}")
    ours = ProjectionTable(engine, ledger.migration_id, Dispositions(), flush_every=2)
    theirs = ProjectionTable(engine, ledger.migration_id, Dispositions(), flush_every=2)
    for chunk, by_ours in chunks:
        ledger.append(chunk)
        (ours if by_ours else theirs).catch_up()
    ledger.append([RecordMigrated(object=o, source_id="1", content_hash="h1") for o in OBJECTS])
    ours.catch_up()
    assert ours.state() == fold(Dispositions(), ledger.read())


def test_rows_a_table_wrote_are_not_read_again(ledger: Ledger, engine) -> None:
    """Observed on the engine's statements (SQLAlchemy's cursor event, on the real server)."""
    table = ProjectionTable(engine, ledger.migration_id, Dispositions())
    read: list[str] = []

    def observe(_conn: object, _cursor: object, statement: str, params: Any, *_: object) -> None:
        if statement == ROWS_BY_KEYS:
            read.extend(params["k"])

    event.listen(engine, "before_cursor_execute", observe)
    try:
        ledger.append(
            [SourceCaptured(object="ticket", source_id=str(i), content_hash="a") for i in range(5)]
        )
        table.catch_up()
        assert sorted(read) == [f"ticket:{i}" for i in range(5)]  # new rows: looked for once
        read.clear()
        ledger.append(
            [RecordMigrated(object="ticket", source_id=str(i), content_hash="a") for i in range(5)]
        )
        table.catch_up()
        assert read == []  # its own rows, as it committed them
    finally:
        event.remove(engine, "before_cursor_execute", observe)
    assert table.state() == fold(Dispositions(), ledger.read())


@pytest.mark.parametrize("kept_max", [250_000, 3], ids=["rows-kept", "too-many-to-keep"])
def test_a_row_written_twice_in_one_long_catch_up_keeps_its_newest_value(
    ledger: Ledger, engine, kept_max: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catch-up reads its events 2,000 at a time and may flush rows in between: a row it
    flushed, touched again later in the same catch-up, is the flushed one, not the one
    the previous catch-up left; also when it wrote too many rows to keep them."""
    monkeypatch.setattr(projections, "KEPT_ROWS_MAX", kept_max)
    table = ProjectionTable(engine, ledger.migration_id, Dispositions(), flush_every=1)
    ledger.append([SourceCaptured(object="ticket", source_id="1", content_hash="a")])
    table.catch_up()
    others = [
        SourceCaptured(object="reply", source_id=str(i), content_hash="a") for i in range(2_000)
    ]
    ledger.append(
        [
            RecordMigrated(object="ticket", source_id="1", content_hash="a", intercom_id="t1"),
            *others,
            SourceCaptured(object="ticket", source_id="1", content_hash="b"),
        ]
    )
    table.catch_up()
    row = table.get("ticket:1")
    assert row["settled"] == {"a": ["migrated", ""]} and row["state"] == "pending"
    assert table.state() == fold(Dispositions(), ledger.read())
    ledger.append([RecordMigrated(object="ticket", source_id="1", content_hash="b")])
    table.catch_up()
    assert table.get("ticket:1")["state"] == "migrated"
    assert table.state() == fold(Dispositions(), ledger.read())
