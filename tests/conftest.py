"""Shared fixtures: real PostgreSQL for the ledger (a throwaway database per test session).

Tests talk to the real services on loopback; when one cannot be reached they fail, and a
test that skips is reported as failed (``tests/no_skips.py``). Tests that stop or restart a
service use private servers (``tests/private_services.py``), never the shared ones.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ledger.database import open_engine
from ledger.store import Ledger

pytest_plugins = ("tests.no_skips",)

PG_ADMIN_URL = os.environ.get("H2I_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def _drop_database(name: str) -> None:
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def ledger_url() -> Iterator[str]:
    """URL of a fresh ledger database for this test session (created by open_engine)."""
    name = f"h2i_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    _drop_database(name)


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
