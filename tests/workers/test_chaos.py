"""Nothing lost, nothing twice: faults and kill -9 end in the same workspace as a clean run."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from ledger.database import open_engine
from reports.report import build_report
from simulator.testing import SimulatorHandle
from tests.workers.conftest import HeskSource, migrate, prepare
from tests.workers.harness import migrate_under_kills
from tests.workers.normalise import duplicates, normalise


def test_lost_responses_5xx_and_429_change_nothing_in_the_end(
    baseline: dict, simulator: SimulatorHandle, chaos_source: HeskSource, ledger_url: str,
    tmp_path: Path,
) -> None:
    settings = prepare(simulator, chaos_source, ledger_url, tmp_path)
    simulator.set_faults(rate_lost_response=0.05, rate_5xx=0.02, rate_429=0.02, seed=5)
    try:
        migrate(settings, tmp_path, workers=2, threads=4)
    finally:
        stats = simulator.stats()
        simulator.set_faults()
    assert sum(stats["faults_injected"].values()) > 10, stats  # the faults really happened
    dump = simulator.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    report = build_report(open_engine(ledger_url), settings.migration)
    assert report["objects"] == baseline["objects"]


def test_kill_9_of_workers_at_random_instants_then_finish(
    baseline: dict, simulator: SimulatorHandle, chaos_source: HeskSource, ledger_url: str,
    tmp_path: Path,
) -> None:
    settings = prepare(simulator, chaos_source, ledger_url, tmp_path)
    # the coordinator runs here with no workers of its own; ours get killed under it
    run = migrate_under_kills(settings, tmp_path / "logs", kills=6, seed=9)
    assert run.kills >= 3, "the migration finished before the workers could be killed"
    assert run.error is None, run.error
    dump = simulator.dump()
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
    baseline: dict, simulator: SimulatorHandle, chaos_source: HeskSource, ledger_url: str,
    tmp_path: Path,
) -> None:
    """The coordinator dies with its workers mid-run; its workers notice and stop; the
    same command run again finishes the job, exactly once."""
    from tests.workers.test_migrate_cli import BIN, env_of

    settings = prepare(simulator, chaos_source, ledger_url, tmp_path)
    env = {**os.environ, **env_of(settings)}
    first = subprocess.Popen(
        [str(BIN), "migrate", "--workers", "2", "--threads", "4"], env=env, cwd=tmp_path,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(simulator.dump()["conversations"]) < 5:
        time.sleep(0.2)
    assert first.poll() is None, "the migration ended before it could be killed"
    first.kill()  # SIGKILL to the coordinator alone: its workers must notice by themselves
    first.wait(10)
    assert _workers_of(first.pid), "the coordinator had started no worker to orphan"
    deadline = time.monotonic() + 30  # the watchdog polls every second, then a graceful stop
    while _workers_of(first.pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers_of(first.pid) == []
    again = subprocess.run(
        [str(BIN), "migrate", "--workers", "2", "--threads", "4"], env=env, cwd=tmp_path,
        capture_output=True, text=True, timeout=300,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    dump = simulator.dump()
    assert duplicates(dump) == {}
    assert normalise(dump) == baseline["normal"]
    report = build_report(open_engine(ledger_url), settings.migration)
    assert report["objects"] == baseline["objects"]
