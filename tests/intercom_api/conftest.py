"""Fixtures: a client on the session's simulator (``sim``, ``tests/conftest.py``)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from intercom_api.base import RetryPolicy
from intercom_api.client import IntercomClient
from simulator.testing import SimulatorHandle
from tests.helpers.simulator import QUICK


@pytest.fixture
def faults(sim: SimulatorHandle) -> Iterator[Any]:
    """``faults(**config)`` replaces the fault config; cleared again after the test."""
    yield lambda **config: sim.set_faults(**config)
    sim.set_faults()


@pytest.fixture
def quick() -> RetryPolicy:
    """The quick retry policy."""
    return QUICK


@pytest.fixture
def seeded(sim: SimulatorHandle) -> dict[str, Any]:
    """An empty workspace with two admins and a team; answers the seeded objects."""
    sim.reset()
    sim.set_faults()
    return sim.seed(
        admins=[
            {"name": "Ada Admin", "email": "ada@example.test"},
            {"name": "Bob Admin", "email": "bob@example.test"},
        ],
        teams=[{"name": "Billing"}],
    )


@pytest.fixture
def client(sim: SimulatorHandle, seeded: dict[str, Any]) -> Iterator[IntercomClient]:
    """A client on the simulator with quick retries and a short timeout."""
    with IntercomClient(sim.base_url, sim.token, timeout=5, retry=QUICK) as c:
        yield c
    sim.set_faults()


@pytest.fixture
def admin_id(seeded: dict[str, Any]) -> str:
    """The id of a seeded admin."""
    return str(seeded["admins"][0]["id"])
