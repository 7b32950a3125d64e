"""Dramatiq actors. A message is ``(migration_id, key)``: never a payload.

Imported by the ``dramatiq`` worker command (``hesk2intercom worker`` runs it); the broker
is built once, here, from the settings (H2I_MIGRATION names the queues' namespace).
"""

from __future__ import annotations

import os
import threading
import time

import dramatiq

from core.logs import configure_logging, get_logger
from core.settings import load_settings
from engine.resources import Resources, service_outage
from engine.units import DependencyPending, UnitBusy, process_unit_patiently
from ledger.generations import active_ledger_id
from workers.broker import QUEUE, make_broker
from workers.watchdog import follow_coordinator

settings = load_settings()
follow_coordinator()
broker = make_broker(settings)
dramatiq.set_broker(broker)
log = get_logger(__name__)
_resources: Resources | None = None
_opening = threading.Lock()


def worker_threads() -> int:
    """Threads per worker process (set by the worker command; Dramatiq's default is 8)."""
    return int(os.environ.get("H2I_WORKER_THREADS", "8"))


def resources() -> Resources:
    """This process's resources, opened on first use (once, whichever thread asks first)."""
    global _resources
    if _resources is None:
        with _opening:
            if _resources is None:
                configure_logging()
                _resources = Resources.from_settings(
                    settings, threads=worker_threads(), pre_ping=False
                )
    return _resources


#: How long a worker trusts its reading of the migration's active generation.
ACTIVE_GENERATION_TTL = 1.0
_active: tuple[float, str] | None = None
_generations: dict[str, Resources] = {}
_generations_lock = threading.Lock()


def resources_for(ledger_id: str) -> Resources | None:
    """This process's resources for ``ledger_id`` while it is the migration's active
    generation; None for a generation a completed rollback closed.

    Workers outlive rollbacks: a message of the new generation (``M@gen2``) is served
    without a restart, and a stale message of the rolled-back one writes nothing.
    """
    global _active
    base = resources()
    with _generations_lock:
        now = time.monotonic()
        if _active is None or now - _active[0] > ACTIVE_GENERATION_TTL:
            _active = (now, active_ledger_id(base.engine, settings.migration))
        if ledger_id != _active[1]:
            return None
        found = _generations.get(ledger_id)
        if found is None:
            found = _generations[ledger_id] = base.for_ledger(ledger_id)
        return found


def is_transient(exc: BaseException) -> bool:
    """Whether a failed unit may succeed later (then its message is retried with backoff)."""
    if isinstance(exc, DependencyPending | UnitBusy) or service_outage(exc):
        return True  # waiting on another unit, or Postgres/Redis is busy or restarting
    return bool(getattr(exc, "transient", False))


@dramatiq.actor(
    queue_name=QUEUE,
    min_backoff=500,
    max_backoff=15_000,
    retry_when=lambda retries, exc: retries < 40 and is_transient(exc),
)
def write_unit(migration_id: str, key: str) -> None:
    """Write the unit whose capture key is ``key`` to Intercom, exactly once."""
    res = resources_for(migration_id)
    if res is None:
        log.warning(
            "unit.stale_generation",
            got=migration_id,
            key=key,
            hint="a rollback closed this generation; nothing is written",
        )
        return
    result = process_unit_patiently(res, key)
    log.debug("unit.done", key=key, result=result)
