"""Fixtures: the simulator as a real HTTP server for the session, and a client on it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from intercom_api.base import RetryPolicy
from intercom_api.client import IntercomClient
from simulator.testing import running_simulator

SIM_TOKEN = "sim-tok-Zq9x7Yv4Wc2"
#: Quick retries so fault tests stay fast; the policy's shape is the production one.
QUICK = RetryPolicy(
    attempts=6, rate_limited_attempts=30, backoff_initial=0.02, backoff_max=0.2, jitter=0.05
)


@pytest.fixture(scope="session")
def sim() -> Iterator[Any]:
    """The simulator, started once for the session (uvicorn in a thread)."""
    with running_simulator(token=SIM_TOKEN) as handle:
        yield handle


@pytest.fixture
def faults(sim: Any) -> Iterator[Any]:
    """``faults(**config)`` replaces the fault config; cleared again after the test."""
    yield lambda **config: sim.set_faults(**config)
    sim.set_faults()


@pytest.fixture
def quick() -> RetryPolicy:
    """The quick retry policy."""
    return QUICK


@pytest.fixture
def seeded(sim: Any) -> dict[str, Any]:
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
def client(sim: Any, seeded: dict[str, Any]) -> Iterator[IntercomClient]:
    """A client on the simulator with quick retries and a short timeout."""
    with IntercomClient(sim.base_url, SIM_TOKEN, timeout=5, retry=QUICK) as c:
        yield c
    sim.set_faults()


@pytest.fixture
def admin_id(seeded: dict[str, Any]) -> str:
    """The id of a seeded admin."""
    return str(seeded["admins"][0]["id"])
