"""The chaos campaign of ``benchmarks/chaos.py`` at a small setting: kills of workers and of
the coordinator, lost responses, 5xx, a 429 storm, private PostgreSQL and Redis restarted,
then a killed delta and a killed rollback; for each target of the map."""

from __future__ import annotations

import os

import pytest

from tests.helpers.chaos_campaign import Plan, run_campaign


@pytest.mark.parametrize(
    ("target", "kills", "seed"),
    [("conversations", 6, 20261130), ("tickets", 5, 20261201)],
)
def test_small_chaos_campaign_ends_like_a_clean_run(target: str, kills: int, seed: int) -> None:
    plan = Plan(
        tickets=int(os.environ.get("H2I_CHAOS_CAMPAIGN_TICKETS", "20")),
        kills=kills,
        pg_restarts=1,
        redis_restarts=1,
        storms=1,
        storm_seconds=3.0,
        delta_kills=1,
        rollback_kills=2,
        gap=(0.5, 1.2),
        down_seconds=1.0,
        seed=seed,
        stall_seconds=3.0,
        client_timeout=8.0,
        target=target,
    )
    figures = run_campaign(plan)
    m = figures["migrate"]
    assert figures["target"] == target
    assert m["kills"] >= 4, m  # the run lasted long enough to be hurt
    assert m["pg_restarts"] + m["redis_restarts"] + m["storms"] >= 1, m
    assert sum(m["faults"].values()) > 0, m
