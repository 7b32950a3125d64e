"""Shared fixtures: real PostgreSQL for the ledger (a throwaway database per test session),
the simulator over HTTP, and the help desks used in several folders.

Tests talk to the real services on loopback; when one cannot be reached they fail, and a
test that skips is reported as failed (``tests/no_skips.py``). Tests that stop or restart a
service use private servers (``tests/helpers/private_services.py``), never the shared ones.
What several test modules share besides fixtures is in ``tests/helpers/``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from ledger.database import open_engine
from ledger.store import Ledger
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource, drop_source, make_source
from tests.helpers.ledger import PG_ADMIN_URL, drop_database
from tests.helpers.production import ProductionHesk, production_hesk
from tests.helpers.simulator import simulator_with

pytest_plugins = ("tests.no_skips",)


@pytest.fixture(scope="session")
def ledger_url() -> Iterator[str]:
    """URL of a fresh ledger database for this test session (created by open_engine)."""
    name = f"h2i_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    drop_database(name)


@pytest.fixture(scope="session")
def engine(ledger_url: str) -> Iterator[Engine]:
    """An engine on the session's ledger, created and upgraded."""
    eng = open_engine(ledger_url)
    yield eng
    eng.dispose()


@pytest.fixture
def migration_id() -> str:
    """A migration id of its own for each test, so tests never see each other's events."""
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.fixture
def ledger(engine: Engine, migration_id: str) -> Ledger:
    """The ledger of this test's own migration."""
    return Ledger(engine, migration_id)


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorHandle]:
    """The simulator for the whole session: token ``TOKEN``, unthrottled
    (``tests/helpers/simulator.py``). Tests that need an empty workspace reset it (``prepare``
    does; ``tests/simulator`` resets before each test); tests that need other limits, tokens
    or faults open their own with ``simulator_with(...)``."""
    with simulator_with() as handle:
        yield handle


@pytest.fixture(scope="session")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A 30-ticket help desk shared by the rollback and inventory tests (they never change it)."""
    source = make_source(tmp_path_factory, "rb")
    yield source
    drop_source(source)


@pytest.fixture
def production(tmp_path: Path) -> Iterator[ProductionHesk]:
    """A 'production' Hesk database holding tickets and a folder holding a user's file."""
    with production_hesk(tmp_path) as made:
        yield made
