"""Fixtures for rollback, delta and cutover: a small real Hesk database and the simulator.

Reuses the end-to-end helpers of tests/workers (seeding, map, migrate) on a help desk of
its own, small enough that a whole migrate -> rollback -> migrate cycle stays quick.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pymysql
import pytest

from hesk.demo_data import generate
from simulator.testing import SimulatorHandle, running_simulator
from tests.workers.conftest import TOKEN, HeskSource

TICKETS = 30


def make_source(tmp_path_factory: pytest.TempPathFactory, tag: str, tickets: int = TICKETS,
                seed: int = 5) -> HeskSource:
    """A fresh demo Hesk database (dirty data included) with its attachments folder."""
    name = f"h2i_{tag}_{os.getpid()}"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    folder = tmp_path_factory.mktemp(f"att_{tag}")
    generate(url, folder, tickets=tickets, seed=seed)
    return HeskSource(url, folder, tickets)


def drop_source(source: HeskSource) -> None:
    """Drop the database of a source."""
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{source.url.rsplit('/', 1)[1]}`")
    conn.close()


@pytest.fixture(scope="session")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A small help desk shared by the rollback tests (they never change it)."""
    source = make_source(tmp_path_factory, "rb")
    yield source
    drop_source(source)


@pytest.fixture(scope="session")
def sim() -> Iterator[SimulatorHandle]:
    """The simulator, unthrottled, for the session."""
    with running_simulator(token=TOKEN, rate_limit=1_000_000) as handle:
        yield handle
