"""A unit whose dependency another thread is writing waits for it in its own thread.

Inside one phase a KB category needs its parent's collection. Handing the message back to
the broker costs at least its half-second backoff; the worker looks again every 50 ms for
up to a second first, and only then gives the message back.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from commands.migrate import MigrateOptions, record_run, require_map
from engine.capture import WORKSPACE_UNIT, capture_source
from engine.resources import Resources
from engine.units import DependencyPending, process_unit, process_unit_patiently
from hesk.reader import HeskReader
from ledger.events import RecordMigrated
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import prepare

PARENT, CHILD = "2", "4"  # the demo help desk's "Internal runbooks" sits in "Getting started"


@pytest.fixture
def captured(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> Iterator[Resources]:
    """A migration of the small help desk, captured, its set-up unit written."""
    settings = prepare(sim, small_source, ledger_url, tmp_path)
    res = Resources.from_settings(settings)
    record_run(res, "run-1", MigrateOptions(log_dir=tmp_path))
    with HeskReader.from_settings(settings) as reader:
        capture_source(res.ledger, reader, "run-1", the_map=require_map(res))
    setup = res.ledger.latest_captures([WORKSPACE_UNIT])[WORKSPACE_UNIT]
    assert process_unit(res, setup.event.key) == "done"
    yield res
    res.close()


def _key(res: Resources, source_id: str) -> str:
    return res.ledger.latest_captures([("kb_category", source_id)])[
        ("kb_category", source_id)
    ].event.key


def _collection_id(res: Resources, source_id: str) -> str:
    settled = res.ledger.settlements([("kb_category", source_id)])[("kb_category", source_id)]
    assert isinstance(settled.event, RecordMigrated)
    return settled.event.intercom_id


def test_a_child_category_is_written_as_soon_as_its_parent_is(
    captured: Resources, sim: SimulatorHandle
) -> None:
    res = captured
    parent_done = threading.Timer(0.3, process_unit, (res, _key(res, PARENT)))
    started = time.monotonic()
    parent_done.start()
    try:
        outcome = process_unit_patiently(res, _key(res, CHILD), patience=5.0)
    finally:
        parent_done.join()
    took = time.monotonic() - started

    assert outcome == "done"
    assert 0.3 <= took < 1.5, f"written {took:.2f} s after it was asked for"
    collections = {c["id"]: c for c in sim.dump()["collections"]}
    child = collections[_collection_id(res, CHILD)]
    assert str(child["parent_id"]) == _collection_id(res, PARENT)


def test_a_dependency_still_unwritten_after_the_patience_goes_back_to_the_broker(
    captured: Resources, sim: SimulatorHandle
) -> None:
    res = captured
    before = len(sim.dump()["collections"])
    started = time.monotonic()
    with pytest.raises(DependencyPending, match="kb_category:2"):
        process_unit_patiently(res, _key(res, CHILD), patience=0.4)
    took = time.monotonic() - started

    assert 0.3 <= took < 1.5
    assert len(sim.dump()["collections"]) == before, "nothing was written without its parent"


def test_a_ticket_waiting_for_its_contact_goes_back_to_the_broker_at_once(
    captured: Resources,
) -> None:
    res = captured  # the contacts phase has not run: every ticket waits for its contact
    ticket = res.ledger.latest_captures([("ticket", "1")])[("ticket", "1")].event.key
    started = time.monotonic()
    with pytest.raises(DependencyPending, match="contact:"):
        process_unit_patiently(res, ticket, patience=5.0)
    assert time.monotonic() - started < 0.5, "another phase's record is not waited for"
