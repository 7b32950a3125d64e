"""Projections: the incrementally kept table always equals a rebuild from seq 0."""

from __future__ import annotations

import threading
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.dispositions import Dispositions, summarise
from ledger.events import (
    RecordMigrated,
    RecordQuarantined,
    RecordSkipped,
    SourceCaptured,
)
from ledger.projections import ProjectionTable, fold
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
