"""The chaos campaign of ``benchmarks/chaos.py`` at a small setting: kills of workers and of
the coordinator, lost responses, 5xx, a 429 storm, private PostgreSQL and Redis restarted,
then a killed delta and a killed rollback; for each target of the map."""

from __future__ import annotations

import os

from tests.helpers.chaos_campaign import Plan, run_campaign


def test_small_chaos_campaign_ends_like_a_clean_run() -> None:
    plan = Plan(
        tickets=int(os.environ.get("H2I_CHAOS_CAMPAIGN_TICKETS", "20")),
        kills=6,
        pg_restarts=1,
        redis_restarts=1,
        storms=1,
        storm_seconds=3.0,
        delta_kills=1,
        rollback_kills=2,
        gap=(0.5, 1.2),
        down_seconds=1.0,
        seed=20261130,
        stall_seconds=3.0,
        client_timeout=8.0,
    )
    figures = run_campaign(plan)
    m = figures["migrate"]
    assert m["kills"] >= 4, m  # the run lasted long enough to be hurt
    assert m["pg_restarts"] + m["redis_restarts"] + m["storms"] >= 1, m
    assert sum(m["faults"].values()) > 0, m


def test_small_chaos_campaign_into_intercom_tickets_ends_like_a_clean_run() -> None:
    plan = Plan(
        tickets=int(os.environ.get("H2I_CHAOS_CAMPAIGN_TICKETS", "20")),
        kills=5,
        pg_restarts=1,
        redis_restarts=1,
        storms=1,
        storm_seconds=3.0,
        delta_kills=1,
        rollback_kills=2,
        gap=(0.5, 1.2),
        down_seconds=1.0,
        seed=20261201,
        target="tickets",
        stall_seconds=3.0,
        client_timeout=8.0,
    )
    figures = run_campaign(plan)
    m = figures["migrate"]
    assert figures["target"] == "tickets"
    assert m["kills"] >= 4, m
    assert m["pg_restarts"] + m["redis_restarts"] + m["storms"] >= 1, m
    assert sum(m["faults"].values()) > 0, m
