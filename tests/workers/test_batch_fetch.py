"""A worker fetches its messages a batch at a time (workers/broker.BatchFetchingConsumer),
and still receives every message once, promptly. Real Redis; no worker process needed: the
consumer is driven the way Dramatiq's consumer thread and worker threads drive it.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name

from core.settings import load_settings
from workers.actors import write_unit
from workers.broker import (
    DELAY_QUEUE_POLL_MS,
    QUEUE,
    BatchFetchingConsumer,
    make_broker,
    namespace,
    unit_sender,
)

THREADS = 8
PREFETCH = 3 * THREADS
#: How long a unit of the benchmark's tickets phase takes a thread (tens of milliseconds).
UNIT_SECONDS = 0.04


@pytest.fixture
def broker() -> Iterator[RedisBroker]:
    settings = load_settings(migration=f"batch-fetch-{uuid.uuid4().hex[:8]}")
    broker = make_broker(settings)
    yield broker
    client = redis.Redis.from_url(settings.redis_url)
    keys = list(client.scan_iter(f"{namespace(settings.migration)}:*"))
    if keys:
        client.delete(*keys)


class CountedFetches:
    """The broker's fetch, counted (it still runs Dramatiq's script on Redis)."""

    def __init__(self, broker: RedisBroker) -> None:
        self.asked: list[int] = []  # how many messages each call asked for
        self._fetch = broker.do_fetch

    def __call__(self, queue_name: str, count: int) -> list[bytes]:
        self.asked.append(count)
        return self._fetch(queue_name, count)


def drain(consumer: _RedisConsumer, total: int) -> list[str]:
    """Take ``total`` messages as a Dramatiq worker of THREADS threads does: one thread puts
    what the consumer gives on a work queue, THREADS threads take them, spend UNIT_SECONDS
    on each and acknowledge it."""
    work: queue.Queue[dramatiq.broker.MessageProxy | None] = queue.Queue()
    seen: list[str] = []
    lock = threading.Lock()

    def worker_thread() -> None:
        while (message := work.get()) is not None:
            time.sleep(UNIT_SECONDS)
            with lock:
                seen.append(message.args[1])
            consumer.ack(message)

    threads = [threading.Thread(target=worker_thread) for _ in range(THREADS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    received = 0
    while received < total and time.monotonic() < deadline:
        message = next(consumer)
        if message is not None:
            received += 1
            work.put(message)
    for _ in threads:
        work.put(None)
    for t in threads:
        t.join()
    assert received == total, f"only {received} of {total} messages arrived"
    return seen


def test_a_busy_worker_fetches_a_third_of_its_prefetch_at_a_time(broker: RedisBroker) -> None:
    send = unit_sender(broker, "m")
    keys = [f"src:contact:{i}:h" for i in range(240)]
    for key in keys:
        send(key)
    fetches = CountedFetches(broker)
    broker.do_fetch = fetches  # type: ignore[method-assign]  # counted, still the real fetch
    consumer = broker.consume(QUEUE, prefetch=PREFETCH, timeout=25)
    assert isinstance(consumer, BatchFetchingConsumer)

    assert sorted(drain(consumer, len(keys))) == sorted(keys)  # each once, none lost
    assert min(fetches.asked) >= PREFETCH // 3, fetches.asked  # never for one or two
    assert len(fetches.asked) <= len(keys) // (PREFETCH // 3) + 1
    assert next(consumer) is None  # nothing left behind


def test_an_ack_wakes_a_consumer_waiting_for_room(broker: RedisBroker) -> None:
    send = unit_sender(broker, "m")
    for i in range(PREFETCH + 10):
        send(f"src:contact:{i}:h")
    consumer = broker.consume(QUEUE, prefetch=PREFETCH, timeout=2_000)
    held = [next(consumer) for _ in range(PREFETCH)]
    assert all(m is not None for m in held)

    def ack_a_batch() -> None:
        time.sleep(0.2)
        for message in held[: PREFETCH // 3]:
            consumer.ack(message)

    threading.Thread(target=ack_a_batch).start()
    started = time.monotonic()
    assert next(consumer) is None  # woken by the acks, not by the 2 s timeout
    woken = time.monotonic() - started
    assert 0.15 < woken < 1.0
    assert next(consumer) is not None


def test_the_delay_queue_is_polled_less_often_than_retries_wait(broker: RedisBroker) -> None:
    delayed = broker.consume(dq_name(QUEUE), prefetch=PREFETCH, timeout=25)
    assert delayed.timeout == DELAY_QUEUE_POLL_MS
    assert broker.consume(QUEUE, prefetch=PREFETCH, timeout=25).timeout == 25
    assert write_unit.options["min_backoff"] > DELAY_QUEUE_POLL_MS
