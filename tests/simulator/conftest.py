"""Simulator fixtures: the session's simulator (``sim``, ``tests/conftest.py``), reset before
each test, and an HTTP client on it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.testing import SimulatorHandle


@pytest.fixture(autouse=True)
def empty_workspace(sim: SimulatorHandle) -> None:
    """Every test here starts from an empty workspace, zeroed stats and no faults."""
    sim.reset()


@pytest.fixture()
def api(sim: SimulatorHandle) -> Iterator[httpx.Client]:
    with sim.client(timeout=10) as client:
        yield client


@pytest.fixture()
def contact(api: httpx.Client) -> dict:
    response = api.post(
        "/contacts",
        json={"email": "ann@example.com", "name": "Ann", "external_id": "hesk:customer:1"},
    )
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture()
def conversation(api: httpx.Client, contact: dict) -> str:
    response = api.post(
        "/conversations",
        json={
            "from": {"type": "user", "id": contact["id"]},
            "body": "Printer is on fire",
            "created_at": 1600000000,
        },
    )
    assert response.status_code == 200, response.text
    return response.json()["conversation_id"]
