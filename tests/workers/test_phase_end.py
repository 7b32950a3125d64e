"""A phase ends when every unit of it is settled: counted on the projection's rows, the
workspace unit (no Hesk record, outside the report's object list) included."""

from __future__ import annotations

import threading
import time
from typing import Any, cast

import pytest
from sqlalchemy.engine import Engine

from commands.coordinator import Coordinator, MigrationPending
from commands.options import MigrateOptions
from core.objects import PHASES
from engine.resources import Resources
from ledger.events import RecordMigrated, SourceCaptured
from ledger.store import Ledger

SETUP = PHASES[0][1]


def coordinator_of(engine: Engine, ledger: Ledger, sent: list[str]) -> Coordinator:
    """A coordinator on a real ledger whose messages go to ``sent`` (no broker, no client:
    following a phase reads only the ledger)."""
    res = Resources(
        settings=cast(Any, None),
        engine=engine,
        ledger=ledger,
        redis=cast(Any, None),
        attachments=None,
    )
    options = MigrateOptions(workers=1, threads=1, stall_seconds=0.5, max_stalls=1)
    return Coordinator(res, options, sent.extend)


def test_the_setup_phase_waits_for_its_workspace_unit(engine: Engine, ledger: Ledger) -> None:
    workspace = SourceCaptured(object="workspace", source_id="attributes", content_hash="w")
    staff = SourceCaptured(object="staff", source_id="1", content_hash="s")
    ledger.append(
        [workspace, staff, RecordMigrated(object="staff", source_id="1", content_hash="s")]
    )
    sent: list[str] = []
    with pytest.raises(MigrationPending, match="1 records still pending"):
        coordinator_of(engine, ledger, sent).run_phase(SETUP, lambda _progress: None)
    assert sent and set(sent) == {workspace.key}  # sent, and sent again when it stalled


def workspace_settling(ledger: Ledger, after: float) -> threading.Timer:
    """A captured workspace unit, and a timer (not started) that settles it ``after`` s."""
    ledger.append([SourceCaptured(object="workspace", source_id="attributes", content_hash="w")])
    settled = RecordMigrated(object="workspace", source_id="attributes", content_hash="w")
    return threading.Timer(after, lambda: ledger.append([settled]))


def test_the_phase_ends_once_its_last_unit_settles(engine: Engine, ledger: Ledger) -> None:
    settle = workspace_settling(ledger, 0.3)
    coordinator = coordinator_of(engine, ledger, [])
    settle.start()
    try:
        assert coordinator.run_phase(SETUP, lambda _progress: None) == 1
    finally:
        settle.join()


def test_the_phase_end_is_noticed_while_the_statistics_are_refreshed(
    engine: Engine, ledger: Ledger
) -> None:
    """A VACUUM holds the events table: the refresh waits (up to its lock timeout, 2 s) on a
    thread of its own, and the phase ends as soon as its unit settles."""
    settle = workspace_settling(ledger, 0.2)
    coordinator = coordinator_of(engine, ledger, [])
    with engine.connect() as vacuum:
        vacuum.exec_driver_sql("LOCK TABLE events IN SHARE UPDATE EXCLUSIVE MODE")
        started = time.monotonic()
        settle.start()
        try:
            assert coordinator.run_phase(SETUP, lambda _progress: None) == 1
            took = time.monotonic() - started
            assert coordinator.statistics.running, "the refresh still waits for the table"
        finally:
            settle.join()
            vacuum.rollback()
    coordinator.statistics.wait(10)
    assert took < 1.5, f"the phase ended {took:.1f} s after it started"
    assert not coordinator.statistics.running
