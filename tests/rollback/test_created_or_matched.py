"""Rollback removes exactly what this migration created: the customer's own objects stay.

The workspace already holds a tag, a collection, an article and a conversation attribute
under the names the migration uses, a contact with a customer's e-mail and a contact of
another migration. After migrate and rollback each is still there, unchanged — also when
every create's answer was lost (in doubt, settled by lookup) — and the rollback ends with
exit 0.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import Settings
from ledger.database import open_engine
from ledger.events import WriteInDoubt, WriteResolved, WriteSucceeded
from ledger.store import Ledger
from simulator.testing import SimulatorHandle
from tests.helpers.harness import migrate_under_kills
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.preexisting import CREATES, Seeded, owned, run_cli, seed_preexisting


def _outcomes(ledger_url: str, migration: str) -> list[WriteSucceeded | WriteResolved]:
    engine = open_engine(ledger_url)
    try:
        ledger = Ledger(engine, migration)
        types = [WriteSucceeded.TYPE, WriteResolved.TYPE]
        return [r.event for r in ledger.read(types=types)]  # type: ignore[misc]  # Ledger.read yields Event: these are of the types asked for
    finally:
        engine.dispose()


def _lost_answers(ledger_url: str, migration: str) -> set[str]:
    """Intent keys whose answer the client saw lost (the rest in doubt were killed)."""
    engine = open_engine(ledger_url)
    try:
        found = Ledger(engine, migration).read(types=[WriteInDoubt.TYPE])
        return {r.event.intent_key for r in found}  # type: ignore[attr-defined]  # Ledger.read yields Event: these are of the types asked for
    finally:
        engine.dispose()


@pytest.mark.parametrize("answers", ["received", "lost"])
def test_the_customers_own_objects_survive_migrate_and_rollback(
    answers: str,
    sim: SimulatorHandle,
    small_source: HeskSource,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    settings = prepare(sim, small_source, ledger_url, tmp_path)
    seeded = seed_preexisting(sim, settings, small_source)
    before = sim.dump()
    if answers == "lost":  # every create is applied, and its answer lost: all in doubt
        sim.set_faults(rate_lost_response=1.0, only=CREATES, seed=3)
    try:
        migrate(settings, tmp_path, workers=1, threads=4)
    finally:
        lost = sim.stats()["faults_injected"].get("rate_lost_response", 0)
        sim.set_faults()
    migrated = sim.dump()
    outcomes = _outcomes(ledger_url, settings.migration)
    if answers == "lost":
        resolved = [e for e in outcomes if isinstance(e, WriteResolved) and e.found]
        assert lost >= 10 and len(resolved) >= 10  # the creates really were in doubt
        proven = {e.intercom_type for e in resolved if e.created}
        assert {"contact", "article", "collection"} <= proven, proven
        assert all(e.detail.get("proof") for e in resolved if e.created)
    by_id = {(e.intercom_type, e.intercom_id): e for e in outcomes}
    for kind, intercom_type in (
        ("tags", "tag"),
        ("collections", "collection"),
        ("conversation_attributes", "conversation_attribute"),
        ("contacts", "contact"),
    ):
        for seeded_id in seeded.ids[kind]:  # linked, never counted as created
            linked = by_id[(intercom_type, seeded_id)]
            assert not linked.created, (kind, linked)
    assert not any(e.created for e in outcomes if e.intercom_id in seeded.ids["articles"])
    (collection,) = seeded.ids["collections"]
    same_place = [
        a
        for a in migrated["articles"]
        if a["title"] == seeded.article and int(collection) in a["parent_ids"]
    ]
    assert len(same_place) == 2  # ours is created beside the customer's, never matched

    _rollback_leaves_exactly(settings, sim, before, seeded)


def _rollback_leaves_exactly(
    settings: Settings, sim: SimulatorHandle, before: dict, seeded: Seeded
) -> None:
    """`rollback --yes` exits 0 and the workspace is back to ``before``, ours archived."""
    done = run_cli(settings, "rollback", "--yes")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "rolled back" in done.stdout and "kept" not in done.stdout
    after = sim.dump()
    assert owned(after, seeded) == owned(before, seeded)  # still there, unchanged
    for kind in ("tags", "collections", "articles", "contacts"):
        assert {str(o["id"]) for o in after[kind]} == {str(o["id"]) for o in before[kind]}
    assert after["conversations"] == []
    live = [a for a in after["conversation_attributes"] if not a["archived"]]
    assert live == [a for a in before["conversation_attributes"] if not a["archived"]]


def test_the_customers_own_objects_survive_kills_of_workers(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    """Workers killed at random instants while creates are slow to answer (applied, then
    held 1.5 s: a kill there leaves a create that landed without its outcome) and some
    answers are lost: what existed is still untouched after the rollback."""
    settings = prepare(sim, small_source, ledger_url, tmp_path)
    # a killed worker's unsent create is looked up again 8 s + 5 s after its intent
    settings = settings.model_copy(update={"intercom_timeout": 8.0})
    seeded = seed_preexisting(sim, settings, small_source)
    before = sim.dump()
    sim.set_faults(rate_timeout=0.5, timeout_ms=1500, rate_lost_response=0.2, only=CREATES, seed=5)

    def writing() -> bool:
        return bool(sim.stats()["requests"].get("POST /contacts"))

    try:
        run = migrate_under_kills(
            settings, tmp_path / "logs", kills=5, seed=4, pause=(0.5, 1.5), start=writing
        )
    finally:
        sim.set_faults()
    assert run.kills >= 3 and run.error is None, run.error
    outcomes = _outcomes(ledger_url, settings.migration)
    lost = _lost_answers(ledger_url, settings.migration)
    by_kill = [
        e for e in outcomes if isinstance(e, WriteResolved) and e.found and e.intent_key not in lost
    ]
    assert by_kill, "no kill left a create without its outcome"
    assert not any(
        e.created for e in outcomes if any(e.intercom_id in ids for ids in seeded.ids.values())
    )
    _rollback_leaves_exactly(settings, sim, before, seeded)
