"""Chaos harness shared by the kill -9 tests: a coordinator whose workers get killed.

``migrate_under_kills`` runs ``migrate`` in a thread with no workers of its own, while
Dramatiq worker processes started here are SIGKILLed at random instants and replaced.
"""

from __future__ import annotations

import contextlib
import io
import os
import random
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from commands.migrate import run_migration
from commands.options import MigrateOptions
from commands.worker_pool import worker_command, worker_env
from core.settings import Settings


def kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a process started in its own session, with its children."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(10)


@dataclass
class KilledRun:
    """How a migrate under kills went: kills made, and the summary or the error."""

    kills: int = 0
    summary: object = None
    error: BaseException | None = None
    logs: list[Path] = field(default_factory=list)


def migrate_under_kills(
    settings: Settings,
    logs: Path,
    *,
    kills: int = 6,
    seed: int = 9,
    pause: tuple[float, float] = (1.0, 3.0),
    timeout: float = 300,
    start: Callable[[], bool] | None = None,
) -> KilledRun:
    """Run migrate with two worker processes, killing one every ``pause`` seconds
    (once ``start()`` holds, when given: e.g. when the writes have begun)."""
    logs.mkdir(exist_ok=True)
    env = worker_env(settings)
    result = KilledRun()

    def spawn(n: int) -> subprocess.Popen[bytes]:
        log = logs / f"w{n}.log"
        result.logs.append(log)
        return subprocess.Popen(
            worker_command(1, 4),
            env=env,
            start_new_session=True,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
        )

    def coordinate() -> None:
        try:
            result.summary = run_migration(
                settings,
                MigrateOptions(workers=0, stall_seconds=4, max_stalls=30, log_dir=logs),
                Console(file=io.StringIO()),
            )
        except BaseException as err:  # noqa: BLE001 - handed to the caller
            result.error = err

    coordinator = threading.Thread(target=coordinate)
    coordinator.start()
    rng = random.Random(seed)
    workers = [spawn(0), spawn(1)]
    try:
        deadline = time.monotonic() + timeout
        while start is not None and not start() and coordinator.is_alive():
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)
        while result.kills < kills and coordinator.is_alive():
            time.sleep(rng.uniform(*pause))
            victim = rng.randrange(len(workers))
            kill_group(workers[victim])
            result.kills += 1
            workers[victim] = spawn(result.kills + 1)
        coordinator.join(timeout=timeout)
    finally:
        for w in workers:
            kill_group(w)
    return result
