"""The one factory of the Dramatiq broker (Redis, namespaced by the migration's name), and
how a unit's message is sent to the ``write_unit`` actor."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from functools import partial

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name, q_name
from dramatiq.middleware import Retries, ShutdownNotifications

from core.errors import ServiceUnavailable
from core.settings import Settings, redact_url

QUEUE = "units"
#: A worker that dies (kill -9) has its messages handed to another after this long.
HEARTBEAT_TIMEOUT_MS = 15_000
#: Longest wait of an idle worker between two looks at its delay queue: less than the
#: actor's shortest retry backoff, so a retried message is fetched before it is due.
DELAY_QUEUE_POLL_MS = 250


def namespace(migration: str) -> str:
    """Redis namespace of one migration's queues, so two migrations never mix."""
    return "h2i-" + re.sub(r"[^A-Za-z0-9_.-]", "_", migration)


def redis_client(settings: Settings) -> redis.Redis:
    """A Redis client on H2I_REDIS_URL, checked reachable (ServiceUnavailable if not)."""
    client = redis.Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError:
        raise ServiceUnavailable(
            f"cannot reach Redis at {redact_url(settings.redis_url)}",
            hint="start Redis or fix H2I_REDIS_URL",
        ) from None
    return client


def make_broker(settings: Settings) -> BatchingRedisBroker:
    """The Redis broker for this migration, with the middleware the actors rely on.

    Only those: every middleware's hooks run around every message, and the actors use no
    age limit, callbacks or pipelines.
    """
    return BatchingRedisBroker(
        client=redis_client(settings),
        namespace=namespace(settings.migration),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        middleware=[ShutdownNotifications(), Retries()],
    )


class BatchingRedisBroker(RedisBroker):
    """Dramatiq's Redis broker whose consumers fetch messages a batch at a time, and which
    can enqueue many messages in one round trip."""

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return BatchFetchingConsumer

    def enqueue_all(self, messages: Iterable[dramatiq.Message]) -> None:
        """Enqueue ``messages`` as :meth:`enqueue` does each (the same script, ids and
        middleware hooks), in one pipeline: one round trip to Redis for them all."""
        with self.client.pipeline(transaction=False) as pipe:
            piped = copy.copy(self)  # shares everything but the script's connection
            piped.scripts = {
                **self.scripts,
                "dispatch": partial(self.scripts["dispatch"], client=pipe),
            }
            for message in messages:
                piped.enqueue(message)
            pipe.execute()


class BatchFetchingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, fetching only once a third of its prefetch is free.

    Dramatiq's own fetches as soon as one message is acknowledged, so a busy worker calls
    Redis's fetch script once per message (a round trip, ~0.15 ms of the worker's CPU and
    the script's run in Redis). This one waits until ``prefetch // 3`` messages have been
    acknowledged, then fetches them in one call; with the worker command's prefetch of
    three per thread, a thread still finds two messages waiting for it when a fetch starts.
    An idle queue is polled as before (Dramatiq's backoff, up to its worker timeout), but
    the delay queue (retries, which wait half a second or more) only every
    ``DELAY_QUEUE_POLL_MS``: it is idle most of a run, and its polls were most of the
    fetches a run made.
    """

    def __init__(self, broker: RedisBroker, queue_name: str, prefetch: int, timeout: int):
        if queue_name == dq_name(q_name(queue_name)):
            timeout = max(timeout, DELAY_QUEUE_POLL_MS)
        super().__init__(broker, queue_name, prefetch, timeout)
        self.batch = max(1, prefetch // 3)
        self._room = threading.Event()

    def room(self) -> int:
        """How many messages may be fetched now."""
        return self.prefetch - self.outstanding_message_count

    def ack(self, message: MessageProxy) -> None:
        try:
            super().ack(message)
        finally:
            self._note_room()

    def nack(self, message: MessageProxy) -> None:
        try:
            super().nack(message)
        finally:
            self._note_room()

    def _note_room(self) -> None:
        if self.room() >= self.batch:
            self._room.set()

    def __next__(self) -> MessageProxy | None:
        if not self.message_cache and self.room() < self.batch:
            self._room.clear()
            if self.room() < self.batch:  # an ack between the test and the clear sets it
                self._room.wait(self.timeout / 1000)
                return None
        return super().__next__()


#: Messages sent per round trip to Redis (a phase's units are sent together).
SEND_BATCH = 500


def unit_sender(broker: BatchingRedisBroker, migration: str) -> Callable[[Sequence[str]], None]:
    """A function that sends units' messages ``(migration, key)`` on this broker, up to
    SEND_BATCH of them per round trip."""
    broker.declare_queue(QUEUE)

    def send(keys: Sequence[str]) -> None:
        for start in range(0, len(keys), SEND_BATCH):
            broker.enqueue_all(
                dramatiq.Message(
                    queue_name=QUEUE,
                    actor_name="write_unit",
                    args=(migration, key),
                    kwargs={},
                    options={},
                )
                for key in keys[start : start + SEND_BATCH]
            )

    return send
