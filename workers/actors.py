"""Dramatiq actors. A message is ``(migration_id, key)``: never a payload.

Imported by the ``dramatiq`` worker command (``hesk2intercom worker`` runs it); the broker
is built once, here, from the settings (H2I_MIGRATION names the queues' namespace).
"""

from __future__ import annotations

import os

import dramatiq

from core.logs import configure_logging, get_logger
from core.settings import load_settings
from workers.broker import QUEUE, make_broker
from workers.resources import Resources, service_outage
from workers.units import DependencyPending, UnitBusy, process_unit
from workers.watchdog import follow_coordinator

settings = load_settings()
follow_coordinator()
broker = make_broker(settings)
dramatiq.set_broker(broker)
log = get_logger(__name__)
_resources: Resources | None = None


def worker_threads() -> int:
    """Threads per worker process (set by the worker command; Dramatiq's default is 8)."""
    return int(os.environ.get("H2I_WORKER_THREADS", "8"))


def resources() -> Resources:
    """This process's resources, opened on first use."""
    global _resources
    if _resources is None:
        configure_logging()
        _resources = Resources.from_settings(settings, threads=worker_threads(), pre_ping=False)
    return _resources


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
    res = resources()
    if migration_id != res.ledger.migration_id:
        log.error("unit.wrong_migration", got=migration_id, serving=res.ledger.migration_id)
        return
    result = process_unit(res, key)
    log.debug("unit.done", key=key, result=result)
