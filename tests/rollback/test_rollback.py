"""Rollback against the simulator over HTTP: exactly what this migration created goes."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from rich.console import Console

from commands.rollback import (
    RollbackPending,
    RollbackSummary,
    UnknownMigration,
    begin_generation,
    plan_rollback,
    render_rollback,
    run_rollback,
)
from commands.status import status_summary
from commands.worker_pool import worker_env
from core.settings import Settings
from engine.resources import Resources
from ledger.database import open_engine
from ledger.events import RollbackDeleted, WriteResolved, WriteSucceeded
from ledger.generations import active_generation
from ledger.store import Ledger
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import normalise
from tests.helpers.preexisting import cli_env

ROOT = Path(__file__).resolve().parents[2]


def _created(ledger: Ledger) -> dict[str, str]:
    """intent key -> Intercom type of every object the ledger proves this run created."""
    out = {}
    for rec in ledger.read(types=[WriteSucceeded.TYPE, WriteResolved.TYPE]):
        e = rec.event
        assert isinstance(e, WriteSucceeded | WriteResolved)
        if (
            getattr(e, "created", False)
            and e.intercom_type
            and (isinstance(e, WriteSucceeded) or e.found)
        ):
            out[e.intent_key] = e.intercom_type
    return out


def _preexisting(dump: dict) -> dict[str, set[str]]:
    return {
        "admins": {str(a["id"]) for a in dump["admins"]},
        "teams": {str(t["id"]) for t in dump["teams"]},
        "contacts": {str(c["id"]) for c in dump["contacts"]},
    }


def _rollback(settings: Settings) -> RollbackSummary:
    res = Resources.from_settings(settings)
    try:
        return run_rollback(res)
    finally:
        res.close()


@pytest.fixture
def migrated(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> dict:
    """A completed migration of the small help desk, with the workspace before it."""
    settings = prepare(sim, small_source, ledger_url, tmp_path)
    before = sim.dump()
    migrate(settings, tmp_path, workers=1, threads=4)
    return {"settings": settings, "before": before, "after": sim.dump(), "tmp": tmp_path}


def test_dry_run_plans_only_created_objects_and_changes_nothing(
    migrated: dict, sim: SimulatorHandle
) -> None:
    settings = migrated["settings"]
    res = Resources.from_settings(settings)
    try:
        plan = plan_rollback(res)
        out = io.StringIO()
        render_rollback(plan, Console(file=out, width=120), planned=True)
    finally:
        res.close()
    created = _created(Ledger(res.engine, settings.migration))
    assert sum(plan.to_delete.values()) == len(created)
    assert plan.to_delete["conversation"] == len(migrated["after"]["conversations"])
    # the seeded contact was matched (409), not created: not in the plan
    contacts_made = len(migrated["after"]["contacts"]) - len(migrated["before"]["contacts"])
    assert plan.to_delete["contact"] == contacts_made
    assert "deleted" in out.getvalue() and "conversation" in out.getvalue()
    assert normalise(sim.dump()) == normalise(migrated["after"])


def test_rollback_removes_what_it_created_and_migrate_starts_again(
    migrated: dict, sim: SimulatorHandle, ledger_url: str
) -> None:
    settings, before, after = migrated["settings"], migrated["before"], migrated["after"]
    result = _rollback(settings)
    assert result.completed
    dump = sim.dump()
    assert _preexisting(dump) == _preexisting(before)  # seeded admins, teams, contact kept
    assert dump["conversations"] == [] and dump["articles"] == []
    assert dump["collections"] == [] and dump["tags"] == before["tags"]
    attrs = {a["name"]: a["archived"] for a in dump["conversation_attributes"]}
    assert attrs and all(attrs.values())  # archived: the API cannot delete them
    engine = open_engine(ledger_url)
    first = Ledger(engine, settings.migration)
    deletions = [r.event for r in first.read(types=[RollbackDeleted.TYPE])]
    assert len(deletions) == len(_created(first))
    assert len({d.intent_key for d in deletions}) == len(deletions)  # type: ignore[attr-defined]  # Ledger.read yields Event: these are of the types asked for
    summary = status_summary(settings)
    assert summary["rolled_back"] is not None
    assert "rolled back" in summary["rolled_back"]["line"]
    # a second rollback has nothing to do
    again = _rollback(settings)
    assert again.already_rolled_back
    # a new migrate starts cleanly and ends in the same workspace as the first one
    migrate(settings, migrated["tmp"], workers=1, threads=4)
    assert active_generation(engine, settings.migration).number == 2
    redo = sim.dump()
    assert normalise(redo) == normalise(after)
    assert _preexisting(redo)["admins"] == _preexisting(before)["admins"]
    assert all(not a["archived"] for a in redo["conversation_attributes"])
    assert status_summary(settings)["rolled_back"] is None
    engine.dispose()


def test_a_worker_started_by_hand_outlives_the_rollback(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    """One `hesk2intercom worker`, started once, migrates, outlives the rollback and
    migrates the next generation without a restart."""
    settings = prepare(sim, small_source, ledger_url, tmp_path)
    log = (tmp_path / "hand-worker.log").open("wb")
    worker = subprocess.Popen(
        [str(Path(sys.executable).with_name("hesk2intercom")), "worker", "--threads", "4"],
        env=worker_env(settings, 4),
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        migrate(settings, tmp_path, workers=0)  # no workers of its own: the hand-started one
        after = sim.dump()
        assert _rollback(settings).completed
        migrate(settings, tmp_path, workers=0)
        engine = open_engine(ledger_url)
        try:
            assert active_generation(engine, settings.migration).number == 2
        finally:
            engine.dispose()
        assert normalise(sim.dump()) == normalise(after)
        assert worker.poll() is None  # the same process all along
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        try:
            worker.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(5)
        log.close()


def test_unknown_migration_is_one_clear_error(
    sim: SimulatorHandle, small_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    from tests.helpers.migration import e2e_settings

    settings = e2e_settings(sim, small_source, ledger_url)
    res = Resources.from_settings(settings)
    try:
        with pytest.raises(UnknownMigration) as err:
            plan_rollback(res)
    finally:
        res.close()
    assert err.value.exit_code == 2
    assert settings.migration in err.value.message


def _deletions(ledger: Ledger) -> int:
    return ledger.count(types=[RollbackDeleted.TYPE])


def test_kill_9_during_rollback_then_resume(
    migrated: dict, sim: SimulatorHandle, ledger_url: str
) -> None:
    settings, before = migrated["settings"], migrated["before"]
    engine = open_engine(ledger_url)
    ledger = Ledger(engine, settings.migration)
    created = _created(ledger)
    sim.set_faults(latency_ms=30)  # slow enough to be killed mid-way
    try:
        cmd = [sys.executable, "-m", "cli", "rollback", "--yes", "--threads", "2"]
        proc = subprocess.Popen(
            cmd,
            env=cli_env(settings),
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while _deletions(ledger) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        sim.set_faults(latency_ms=0)
    partial = _deletions(ledger)
    assert 0 < partial < len(created)
    # migrate refuses to write into a half-deleted migration
    res = Resources.from_settings(settings)
    try:
        with pytest.raises(RollbackPending):
            begin_generation(res)
    finally:
        res.close()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "rollback", "--yes"],
        env=cli_env(settings),
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "rolled back" in done.stdout
    dump = sim.dump()
    assert dump["conversations"] == [] and dump["articles"] == [] and dump["collections"] == []
    assert _preexisting(dump) == _preexisting(before)
    deletions = [r.event for r in ledger.read(types=[RollbackDeleted.TYPE])]
    keys = [d.intent_key for d in deletions]  # type: ignore[attr-defined]  # Ledger.read yields Event: these are of the types asked for
    assert sorted(keys) == sorted(created)  # one deletion event per created object
    engine.dispose()
