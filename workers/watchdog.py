"""Workers started by ``migrate --workers N`` stop when their coordinator is gone.

A coordinator killed outright (kill -9, a closed SSH session) cannot stop its workers, so
each worker process watches the coordinator's pid (``H2I_COORDINATOR_PID``, set only by the
coordinator's worker pool) and, once it is gone, asks its own process group — the Dramatiq
main process and its workers, started in a session of their own — to shut down gracefully.
Workers started by hand (``hesk2intercom worker``) have no coordinator and run until stopped.
"""

from __future__ import annotations

import os
import signal
import threading
import time

from core.logs import get_logger

log = get_logger(__name__)
ENV = "H2I_COORDINATOR_PID"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(pid: int, every: float) -> None:
    while _alive(pid):
        time.sleep(every)
    log.warning("worker.coordinator_gone", coordinator=pid)
    os.killpg(os.getpgrp(), signal.SIGTERM)


def follow_coordinator(every: float = 1.0) -> bool:
    """Start watching the coordinator named in the environment; False when there is none."""
    value = os.environ.get(ENV, "")
    if not value.isdigit():
        return False
    thread = threading.Thread(target=_watch, args=(int(value), every), daemon=True)
    thread.start()
    return True
