"""End-to-end fixtures: demo Hesk databases (MariaDB) and the clean migrations the fault,
kill and restart runs are compared with. The simulator is the session's ``sim``
(``tests/conftest.py``); seeding, ``prepare`` and ``migrate`` are in
``tests/helpers/migration.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource, drop_source, make_source
from tests.helpers.migration import make_baseline

#: Tickets in the end-to-end help desk ("a few hundred" at full size: benchmarks/migrate.py).
E2E_TICKETS = int(os.environ.get("H2I_E2E_TICKETS", "150"))
#: Tickets in the help desk the fault and kill tests compare (they wait out real 429s).
CHAOS_TICKETS = int(os.environ.get("H2I_CHAOS_TICKETS", "24"))
#: The same for the runs into Intercom tickets (smaller: the suite's time is counted).
TICKET_CHAOS_TICKETS = int(os.environ.get("H2I_TICKET_CHAOS_TICKETS", "20"))


def _hesk_source(
    tmp_path_factory: pytest.TempPathFactory, label: str, tickets: int, seed: int
) -> Iterator[HeskSource]:
    source = make_source(tmp_path_factory, label, tickets, seed)
    yield source
    drop_source(source)


@pytest.fixture(scope="session")
def hesk_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A demo Hesk 3.7 database with every kind of dirty data, generated once."""
    yield from _hesk_source(tmp_path_factory, "e2e", E2E_TICKETS, 11)


@pytest.fixture(scope="session")
def chaos_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A smaller help desk (dirty data included) for the fault and kill -9 runs."""
    yield from _hesk_source(tmp_path_factory, "chaos", CHAOS_TICKETS, 23)


@pytest.fixture(scope="session")
def ticket_chaos_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """The help desk of the fault and kill -9 runs into Intercom tickets."""
    yield from _hesk_source(tmp_path_factory, "tchaos", TICKET_CHAOS_TICKETS, 29)


@pytest.fixture(scope="session")
def baseline(
    sim: SimulatorHandle,
    chaos_source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """The workspace after a clean, uninterrupted migration of the chaos help desk (the
    fault, kill -9 and service-restart runs must all end in exactly this)."""
    return make_baseline(sim, chaos_source, ledger_url, tmp_path_factory, "conversations")


@pytest.fixture(scope="session")
def ticket_baseline(
    sim: SimulatorHandle,
    ticket_chaos_source: HeskSource,
    ledger_url: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> dict:
    """The same as ``baseline``, into Intercom tickets."""
    return make_baseline(sim, ticket_chaos_source, ledger_url, tmp_path_factory, "tickets")
