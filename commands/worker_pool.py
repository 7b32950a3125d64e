"""How units are run: N local ``dramatiq`` worker processes, or here, in this process."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from commands.options import MigrateOptions
from core.settings import Settings
from engine.resources import Resources
from engine.units import DependencyPending, UnitBusy, process_unit
from workers.broker import PREFETCH_PER_THREAD, QUEUE, make_broker, redis_client, unit_sender

#: Longest wait of an idle worker between two looks at its queue.
IDLE_POLL_MS = 25


class WorkerPool:
    """N local ``dramatiq`` worker processes for this migration (the demo and --workers)."""

    def __init__(self, settings: Settings, processes: int, threads: int, log_dir: Path):
        self.settings = settings
        self.processes = processes
        self.threads = threads
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        """Start the worker processes (their output goes to log files)."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        for n in range(self.processes):
            log_file = (self.log_dir / f"worker-{n + 1}.log").open("ab")
            self.procs.append(
                subprocess.Popen(
                    worker_command(1, self.threads),
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    env={
                        **worker_env(self.settings, self.threads),
                        "H2I_COORDINATOR_PID": str(os.getpid()),
                    },
                    start_new_session=True,
                )
            )

    def stop(self) -> None:
        """Stop the workers gracefully (they finish their current step first)."""
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + 30
        for p in self.procs:
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
        self.procs.clear()


def worker_command(processes: int, threads: int) -> list[str]:
    """The command that runs Dramatiq workers on this project's actors."""
    return [
        sys.executable,
        "-m",
        "dramatiq",
        "workers.actors",
        "--processes",
        str(processes),
        "--threads",
        str(threads),
        "--queues",
        QUEUE,
    ]


def worker_env(settings: Settings, threads: int = 8) -> dict[str, str]:
    """The environment for worker processes: ours, with the settings in force made explicit
    (and the thread count, which sizes each process's ledger connection pool)."""
    env = dict(os.environ)
    env["H2I_WORKER_THREADS"] = str(threads)
    # An idle worker asks Redis for messages at least every IDLE_POLL_MS (Dramatiq's
    # default backs off to 1 s, which every phase of a migration would wait for).
    env.setdefault("dramatiq_worker_timeout", str(IDLE_POLL_MS))
    # See workers/broker.BatchFetchingConsumer: it fetches a thread's share at a time.
    env.setdefault("dramatiq_queue_prefetch", str(PREFETCH_PER_THREAD * threads))
    env["H2I_MIGRATION"] = settings.migration
    env["H2I_LEDGER_URL"] = settings.ledger_url
    env["H2I_REDIS_URL"] = settings.redis_url
    if settings.intercom_base_url:
        env["H2I_INTERCOM_BASE_URL"] = settings.intercom_base_url
    if settings.hesk_attachments_dir:
        env["H2I_HESK_ATTACHMENTS_DIR"] = str(settings.hesk_attachments_dir)
    token = settings.token_value()
    if token:
        env["H2I_INTERCOM_TOKEN"] = token  # every token of the list
    env["H2I_INTERCOM_WORKSPACE_RATE"] = str(settings.intercom_workspace_rate)
    env["H2I_INTERCOM_TIMEOUT"] = str(settings.intercom_timeout)
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def in_process_sender(res: Resources) -> Callable[[Sequence[str]], None]:
    """Run each unit here, now (tests and small deltas); the coordinator resends stalls."""

    def send(keys: Sequence[str]) -> None:
        for key in keys:
            with contextlib.suppress(DependencyPending, UnitBusy):
                process_unit(res, key)

    return send


@contextlib.contextmanager
def unit_runner(
    res: Resources, options: MigrateOptions
) -> Iterator[Callable[[Sequence[str]], None]]:
    """How units are run: here, in this process (``workers=0``), or by N worker processes."""
    if not options.workers:
        yield in_process_sender(res)
        return
    send = unit_sender(make_broker(res.settings), res.ledger.migration_id)
    pool = WorkerPool(res.settings, options.workers, options.threads, options.log_dir)
    pool.start()
    try:
        yield send
    finally:
        pool.stop()


def exec_workers(settings: Settings, processes: int, threads: int) -> None:
    """Replace this process with Dramatiq workers (``hesk2intercom worker``)."""
    redis_client(settings)  # fail early, in one line, if Redis is not there
    os.execvpe(sys.executable, worker_command(processes, threads), worker_env(settings, threads))
