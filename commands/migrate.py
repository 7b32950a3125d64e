"""The ``migrate`` command: capture, then dispatch units phase by phase and show progress.

The coordinator (commands/coordinator.py) sends the units and follows them; local worker
processes come from commands/worker_pool.py; the progress display from commands/progress.py.
Resuming is the same command: what is settled is not sent again.
"""

from __future__ import annotations

import time
from typing import Any

from commands.apps import check_apps
from commands.coordinator import Coordinator, MigrationPending
from commands.map import check_target
from commands.options import MigrateOptions
from commands.progress import MigrateProgress
from commands.rollback import begin_generation
from commands.worker_pool import WorkerPool
from commands.workspace import client_for
from core.errors import ConfigError
from core.settings import Settings
from engine.capture import capture_source
from engine.resources import Resources
from hesk.open import open_source
from ledger.events import RunStarted, TargetChosen
from mapping.ticket_target import target_of
from workers.broker import make_broker, unit_sender


def require_map(res: Resources) -> dict[str, Any]:
    """The confirmed map, or the exit-2 error saying how to get one (or that its target is
    not the one this migration writes to)."""
    confirmed = res.confirmed_map()
    if confirmed is None:
        raise ConfigError(
            "no confirmed field map for this migration: nothing may move before one",
            hint="run `hesk2intercom map propose --out map.yaml`, review it, then "
            "`hesk2intercom map confirm --file map.yaml`",
        )
    check_target(res.ledger, confirmed)
    return confirmed


def run_number(res: Resources) -> int:
    """The number of the next run of this migration (deterministic, from the ledger)."""
    return res.ledger.count(types=[RunStarted.TYPE]) + 1


def check_intercom(settings: Settings) -> None:
    """Fail in one line, before anything is captured or sent, if Intercom refuses a token
    or cannot be reached, or the tokens reach different workspaces."""
    if len(settings.tokens) > 1:
        check_apps(settings)
        return
    with client_for(settings) as client:
        client.me()


def record_run(res: Resources, run: str, options: MigrateOptions) -> None:
    """Record that a run started, with its options (and, on the first, the map's target)."""
    res.ledger.append_one(
        TargetChosen(object="target", source_id="target", target=target_of(res.confirmed_map()))
    )
    res.ledger.append_one(
        RunStarted(
            object="run",
            source_id=run,
            run=run,
            kind="migrate",
            options={"sample": options.sample, "only": options.only, "workers": options.workers},
        )
    )


def run_migration(settings: Settings, options: MigrateOptions, console: Any) -> dict[str, Any]:
    """The whole ``migrate`` command: capture, dispatch phase by phase, show progress."""
    settings.tokens  # noqa: B018 (a malformed token list fails here, before anything else)
    res = Resources.from_settings(settings)
    the_map = require_map(res)
    check_intercom(settings)
    begin_generation(res)  # refuses during an unfinished rollback; restores attributes
    send = unit_sender(make_broker(settings), res.ledger.migration_id)

    run = f"run-{run_number(res)}"
    record_run(res, run, options)
    pool = WorkerPool(settings, options.workers, options.threads, options.log_dir)
    started = time.monotonic()
    try:
        with MigrateProgress(console) as display:
            with open_source(settings) as reader:
                stats = capture_source(
                    res.ledger,
                    reader,
                    run,
                    the_map=the_map,
                    sample=options.sample,
                    on_batch=display.on_batch,
                )
            display.captured(stats)
            if options.workers:
                pool.start()
            coordinator = Coordinator(res, options, send)
            for _name, objects in coordinator.phases():
                coordinator.run_phase(objects, display.on_progress)
    except KeyboardInterrupt:
        raise MigrationPending(
            "interrupted: work is left pending",
            hint="run `hesk2intercom migrate` again to resume where it stopped",
        ) from None
    finally:
        pool.stop()
        res.close()
    return {
        "run": run,
        "captured": stats.read,
        "new": stats.new,
        "seconds": round(time.monotonic() - started, 1),
    }
