"""Auth, rate limits and injected faults, against real servers."""

from __future__ import annotations

import time

import httpx
import pytest

from simulator.faults import FaultConfig, FaultSpecError
from simulator.testing import admin_headers
from tests.helpers.simulator import error_code, simulator_with


def test_401_without_token_and_no_rate_headers(sim) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}):
        response = httpx.get(f"{sim.base_url}/me", headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"] == [
            {"code": "unauthorized", "message": "Access Token Invalid"}
        ]
        assert "x-ratelimit-limit" not in response.headers


def test_rate_limit_window_and_headers() -> None:
    with simulator_with(token="t", rate_limit=5) as sim, sim.client() as api:
        window_end = (int(time.time()) // 10 + 1) * 10
        answers = [api.get("/me") for _ in range(7)]
        ok = [r for r in answers if r.status_code == 200]
        limited = [r for r in answers if r.status_code == 429]
        assert len(limited) >= 2 and len(ok) <= 5
        first = answers[0]
        assert first.headers["x-ratelimit-limit"] == "5"
        assert int(first.headers["x-ratelimit-remaining"]) < 5
        assert int(first.headers["x-ratelimit-reset"]) in (window_end, window_end + 10)
        error = limited[0].json()["errors"][0]
        assert error == {
            "code": "rate_limit_exceeded",
            "message": "Exceeded rate limit of 5 in 10_seconds",
        }
        assert limited[0].headers["x-ratelimit-remaining"] == "0"
        assert sim.stats()["rate_limited"] == len(limited)


def test_injected_429_and_5xx_do_not_write(sim, api: httpx.Client) -> None:
    sim.set_faults(rate_429=1.0)
    response = api.post("/contacts", json={"email": "x@example.com"})
    assert response.status_code == 429 and error_code(response) == "rate_limit_exceeded"
    sim.set_faults(rate_5xx=1.0, seed=7)
    statuses = {
        api.post("/contacts", json={"email": "x@example.com"}).status_code for _ in range(12)
    }
    assert statuses <= {500, 502, 503} and len(statuses) >= 2
    sim.set_faults()
    assert sim.dump()["contacts"] == []
    injected = sim.stats()["faults_injected"]
    assert injected["rate_429"] == 1 and injected["rate_5xx"] == 12


def test_a_429_storm_refuses_every_call_until_it_ends(sim, api: httpx.Client) -> None:
    sim.set_faults(storm_seconds=1.5, rate_5xx=0.0)
    started = time.time()
    refused = [api.post("/contacts", json={"email": f"s{n}@example.com"}) for n in range(5)]
    assert {r.status_code for r in refused} == {429}
    assert error_code(refused[0]) == "rate_limit_exceeded"
    assert int(refused[0].headers["x-ratelimit-reset"]) >= int(started + 1.5)
    assert sim.dump()["contacts"] == []
    time.sleep(1.6)
    assert api.post("/contacts", json={"email": "after@example.com"}).status_code == 200
    assert sim.stats()["faults_injected"]["storm_429"] == 5
    sim.set_faults()


def test_lost_response_502_applies_the_write(sim, api: httpx.Client) -> None:
    sim.set_faults(rate_lost_response=1.0, lost_response_mode="502")
    response = api.post("/contacts", json={"email": "lost@example.com"})
    assert response.status_code == 502 and response.json()["type"] == "error.list"
    sim.set_faults()
    assert [c["email"] for c in sim.dump()["contacts"]] == ["lost@example.com"]
    retry = api.post("/contacts", json={"email": "lost@example.com"})
    assert retry.status_code == 409  # the in-doubt write really happened


def test_lost_response_drop_applies_the_write(sim, api: httpx.Client) -> None:
    sim.set_faults(rate_lost_response=1.0, lost_response_mode="drop")
    with pytest.raises(httpx.TransportError):
        api.post("/contacts", json={"email": "dropped@example.com"})
    sim.set_faults()
    assert [c["email"] for c in sim.dump()["contacts"]] == ["dropped@example.com"]
    assert sim.stats()["faults_injected"]["rate_lost_response"] == 1


def test_timeout_then_answers(sim) -> None:
    sim.set_faults(rate_timeout=1.0, timeout_ms=800)
    with sim.client(timeout=0.2) as api, pytest.raises(httpx.ReadTimeout):
        api.post("/contacts", json={"email": "slow@example.com"})
    sim.set_faults()
    assert [c["email"] for c in sim.dump()["contacts"]] == ["slow@example.com"]


def test_latency(sim, api: httpx.Client) -> None:
    sim.set_faults(latency_ms=150)
    started = time.monotonic()
    assert api.get("/me").status_code == 200
    assert time.monotonic() - started >= 0.14
    # faults never apply to the admin API
    sim.set_faults(rate_5xx=1.0)
    stats = httpx.get(f"{sim.base_url}/_sim/stats", headers=admin_headers(sim.token))
    assert stats.status_code == 200
    sim.set_faults()


def test_fault_spec_parsing(sim) -> None:
    config = FaultConfig.parse(
        "rate_429=0.02,rate_5xx=0.02,rate_lost_response=0.05,latency_ms=0,rate_timeout=0,seed=3"
    )
    assert config.rate_lost_response == 0.05 and config.seed == 3
    with pytest.raises(FaultSpecError):
        FaultConfig.parse("rate_429=2")
    with pytest.raises(FaultSpecError):
        FaultConfig.parse("bogus=1")
    bad = httpx.post(
        f"{sim.base_url}/_sim/faults", json={"rate_5xx": "lots"}, headers=admin_headers(sim.token)
    )
    assert bad.status_code == 400 and bad.json()["type"] == "error.list"


def test_seeded_faults_are_reproducible() -> None:
    def run() -> list[int]:
        spec = "rate_5xx=0.3,seed=42"
        with simulator_with(faults=spec) as sim, sim.client() as api:
            return [api.get("/me").status_code for _ in range(20)]

    assert run() == run()
