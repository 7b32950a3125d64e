"""The coordinator sends a phase's messages a batch per round trip, and a worker fetches
them a batch at a time (workers/broker.py); every message still arrives once, promptly.
Real Redis; no worker process needed: the consumer is driven the way Dramatiq's consumer
thread and worker threads drive it.
"""

from __future__ import annotations

import queue
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
import redis
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name

from core.settings import load_settings
from tests.helpers.private_services import private_redis
from workers.actors import write_unit
from workers.broker import (
    DELAY_QUEUE_POLL_MS,
    PREFETCH_PER_THREAD,
    QUEUE,
    SEND_BATCH,
    BatchFetchingConsumer,
    BatchingRedisBroker,
    make_broker,
    namespace,
    unit_sender,
)

THREADS = 8
PREFETCH = PREFETCH_PER_THREAD * THREADS
#: How long a unit of the benchmark's tickets phase takes a thread (tens of milliseconds).
UNIT_SECONDS = 0.04


@pytest.fixture
def broker() -> Iterator[BatchingRedisBroker]:
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
        broker.do_fetch = self  # type: ignore[method-assign]  # counted, still the real fetch

    def __call__(self, queue_name: str, count: int) -> list[bytes]:
        self.asked.append(count)
        return self._fetch(queue_name, count)


class CountedPipelines:
    """The broker's Redis pipelines, counted (still Redis's own)."""

    def __init__(self, broker: BatchingRedisBroker) -> None:
        self.opened = 0
        self._pipeline = broker.client.pipeline
        broker.client.pipeline = self  # type: ignore[method-assign]  # counted, still Redis's

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.opened += 1
        return self._pipeline(*args, **kwargs)


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


def test_a_busy_worker_fetches_and_acknowledges_a_third_of_its_prefetch_at_a_time(
    broker: BatchingRedisBroker,
) -> None:
    send = unit_sender(broker, "m")
    keys = [f"src:contact:{i}:h" for i in range(240)]
    send(keys)
    fetches = CountedFetches(broker)
    pipelines = CountedPipelines(broker)
    consumer = broker.consume(QUEUE, prefetch=PREFETCH, timeout=25)
    assert isinstance(consumer, BatchFetchingConsumer)

    assert sorted(drain(consumer, len(keys))) == sorted(keys)  # each once, none lost
    assert min(fetches.asked) >= THREADS, fetches.asked  # never for one or two
    assert len(fetches.asked) <= len(keys) // (THREADS) + 1
    assert pipelines.opened <= len(keys) // (THREADS) + 2  # acks, a batch per trip
    assert next(consumer) is None  # nothing left behind
    consumer.close()
    # Every message acknowledged on Redis: none left to deliver again.
    assert broker.client.hlen(f"{broker.namespace}:{QUEUE}.msgs") == 0
    assert broker.client.scard(f"{broker.namespace}:__acks__.{broker.broker_id}.{QUEUE}") == 0


def test_acknowledgements_reach_redis_within_the_worker_timeout(
    broker: BatchingRedisBroker,
) -> None:
    unit_sender(broker, "m")(["src:contact:1:h", "src:contact:2:h"])
    consumer = broker.consume(QUEUE, prefetch=PREFETCH, timeout=25)
    message = next(consumer)
    assert message is not None
    consumer.ack(message)  # a worker thread's; the consumer's thread tells Redis
    acks = f"{broker.namespace}:__acks__.{broker.broker_id}.{QUEUE}"
    assert broker.client.scard(acks) == 2  # both fetched, neither acknowledged on Redis yet
    started = time.monotonic()
    while broker.client.scard(acks) != 1:
        next(consumer)
        assert time.monotonic() - started < 0.5
    assert broker.client.hlen(f"{broker.namespace}:{QUEUE}.msgs") == 1


def test_an_ack_wakes_a_consumer_waiting_for_room(broker: BatchingRedisBroker) -> None:
    send = unit_sender(broker, "m")
    send([f"src:contact:{i}:h" for i in range(PREFETCH + 10)])
    consumer = broker.consume(QUEUE, prefetch=PREFETCH, timeout=2_000)
    held = [next(consumer) for _ in range(PREFETCH)]
    assert all(m is not None for m in held)

    def ack_a_batch() -> None:
        time.sleep(0.2)
        for message in held[:THREADS]:
            consumer.ack(message)

    threading.Thread(target=ack_a_batch).start()
    started = time.monotonic()
    assert next(consumer) is None  # woken by the acks, not by the 2 s timeout
    woken = time.monotonic() - started
    assert 0.15 < woken < 1.0
    assert next(consumer) is not None


def test_the_delay_queue_is_polled_less_often_than_retries_wait(
    broker: BatchingRedisBroker,
) -> None:
    delayed = broker.consume(dq_name(QUEUE), prefetch=PREFETCH, timeout=25)
    assert delayed.timeout == DELAY_QUEUE_POLL_MS
    assert broker.consume(QUEUE, prefetch=PREFETCH, timeout=25).timeout == 25
    assert write_unit.options["min_backoff"] > DELAY_QUEUE_POLL_MS


def test_a_phase_is_sent_a_batch_per_round_trip(broker: BatchingRedisBroker) -> None:
    pipelines = CountedPipelines(broker)
    keys = [f"src:ticket:{i}:h" for i in range(2 * SEND_BATCH + 200)]
    unit_sender(broker, "m@gen2")(keys)
    assert pipelines.opened == 3
    assert broker.do_qsize(QUEUE) == len(keys)

    consumer = broker.consume(QUEUE, prefetch=len(keys), timeout=25)
    got = [m for m in (next(consumer) for _ in range(len(keys))) if m is not None]
    assert sorted(m.args[1] for m in got) == sorted(keys)  # each once, in full
    assert {m.args[0] for m in got} == {"m@gen2"}
    assert {m.actor_name for m in got} == {"write_unit"}
    assert len({m.options["redis_message_id"] for m in got}) == len(keys)


def test_batches_go_by_digest_and_survive_a_redis_that_lost_its_scripts() -> None:
    """No ``SCRIPT EXISTS`` round trip before each batch; a Redis without the script
    (restarted: a private one here, its script cache flushed) still gets every message
    and every acknowledgement once."""
    with private_redis() as rd:
        settings = load_settings(redis_url=rd.url, migration=f"batch-digest-{uuid.uuid4().hex[:8]}")
        broker = make_broker(settings)
        client = redis.Redis.from_url(rd.url)
        send = unit_sender(broker, "m")
        send(["src:contact:0:h"])  # the script is loaded as Dramatiq loads it
        client.config_resetstat()
        keys = [f"src:contact:{i}:h" for i in range(1, 41)]
        send(keys[:20])
        consumer = broker.consume(QUEUE, prefetch=PREFETCH, timeout=25)
        first = drain(consumer, 21)
        assert _calls(client, "script|exists") == 0
        assert _calls(client, "evalsha") >= 2  # the sends, fetches and acks, by digest

        client.script_flush()  # as after a restart without persistence of scripts
        send(keys[20:])
        second = drain(consumer, 20)
        consumer.close()
        assert sorted(first + second) == sorted(["src:contact:0:h", *keys])  # each once
        assert client.hlen(f"{broker.namespace}:{QUEUE}.msgs") == 0  # all acknowledged
        assert client.scard(f"{broker.namespace}:__acks__.{broker.broker_id}.{QUEUE}") == 0


def _calls(client: redis.Redis, command: str) -> int:
    """How many times Redis ran ``command`` since its statistics were reset."""
    stats = client.info("commandstats")
    return int(stats.get(f"cmdstat_{command}", {}).get("calls", 0))
