"""A small help desk migrated once into the simulator, for the ID map and redirect tests
(they only read the ledger, so they share it)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from core.settings import Settings
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import drop_source, make_source
from tests.helpers.migration import migrate, prepare

TICKETS = 20


@pytest.fixture(scope="session")
def migrated_settings(
    sim: SimulatorHandle, ledger_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings of a migration of a 20-ticket demo help desk (dirty data included)."""
    source = make_source(tmp_path_factory, "idmap", tickets=TICKETS, seed=7)
    tmp: Path = tmp_path_factory.mktemp("idmap-run")
    settings = prepare(sim, source, ledger_url, tmp)
    migrate(settings, tmp, workers=1, threads=4)
    yield settings
    drop_source(source)
