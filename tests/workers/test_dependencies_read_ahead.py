"""A ticket's dependencies are read with its lock, and change nothing but a round trip.

``h2i_take_unit`` (migration 0006) returns the settlements of what every ticket of the map
needs and of what the ticket's record names (its contacts, custom fields, category) with
the lock. Planning reads on its own only what that did not ask for. Whichever way the
settlements arrive, the workspace must end exactly as after a clean migration.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engine.resources import Resources
from engine.units import process_unit
from ledger.store import SETTLING_TYPES, Ledger, SettlementsRead
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates, normalise


@pytest.fixture
def settlement_reads(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many pairs each settlements read of its own asked for (the real read runs)."""
    reads: list[int] = []
    real = Ledger._latest

    def counted(self: Ledger, pairs: Any, types: list[str], conn: Any) -> Any:
        if tuple(types) == SETTLING_TYPES:
            reads.append(len(list(pairs)))
        return real(self, pairs, types, conn)

    monkeypatch.setattr(Ledger, "_latest", counted)
    yield reads


def _tickets_in_process(settings: Any, tmp: Path) -> int:
    """The set-up and the contacts by the workers, then every ticket's unit in this process;
    how many tickets. The rest (the knowledge base) is left to a later ``migrate``."""
    migrate(settings, tmp, workers=1, threads=2, only="contact")
    res = Resources.from_settings(settings, threads=2)
    try:
        captured = res.ledger.read(types=["SourceCaptured"], objects=["ticket"])
        keys = [rec.event.key for rec in captured]
        assert keys
        for key in keys:
            process_unit(res, key)
    finally:
        res.close()
    return len(keys)


def _ends_like_the_clean_run(
    settings: Any, tmp: Path, sim: SimulatorHandle, baseline: dict
) -> None:
    """``migrate`` writes the rest (the tickets are done): no duplicate, and the workspace
    of the clean, uninterrupted run."""
    migrate(settings, tmp, workers=1, threads=2)
    dump = sim.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]


def test_a_tickets_dependencies_arrive_with_its_lock(
    sim: SimulatorHandle,
    ticket_chaos_source: HeskSource,
    ticket_baseline: dict,
    ledger_url: str,
    tmp_path: Path,
    settlement_reads: list[int],
) -> None:
    settings = prepare(sim, ticket_chaos_source, ledger_url, tmp_path, "tickets")
    settlement_reads.clear()
    _tickets_in_process(settings, tmp_path)
    assert settlement_reads == []  # no ticket read a settlement on its own
    _ends_like_the_clean_run(settings, tmp_path, sim, ticket_baseline)


def test_without_the_read_ahead_the_workspace_is_the_same(
    sim: SimulatorHandle,
    ticket_chaos_source: HeskSource,
    ticket_baseline: dict,
    ledger_url: str,
    tmp_path: Path,
    settlement_reads: list[int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The settlements read on their own (as under a stricter isolation, where the call is
    not made): one read per ticket, and the same workspace."""
    settings = prepare(sim, ticket_chaos_source, ledger_url, tmp_path, "tickets")
    monkeypatch.setattr(SettlementsRead, "of_call", classmethod(lambda cls, parts: None))
    settlement_reads.clear()
    tickets = _tickets_in_process(settings, tmp_path)
    assert len(settlement_reads) == tickets and all(n > 0 for n in settlement_reads)
    _ends_like_the_clean_run(settings, tmp_path, sim, ticket_baseline)
