"""The shared pacer keeps every process together under Intercom's window, through Redis."""

from __future__ import annotations

import threading
import time
import uuid

import redis

from workers.pacing import HEADROOM, SharedPacer


def test_processes_sharing_redis_never_exceed_the_window_together() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    key = f"h2i-test-pace-{uuid.uuid4().hex[:8]}"
    limit = 40
    pacers = [SharedPacer(client, key, limit=limit) for _ in range(2)]  # two "processes"
    granted: list[float] = []
    lock = threading.Lock()
    stop = time.monotonic() + 3.0

    def caller(pacer: SharedPacer) -> None:
        while time.monotonic() < stop:
            pacer.acquire()
            if time.monotonic() >= stop:
                return
            with lock:
                granted.append(time.monotonic())

    threads = [threading.Thread(target=caller, args=(p,)) for p in pacers for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    budget = int(limit * HEADROOM)
    # well inside one 10 s window: the fleet gets (almost) its whole budget, never more
    assert len(granted) <= budget
    assert len(granted) >= budget - 2 * 8  # at most one unused lease per process


def test_learns_the_limit_from_intercoms_headers() -> None:
    client = redis.Redis.from_url("redis://127.0.0.1:6379/0")
    pacer = SharedPacer(client, f"h2i-test-pace-{uuid.uuid4().hex[:8]}")
    pacer.acquire()  # no limit known yet: never blocks
    pacer.observe(200, {"x-ratelimit-limit": "10", "x-ratelimit-remaining": "9"})
    started = time.monotonic()
    for _ in range(int(10 * HEADROOM)):
        pacer.acquire()
    assert time.monotonic() - started < 1.0


def test_a_redis_that_cannot_be_reached_never_fails_a_call() -> None:
    """Redis restarting: the process paces by Intercom's headers alone, then shares again."""
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from core.ports import free_port

    nowhere = redis.Redis(port=free_port(), socket_connect_timeout=1, retry=Retry(NoBackoff(), 0))
    pacer = SharedPacer(nowhere, f"h2i-test-pace-{uuid.uuid4().hex[:8]}", limit=100)
    started = time.monotonic()
    for _ in range(20):
        pacer.acquire()  # no exception: nothing is refused for want of the shared budget
    pacer.observe(
        200,
        {
            "x-ratelimit-limit": "100",
            "x-ratelimit-remaining": "0",
            "x-ratelimit-reset": str(int(time.time()) + 2),
        },
    )
    assert time.monotonic() - started < 1.0
    pacer.acquire()  # the window is spent: waits for its reset even without Redis
    assert time.monotonic() - started >= 1.0
