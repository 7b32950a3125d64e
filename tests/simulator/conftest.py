"""Simulator fixtures: one real server for the session, reset before each test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from simulator.testing import SimulatorHandle, running_simulator


@pytest.fixture(scope="session")
def sim_session() -> Iterator[SimulatorHandle]:
    with running_simulator(token="test-token", rate_limit=100_000) as handle:
        yield handle


@pytest.fixture()
def sim(sim_session: SimulatorHandle) -> SimulatorHandle:
    sim_session.reset()
    return sim_session


@pytest.fixture()
def api(sim: SimulatorHandle) -> Iterator[httpx.Client]:
    with sim.client(timeout=10) as client:
        yield client


@pytest.fixture()
def contact(api: httpx.Client) -> dict:
    response = api.post("/contacts", json={"email": "ann@example.com", "name": "Ann",
                                           "external_id": "hesk:customer:1"})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture()
def conversation(api: httpx.Client, contact: dict) -> str:
    response = api.post("/conversations", json={
        "from": {"type": "user", "id": contact["id"]}, "body": "Printer is on fire",
        "created_at": 1600000000})
    assert response.status_code == 200, response.text
    return response.json()["conversation_id"]


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert body["type"] == "error.list"
    return body["errors"][0]["code"]
