"""Nothing lost, nothing twice: faults and kill -9 end in the same workspace as a clean run,
for both targets (conversations; tickets on a smaller help desk)."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from ledger.database import open_engine
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.helpers.harness import migrate_under_kills
from tests.helpers.hesk import HeskSource
from tests.helpers.migration import migrate, prepare
from tests.helpers.normalise import duplicates, normalise

#: The client timeout of the kill runs (seconds): a killed run's unsent write is looked up
#: again this long + 5 s after its intent.
KILL_TIMEOUT = 8.0


@dataclass(frozen=True)
class Case:
    """One target's help desk and the workspace its clean run left."""

    target: str
    source: HeskSource
    baseline: dict

    @property
    def written(self) -> str:
        """The dump's list of the objects tickets become."""
        return "tickets" if self.target == "tickets" else "conversations"


@pytest.fixture(params=["conversations", "tickets"])
def case(request: pytest.FixtureRequest) -> Case:
    if request.param == "tickets":
        return Case(
            "tickets",
            request.getfixturevalue("ticket_chaos_source"),
            request.getfixturevalue("ticket_baseline"),
        )
    return Case(
        "conversations",
        request.getfixturevalue("chaos_source"),
        request.getfixturevalue("baseline"),
    )


def test_lost_responses_5xx_and_429_change_nothing_in_the_end(
    case: Case,
    sim: SimulatorHandle,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    baseline = case.baseline
    settings = prepare(sim, case.source, ledger_url, tmp_path, case.target)
    sim.set_faults(rate_lost_response=0.05, rate_5xx=0.02, rate_429=0.02, seed=5)
    try:
        migrate(settings, tmp_path, workers=2, threads=4)
    finally:
        stats = sim.stats()
        sim.set_faults()
    floor = 10 if case.target == "conversations" else 4  # fewer calls, as many faults per call
    assert sum(stats["faults_injected"].values()) > floor, stats  # the faults really happened
    assert stats["notifications_sent"] == 0
    dump = sim.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    report = build_report(open_engine(ledger_url), settings.migration)
    assert report["objects"] == baseline["objects"]


def test_kill_9_of_workers_at_random_instants_then_finish(
    case: Case,
    sim: SimulatorHandle,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    baseline = case.baseline
    settings = prepare(sim, case.source, ledger_url, tmp_path, case.target)
    # a killed worker's unsent write is looked up again after this timeout + 5 s
    settings = settings.model_copy(update={"intercom_timeout": KILL_TIMEOUT})

    def writing() -> bool:
        return any(call.startswith("POST ") for call in sim.stats()["requests"])

    # the coordinator runs here with no workers of its own; ours get killed under it, from
    # its first write on. Each answer is held 100 ms: a small help desk would otherwise be
    # written in about a second, and more kills land between an intent and its outcome.
    sim.set_faults(latency_ms=100)
    try:
        run = migrate_under_kills(
            settings, tmp_path / "logs", kills=6, seed=9, pause=(0.5, 1.5), start=writing
        )
    finally:
        sim.set_faults()
    assert run.kills >= 3, "the migration finished before the workers could be killed"
    assert run.error is None, run.error
    dump = sim.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    report = build_report(open_engine(ledger_url), settings.migration)
    assert report["objects"] == baseline["objects"]


def _workers_of(coordinator: int) -> list[int]:
    """Pids of live processes started by this coordinator (by their environment)."""
    mark = f"H2I_COORDINATOR_PID={coordinator}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().split(")")[-1].split()[0]
        except OSError:
            continue
        if mark in environ.split(b"\0") and state != "Z":
            found.append(int(entry.name))
    return found


def test_kill_9_of_the_migrate_command_then_run_it_again(
    case: Case,
    sim: SimulatorHandle,
    ledger_url: str,
    tmp_path: Path,
) -> None:
    """The coordinator dies with its workers mid-run; its workers notice and stop; the
    same command run again finishes the job, exactly once."""
    from tests.helpers.cli import BIN, env_of

    baseline = case.baseline
    settings = prepare(sim, case.source, ledger_url, tmp_path, case.target)
    env = {
        **os.environ,
        **env_of(settings),
        "H2I_INTERCOM_TIMEOUT": str(KILL_TIMEOUT),
        "H2I_STALL_SECONDS": "4",
    }
    sim.set_faults(latency_ms=100)  # a small help desk is otherwise written in a second
    try:
        first = subprocess.Popen(
            [str(BIN), "migrate", "--workers", "2", "--threads", "4"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(sim.dump()[case.written]) < 5:
            time.sleep(0.2)
        assert first.poll() is None, "the migration ended before it could be killed"
        first.kill()  # SIGKILL to the coordinator alone: its workers must notice by themselves
        first.wait(10)
    finally:
        sim.set_faults()
    assert _workers_of(first.pid), "the coordinator had started no worker to orphan"
    deadline = time.monotonic() + 30  # the watchdog polls every second, then a graceful stop
    while _workers_of(first.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers_of(first.pid) == []
    again = subprocess.run(
        [str(BIN), "migrate", "--workers", "2", "--threads", "4"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    dump = sim.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    report = build_report(open_engine(ledger_url), settings.migration)
    assert report["objects"] == baseline["objects"]
