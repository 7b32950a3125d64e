"""The ``migrate`` coordinator: capture, then dispatch units phase by phase and watch.

Phases follow the dependencies (attributes and links, contacts, KB collections, tickets,
articles, then leftovers such as orphan replies). A phase's pending units are sent to the
workers as ``(migration_id, key)`` messages; the coordinator follows the dispositions
projection until none is pending. A unit that stalls (its worker was killed, say) is sent
again: messages are harmless to repeat. Resuming is the same command: what is settled is
not sent again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError, H2IError
from core.logs import get_logger
from core.settings import Settings
from ledger.events import CaptureCompleted, RunStarted, SourceCaptured, confirmed_map_event
from ledger.keys import content_hash, source_key
from ledger.projections import ProjectionTable
from reports.projections import Dispositions
from workers.broker import QUEUE
from workers.capture import CaptureStats, capture_records, sample_records
from workers.resources import Resources, service_outage

log = get_logger(__name__)

PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("workspace", ("workspace", "custom_field", "category", "staff")),
    ("contacts", ("contact",)),
    ("collections", ("kb_category",)),
    ("tickets", ("ticket",)),
    ("articles", ("kb_article", "canned_response")),
    ("leftovers", ("reply", "note", "attachment", "history")),
)
WORKSPACE_UNIT = ("workspace", "attributes")
#: Records settled by another object's units, shown beside them while they run.
SHOWN_WITH: dict[str, tuple[str, ...]] = {"ticket": ("reply", "note", "attachment", "history")}


class MigrationPending(H2IError):
    """Work is left (interrupted, or no worker made progress); run migrate again."""

    exit_code = 4


@dataclass
class MigrateOptions:
    """What ``migrate`` was asked to do."""

    sample: int | None = None
    only: str | None = None
    workers: int = 2
    threads: int = 8
    stall_seconds: float = 20.0
    max_stalls: int = 6
    log_dir: Path = Path(".h2i/logs")


@dataclass
class PhaseProgress:
    """Counts per object for progress display: settled of total."""

    totals: dict[str, int] = field(default_factory=dict)
    settled: dict[str, int] = field(default_factory=dict)


def require_map(res: Resources) -> dict[str, Any]:
    """The confirmed map, or the exit-2 error saying how to get one."""
    confirmed = res.confirmed_map()
    if confirmed is None:
        raise ConfigError(
            "no confirmed field map for this migration: nothing may move before one",
            hint="run `hesk2intercom map propose --out map.yaml`, review it, then "
            "`hesk2intercom map confirm --file map.yaml`",
        )
    return confirmed


def run_number(res: Resources) -> int:
    """The number of the next run of this migration (deterministic, from the ledger)."""
    return res.ledger.count(types=[RunStarted.TYPE]) + 1


def capture(
    res: Resources, reader: Any, options: MigrateOptions, run: str,
    on_batch: Callable[[CaptureStats], None] | None = None,
) -> CaptureStats:
    """Capture the source (or a sample of it) into the ledger."""
    stats = capture_records(
        res.ledger, sample_records(reader, options.sample), run, on_batch=on_batch
    )
    map_event = confirmed_map_event(res.ledger)
    map_hash = map_event.map_hash if map_event else ""
    workspace = {"map_hash": map_hash}
    res.ledger.append(
        [
            SourceCaptured(
                object=WORKSPACE_UNIT[0], source_id=WORKSPACE_UNIT[1],
                content_hash=content_hash(workspace), record=workspace, capture=run,
            ),
            CaptureCompleted(
                object="capture", source_id=run, capture=run, kind="full",
                watermarks=capture_watermarks(reader), counts=stats.read,
            ),
        ]
    )
    return stats


def capture_watermarks(reader: Any) -> dict[str, Any]:
    """Where this capture ended, for the next delta (max ids and lastchange), and what
    kind of source it read and what that source cannot hold (for the report)."""
    marks: dict[str, Any] = {"source": getattr(reader, "kind", "database")}
    not_held = reader.not_held() if hasattr(reader, "not_held") else {}
    if not_held:
        marks["not_held"] = not_held
    try:
        marks["max_ids"] = reader.max_ids()
        watermark = reader.watermark()
        marks["lastchange"] = watermark.isoformat() if watermark else None
    except (AttributeError, H2IError):
        pass
    return marks


def pending_units(res: Resources, objects: tuple[str, ...]) -> list[str]:
    """Capture keys of every pending record of these objects (from the projection)."""
    sql = (
        "SELECT value->>'object', value->>'source_id', value->>'hash' FROM projection_rows "
        "WHERE projection = %(p)s AND migration_id = %(m)s AND value->>'state' = 'pending' "
        "AND value->>'object' = ANY(%(o)s) AND NOT (value ? 'deleted')"
    )
    with res.engine.connect() as conn:
        rows = conn.exec_driver_sql(
            sql, {"p": Dispositions.name, "m": res.ledger.migration_id, "o": list(objects)}
        )
        return [source_key(o, s, h) for o, s, h in rows]


def counts(res: Resources, objects: tuple[str, ...]) -> PhaseProgress:
    """Settled and total records per object, from the projection."""
    sql = (
        "SELECT value->>'object', count(*), "
        "count(*) FILTER (WHERE value->>'state' <> 'pending') FROM projection_rows "
        "WHERE projection = %(p)s AND migration_id = %(m)s AND value->>'object' = ANY(%(o)s) "
        "AND (value ? 'captured') GROUP BY 1"
    )
    progress = PhaseProgress()
    with res.engine.connect() as conn:
        for obj, total, settled in conn.exec_driver_sql(
            sql, {"p": Dispositions.name, "m": res.ledger.migration_id, "o": list(objects)}
        ):
            progress.totals[obj] = int(total)
            progress.settled[obj] = int(settled)
    return progress


class Coordinator:
    """Dispatches a migration's units to the workers and follows them to the end."""

    def __init__(self, res: Resources, options: MigrateOptions, send: Callable[[str], None]):
        self.res = res
        self.options = options
        self.send = send
        self.table = ProjectionTable(res.engine, res.ledger.migration_id, Dispositions())

    def phases(self) -> list[tuple[str, tuple[str, ...]]]:
        """The phases to run (all, or those of ``--only``; setup always comes first)."""
        if not self.options.only:
            return list(PHASES)
        wanted = self.options.only
        chosen = [PHASES[0]]
        chosen += [(n, o) for n, o in PHASES[1:] if wanted in o]
        if len(chosen) == 1 and wanted not in PHASES[0][1]:
            every = sorted({o for _, objs in PHASES for o in objs} - {"workspace"})
            raise ConfigError(
                f"--only {wanted}: unknown object", hint="use one of " + ", ".join(every)
            )
        return chosen

    def run_phase(
        self, objects: tuple[str, ...], on_progress: Callable[[PhaseProgress], None]
    ) -> int:
        """Send the phase's pending units and wait until none is pending; returns how many.

        PostgreSQL or Redis going away (restarted, say) does not end the phase: the
        coordinator waits for it to come back. Messages a restarted Redis lost are sent
        again by the stall rule, like those of a killed worker.
        """
        keys: list[str] | None = None
        last_settled = -1
        last_change = time.monotonic()
        stalls = 0
        away_since: float | None = None
        shown = objects + tuple(o for obj in objects for o in SHOWN_WITH.get(obj, ()))
        while True:
            try:
                if keys is None:
                    self.table.catch_up()
                    keys = pending_units(self.res, objects)
                    for key in keys:
                        self.send(key)
                self.table.catch_up()
                progress = counts(self.res, shown)
            except Exception as err:
                if not service_outage(err):
                    raise
                away_since = self._wait_for_services(err, away_since)
                continue
            if away_since is not None:
                log.info("phase.services_back", after_s=round(time.monotonic() - away_since, 1))
                away_since = None
            on_progress(progress)
            pending = sum(progress.totals.get(o, 0) - progress.settled.get(o, 0) for o in objects)
            if pending == 0:
                return len(keys)
            settled = sum(progress.settled.values())
            now = time.monotonic()
            if settled != last_settled:
                last_settled, last_change, stalls = settled, now, 0
            elif now - last_change > self.options.stall_seconds:
                stalls += 1
                if stalls > self.options.max_stalls:
                    raise MigrationPending(
                        f"{pending} records still pending and no worker made progress",
                        hint="start workers (`hesk2intercom worker`) or check their logs in "
                        f"{self.options.log_dir}, then run `hesk2intercom migrate` again",
                    )
                log.info("phase.stalled", pending=pending, resend=True)
                try:
                    for key in pending_units(self.res, objects):
                        self.send(key)
                except Exception as err:
                    if not service_outage(err):
                        raise
                    away_since = self._wait_for_services(err, away_since)
                    continue  # sent again once the stall rule fires after the outage
                last_change = now
            time.sleep(0.5)

    def _wait_for_services(self, err: BaseException, since: float | None) -> float:
        """Pause while PostgreSQL or Redis is unreachable; give up (exit 4) after as long
        as the stall rule would wait. Returns when the outage began."""
        now = time.monotonic()
        service = "Redis" if _is_redis_error(err) else "PostgreSQL (the ledger)"
        if since is None:
            log.warning("phase.service_unreachable", service=service, error=type(err).__name__)
            since = now
        patience = self.options.stall_seconds * (self.options.max_stalls + 1)
        if now - since > patience:
            raise MigrationPending(
                f"{service} has been unreachable for {now - since:.0f} s; work is left pending",
                hint=f"start {service.split(' ')[0]} (or fix its H2I_ URL), then run "
                "`hesk2intercom migrate` again to resume",
            ) from None
        time.sleep(1.0)
        return since


def _is_redis_error(err: BaseException) -> bool:
    import redis
    from dramatiq.errors import BrokerConnectionError

    return isinstance(err, redis.RedisError | BrokerConnectionError)


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
                    env={**worker_env(self.settings, self.threads),
                         "H2I_COORDINATOR_PID": str(os.getpid())},
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
        sys.executable, "-m", "dramatiq", "workers.actors",
        "--processes", str(processes), "--threads", str(threads), "--queues", QUEUE,
    ]


def worker_env(settings: Settings, threads: int = 8) -> dict[str, str]:
    """The environment for worker processes: ours, with the settings in force made explicit
    (and the thread count, which sizes each process's ledger connection pool)."""
    env = dict(os.environ)
    env["H2I_WORKER_THREADS"] = str(threads)
    env["H2I_MIGRATION"] = settings.migration
    env["H2I_LEDGER_URL"] = settings.ledger_url
    env["H2I_REDIS_URL"] = settings.redis_url
    if settings.intercom_base_url:
        env["H2I_INTERCOM_BASE_URL"] = settings.intercom_base_url
    if settings.hesk_attachments_dir:
        env["H2I_HESK_ATTACHMENTS_DIR"] = str(settings.hesk_attachments_dir)
    token = settings.token_value()
    if token:
        env["H2I_INTERCOM_TOKEN"] = token
    root = str(Path(__file__).resolve().parent.parent)
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def unit_sender(broker: Any, migration: str) -> Callable[[str], None]:
    """A function that sends one unit's message (migration, key) on this broker."""
    import dramatiq

    broker.declare_queue(QUEUE)

    def send(key: str) -> None:
        broker.enqueue(
            dramatiq.Message(
                queue_name=QUEUE, actor_name="write_unit", args=(migration, key),
                kwargs={}, options={},
            )
        )

    return send


def check_intercom(settings: Settings) -> None:
    """Fail in one line, before anything is captured or sent, if Intercom refuses the token
    or cannot be reached."""
    from workers.workspace import client_for

    with client_for(settings) as client:
        client.me()


def record_run(res: Resources, run: str, options: MigrateOptions) -> None:
    """Record that a run started, with its options."""
    res.ledger.append_one(
        RunStarted(
            object="run", source_id=run, run=run, kind="migrate",
            options={"sample": options.sample, "only": options.only, "workers": options.workers},
        )
    )


def run_migration(settings: Settings, options: MigrateOptions, console: Any) -> dict[str, Any]:
    """The whole ``migrate`` command: capture, dispatch phase by phase, show progress."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    from hesk.open import open_source
    from workers.broker import make_broker

    res = Resources.from_settings(settings)
    require_map(res)
    check_intercom(settings)
    from workers.rollback import begin_generation

    begin_generation(res)  # refuses during an unfinished rollback; restores attributes
    send = unit_sender(make_broker(settings), res.ledger.migration_id)

    run = f"run-{run_number(res)}"
    record_run(res, run, options)
    pool = WorkerPool(settings, options.workers, options.threads, options.log_dir)
    columns = (
        TextColumn("{task.description:<16}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8}/s"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    started = time.monotonic()
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            cap = progress.add_task("capture", total=None, rate="")
            with open_source(settings) as reader:
                t0 = time.monotonic()

                def on_batch(stats: CaptureStats) -> None:
                    n = sum(stats.read.values())
                    rate = n / max(time.monotonic() - t0, 1e-6)
                    progress.update(cap, completed=n, rate=f"{rate:,.0f}")

                stats = capture(res, reader, options, run, on_batch)
            total_read = sum(stats.read.values())
            progress.update(cap, total=total_read, completed=total_read)
            if options.workers:
                pool.start()
            coordinator = Coordinator(res, options, send)
            tasks: dict[str, Any] = {}
            rates: dict[str, tuple[float, int]] = {}

            def on_progress(p: PhaseProgress) -> None:
                now = time.monotonic()
                for obj, total in p.totals.items():
                    if obj not in tasks:
                        tasks[obj] = progress.add_task(obj, total=total, rate="")
                        rates[obj] = (now, p.settled.get(obj, 0))
                    t_start, n_start = rates[obj]
                    done = p.settled.get(obj, 0)
                    rate = (done - n_start) / max(now - t_start, 1e-6)
                    progress.update(tasks[obj], total=total, completed=done, rate=f"{rate:,.1f}")

            for _name, objects in coordinator.phases():
                coordinator.run_phase(objects, on_progress)
    except KeyboardInterrupt:
        raise MigrationPending(
            "interrupted: work is left pending",
            hint="run `hesk2intercom migrate` again to resume where it stopped",
        ) from None
    finally:
        pool.stop()
        res.close()
    return {"run": run, "captured": stats.read, "new": stats.new,
            "seconds": round(time.monotonic() - started, 1)}
