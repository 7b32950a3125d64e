"""An in-doubt write left by another worker is re-sent only once its request cannot land.

A worker that lost its unit lock while alive (Postgres restarted) may still be sending. A
lookup that misses an intent younger than the client timeout plus a margin proves nothing,
so the unit is retried later instead of writing the record twice.
"""

from __future__ import annotations

import uuid

import pytest
from pydantic import SecretStr

from core.settings import load_settings
from engine.protocol import IntentTooYoung, UnitRun, run_step
from engine.resources import Resources
from engine.units import unit_session
from ledger.events import WriteIntended, WriteResolved, WriteSucceeded
from ledger.keys import write_key
from mapping.steps import Step
from simulator.testing import SimulatorHandle
from tests.helpers.simulator import TOKEN


def _contact_step(email: str, mark: str) -> Step:
    body = {
        "role": "user",
        "external_id": f"hesk:customer:{email}:{mark}",
        "email": email,
        "name": "Young Intent",
    }
    return Step(
        op="create",
        method="POST",
        path="/contacts",
        body=body,
        identity_hash="h1",
        lookup={},
        lookup_kind="contact",
        creates="contact",
    )


def _contacts(sim: SimulatorHandle, email: str) -> list[dict]:
    return [c for c in sim.dump()["contacts"] if c.get("email") == email]


@pytest.fixture
def res(sim: SimulatorHandle, ledger_url: str) -> Resources:
    settings = load_settings(
        ledger_url=ledger_url,
        intercom_base_url=sim.base_url,
        intercom_token=SecretStr(TOKEN),
        migration=f"young-{uuid.uuid4().hex[:8]}",
    )
    resources = Resources.from_settings(settings)
    yield resources
    resources.close()


def _crashed_after_intent(res: Resources, step: Step, email: str) -> None:
    """What a worker leaves when it dies (or loses its lock) right after the intent."""
    earlier = UnitRun(res, "contact", email)
    earlier.flush(
        WriteIntended(
            object="contact",
            source_id=email,
            operation=step.op,
            content_hash=step.identity_hash,
            attempt=1,
            target={"method": step.method, "path": step.path, "creates": step.creates},
        )
    )


def test_a_young_miss_waits_and_an_old_one_is_sent_again_once(
    res: Resources, sim: SimulatorHandle
) -> None:
    email = f"young-{uuid.uuid4().hex[:6]}@example.com"
    step = _contact_step(email, res.mark())
    _crashed_after_intent(res, step, email)

    with unit_session(res, "contact", email) as (got, conn):
        assert got
        run = UnitRun.load(res, "contact", email, conn=conn)
        with pytest.raises(IntentTooYoung) as young:
            run_step(run, step, step.path, step.body)
    assert "in doubt and not found yet" in str(young.value)
    assert _contacts(sim, email) == []  # nothing sent while it might still land

    # Later (here: a margin that makes the intent old), the miss is proven: sent once.
    with unit_session(res, "contact", email) as (got, conn):
        run = UnitRun.load(res, "contact", email, conn=conn)
        outcome = run_step(run, step, step.path, step.body, landing_margin=-10_000.0)
        run.flush()
    assert outcome.ok and outcome.created
    assert [c["id"] for c in _contacts(sim, email)] == [outcome.intercom_id]
    events = [r.event for r in res.ledger.read(objects=["contact"], source_id=email)]
    first = write_key("create", "contact", email, "h1", 1)
    assert any(
        isinstance(e, WriteResolved) and e.intent_key == first and not e.found for e in events
    )
    assert [e.intent_key for e in events if isinstance(e, WriteSucceeded)] == [
        write_key("create", "contact", email, "h1", 2)
    ]


def test_a_young_intent_whose_write_landed_is_settled_at_once(
    res: Resources, sim: SimulatorHandle
) -> None:
    email = f"landed-{uuid.uuid4().hex[:6]}@example.com"
    step = _contact_step(email, res.mark())
    _crashed_after_intent(res, step, email)
    made = res.client.request("POST", "/contacts", json=step.body)  # the lost worker's call

    with unit_session(res, "contact", email) as (_got, conn):
        run = UnitRun.load(res, "contact", email, conn=conn)
        outcome = run_step(run, step, step.path, step.body)
        run.flush()
    assert outcome.ok and outcome.intercom_id == made["id"] and outcome.created  # its mark
    assert len(_contacts(sim, email)) == 1
