"""A rollback that leaves an object names it and says why, and still finishes.

An older version settled in-doubt creates by e-mail or by name alone and recorded what it
found as created. The rollback checks each such object: one that is not this migration's
(a contact without its mark, a tag found by name) is left in Intercom with a
``RollbackKept`` event, named in the output, in ``RollbackCompleted.kept`` and in
``status``: it never blocks the rollback.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from commands.rollback import plan_rollback
from commands.status import status_summary
from core.settings import Settings, load_settings
from engine.protocol import UnitRun, run_step
from engine.resources import Resources
from ledger.events import RollbackCompleted, RollbackKept, WriteIntended, WriteResolved
from ledger.store import Ledger
from mapping.common import identity
from mapping.steps import Step
from simulator.testing import SimulatorHandle
from tests.helpers.preexisting import run_cli
from tests.helpers.simulator import TOKEN


@pytest.fixture
def settings(sim: SimulatorHandle, ledger_url: str) -> Settings:
    sim.reset()
    return load_settings(
        ledger_url=ledger_url,
        intercom_base_url=sim.base_url,
        intercom_token=SecretStr(TOKEN),
        migration=f"kept-{uuid.uuid4().hex[:8]}",
    )


@pytest.fixture
def res(settings: Settings) -> Iterator[Resources]:
    resources = Resources.from_settings(settings)
    yield resources
    resources.close()


def _settled_by_an_older_version(
    res: Resources, obj: str, source_id: str, path: str, creates: str, found_id: str
) -> None:
    """What an older version recorded: an in-doubt create settled by lookup as created."""
    intent = WriteIntended(
        object=obj,
        source_id=source_id,
        operation="create",
        content_hash="old",
        target={"method": "POST", "path": path, "creates": creates},
    )
    res.ledger.append(
        [
            intent,
            WriteResolved(
                object=obj,
                source_id=source_id,
                intent_key=intent.key,
                found=True,
                intercom_id=found_id,
                intercom_type=creates,
                created=True,
            ),
        ]
    )


def test_what_is_not_ours_is_kept_named_and_never_blocks_the_rollback(
    sim: SimulatorHandle, settings: Settings, res: Resources
) -> None:
    made = sim.seed(
        contacts=[{"email": "jane@customer.example", "name": "Existed before"}],
        tags=[{"name": "Hesk: Billing"}],
    )
    contact, tag = made["contacts"][0], made["tags"][0]
    _settled_by_an_older_version(
        res, "contact", "jane@customer.example", "/contacts", "contact", contact["id"]
    )
    _settled_by_an_older_version(res, "category", "2", "/tags", "tag", tag["id"])
    ours = Step(
        op="create",
        method="POST",
        path="/tags",
        body={"name": "Hesk: Ours"},
        identity_hash=identity({"name": "Hesk: Ours"}),
        lookup={},
        lookup_kind="tag",
        creates="tag",
    )
    unit = UnitRun.load(res, "category", "3")
    assert run_step(unit, ours, ours.path, ours.body).created
    unit.flush()
    assert sum(plan_rollback(res).to_delete.values()) == 3  # the ledger says "created"

    done = run_cli(settings, "rollback", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    out = " ".join(done.stdout.split())
    assert f"kept contact {contact['id']}" in out and "not this migration's" in out
    assert f"kept tag {tag['id']}" in out and "by name alone" in out
    dump = sim.dump()
    assert dump["contacts"] == [contact] and dump["tags"] == [tag]  # ours alone is gone

    ledger = Ledger(res.engine, settings.migration)
    kept = [r.event for r in ledger.read(types=[RollbackKept.TYPE])]
    assert sorted(e.intercom_id for e in kept) == sorted([contact["id"], tag["id"]])  # type: ignore[attr-defined]  # Ledger.read yields Event: these are of the types asked for
    (completed,) = [r.event for r in ledger.read(types=[RollbackCompleted.TYPE])]
    assert isinstance(completed, RollbackCompleted)
    assert {k["id"] for k in completed.kept} == {contact["id"], tag["id"]}
    assert all(k["reason"] for k in completed.kept)
    assert "2 left in Intercom on purpose" in status_summary(settings)["rolled_back"]["line"]
    again = run_cli(settings, "rollback", "--dry-run")
    assert again.returncode == 0 and "already rolled back" in again.stdout
    assert contact["id"] in again.stdout and tag["id"] in again.stdout
