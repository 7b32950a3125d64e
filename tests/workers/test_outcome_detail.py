"""What an outcome keeps for people: the transient errors retried before its answer, and
an article's or collection's public URL and state (the ID map, redirects and the report's
timeline read them)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from core.settings import load_settings
from engine.protocol import UnitRun, run_step
from engine.resources import Resources
from engine.units import unit_session
from ledger.events import WriteSucceeded
from mapping.steps import Step
from simulator.testing import SimulatorHandle
from tests.helpers.simulator import TOKEN


@pytest.fixture
def res(sim: SimulatorHandle, ledger_url: str) -> Iterator[Resources]:
    settings = load_settings(
        ledger_url=ledger_url,
        intercom_base_url=sim.base_url,
        intercom_token=SecretStr(TOKEN),
        migration=f"detail-{uuid.uuid4().hex[:8]}",
    )
    resources = Resources.from_settings(settings)
    yield resources
    resources.close()
    sim.set_faults()


def _run(res: Resources, step: Step, source_id: str) -> WriteSucceeded:
    with unit_session(res, "kb_category", source_id) as (got, conn):
        assert got
        run = UnitRun.load(res, "kb_category", source_id, conn=conn)
        outcome = run_step(run, step, step.path, step.body)
        run.flush()
    assert outcome.ok
    found = [r.event for r in res.ledger.read(types=[WriteSucceeded.TYPE], source_id=source_id)]
    assert isinstance(found[-1], WriteSucceeded)
    return found[-1]


def test_outcomes_keep_public_urls_and_the_errors_retried(
    res: Resources, sim: SimulatorHandle
) -> None:
    name = f"Printers {uuid.uuid4().hex[:6]}"
    create = Step(
        op="create",
        method="POST",
        path="/help_center/collections",
        body={"name": name},
        identity_hash="c1",
        lookup={},
        lookup_kind="collection",
        creates="collection",
    )
    made = _run(res, create, "7")
    assert made.detail == {
        "url": f"https://intercom.help/simulator/en/collections/{made.intercom_id}"
    }
    before = sim.stats()["faults_injected"].get("rate_5xx", 0)
    sim.set_faults(rate_5xx=0.5, seed=4)  # a PUT is retried on a 5xx
    rename = Step(
        op="update",
        method="PUT",
        path=f"/help_center/collections/{made.intercom_id}",
        body={"name": name + " (renamed)"},
        identity_hash="u1",
        lookup={},
        lookup_kind="idempotent",
    )
    updated = _run(res, rename, "7")
    injected = sim.stats()["faults_injected"].get("rate_5xx", 0) - before
    assert injected > 0
    assert updated.detail["retried"] == {"server_error": injected}
    assert updated.detail["url"].endswith(f"/collections/{made.intercom_id}")
