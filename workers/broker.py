"""The one factory of the Dramatiq broker (Redis, namespaced by the migration's name), and
how a unit's message is sent to the ``write_unit`` actor.

The broker is Dramatiq's Redis broker doing its round trips in batches (sends, fetches,
acknowledgements). It extends Dramatiq's consumer class and queues Dramatiq's own script
on Redis pipelines, so pyproject.toml bounds Dramatiq's version to the one tested
(``tests/workers/test_batch_fetch.py`` fails if either changes under it)."""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import dramatiq
import redis
from dramatiq.broker import MessageProxy
from dramatiq.brokers.redis import RedisBroker, _RedisConsumer
from dramatiq.common import dq_name, q_name
from dramatiq.errors import ConnectionClosed
from dramatiq.middleware import Retries, ShutdownNotifications
from redis.exceptions import NoScriptError

from core.errors import ServiceUnavailable
from core.settings import Settings, redact_url

QUEUE = "units"
#: A worker that dies (kill -9) has its messages handed to another after this long.
HEARTBEAT_TIMEOUT_MS = 15_000
#: Longest wait of an idle worker between two looks at its delay queue: less than the
#: actor's shortest retry backoff, so a retried message is fetched before it is due.
DELAY_QUEUE_POLL_MS = 250
#: Messages a worker process holds per thread (Dramatiq's default is two). Its consumer
#: fetches as many as the process has threads at a time, so when it fetches, each thread
#: still has about two messages waiting.
PREFETCH_PER_THREAD = 3


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
    """Dramatiq's Redis broker, doing in batches what it does one message at a time: its
    consumers fetch a batch at a time and acknowledge a batch per round trip, and
    :meth:`enqueue_all` sends many messages in one."""

    def __init__(self, **parameters: Any) -> None:
        super().__init__(**parameters)
        self._unsent_acks: dict[str, list[str]] = {}  # queue -> Redis ids of acked messages
        self._acks_lock = threading.Lock()

    @property
    def consumer_class(self) -> type[_RedisConsumer]:
        return BatchFetchingConsumer

    @contextmanager
    def _pipelined(self) -> Iterator[BatchingRedisBroker]:
        """This broker with its script calls queued on one Redis pipeline, sent in one
        round trip when the block ends.

        They go by the script's digest alone: a script registered on a pipeline costs a
        ``SCRIPT EXISTS`` round trip before each batch. A Redis that lost its scripts
        (restarted) refuses those calls (NOSCRIPT) and runs none of them; they are sent
        again one by one, as Dramatiq sends them, which loads the script.
        """
        script = self.scripts["dispatch"]
        queued: list[tuple[Sequence[Any], Sequence[Any]]] = []
        with self.client.pipeline(transaction=False) as pipe:

            def dispatch(keys: Sequence[Any] = (), args: Sequence[Any] = ()) -> None:
                queued.append((keys, args))
                pipe.evalsha(script.sha, len(keys), *keys, *args)

            piped = copy.copy(self)  # shares everything but the script's connection
            piped.scripts = {**self.scripts, "dispatch": dispatch}
            yield piped
            answers = pipe.execute(raise_on_error=False)
        for (keys, args), answer in zip(queued, answers, strict=True):
            if isinstance(answer, NoScriptError):
                script(keys=keys, args=args)
            elif isinstance(answer, Exception):
                raise answer

    def enqueue_all(self, messages: Iterable[dramatiq.Message]) -> None:
        """Enqueue ``messages`` as :meth:`enqueue` does each (the same script, ids and
        middleware hooks), in one round trip to Redis for them all."""
        with self._pipelined() as piped:
            for message in messages:
                piped.enqueue(message)

    def defer_ack(self, queue_name: str, redis_message_id: str) -> None:
        """Note a message of ``queue_name`` as done; :meth:`send_acks` tells Redis."""
        with self._acks_lock:
            self._unsent_acks.setdefault(queue_name, []).append(redis_message_id)

    def send_acks(self, queue_name: str) -> None:
        """Acknowledge on Redis, in one round trip, the messages of ``queue_name`` noted as
        done since the last call. On a connection error they are kept for the next call
        (acknowledging a message twice is harmless)."""
        with self._acks_lock:
            ids = self._unsent_acks.pop(queue_name, [])
        if not ids:
            return
        try:
            with self._pipelined() as piped:
                for redis_message_id in ids:
                    piped.do_ack(queue_name, redis_message_id)
        except redis.ConnectionError:
            with self._acks_lock:
                self._unsent_acks[queue_name] = ids + self._unsent_acks.get(queue_name, [])
            raise


class BatchFetchingConsumer(_RedisConsumer):
    """Dramatiq's Redis consumer, fetching and acknowledging messages in batches.

    Dramatiq's own consumer fetches as soon as one message is acknowledged, and each
    acknowledgement is a call of its own: a busy worker runs two scripts in Redis per
    message, each a round trip and ~0.15 ms of the worker's CPU. This one waits until a
    thread's share of its prefetch (``prefetch // PREFETCH_PER_THREAD``) has been
    acknowledged, then tells Redis of those in one round trip and fetches as many in
    another.

    An acknowledgement reaches Redis within the worker timeout (25 ms), or when the
    consumer closes. A worker killed in between has its last few messages delivered again
    after the heartbeat timeout, as Dramatiq does for the messages it was running: a unit
    whose writes are all settled writes nothing.

    An idle queue is polled as before (Dramatiq's backoff, up to its worker timeout), but
    the delay queue (retries, which wait half a second or more) only every
    ``DELAY_QUEUE_POLL_MS``: it is idle most of a run, and its polls were most of the
    fetches a run made.
    """

    broker: BatchingRedisBroker

    def __init__(
        self, broker: BatchingRedisBroker, queue_name: str, prefetch: int, timeout: int
    ) -> None:
        if queue_name == dq_name(q_name(queue_name)):
            timeout = max(timeout, DELAY_QUEUE_POLL_MS)
        super().__init__(broker, queue_name, prefetch, timeout)
        self.batch = max(1, prefetch // PREFETCH_PER_THREAD)
        self._room = threading.Event()

    def room(self) -> int:
        """How many messages may be fetched now."""
        return self.prefetch - self.outstanding_message_count

    def ack(self, message: MessageProxy) -> None:
        # On the queue consumed (a delayed message's differs from its own, as in Dramatiq).
        self.broker.defer_ack(self.queue_name, message.options["redis_message_id"])
        self.queued_message_ids.discard(message.message_id)
        self._note_room()

    def nack(self, message: MessageProxy) -> None:
        try:
            super().nack(message)
        finally:
            self._note_room()

    def _note_room(self) -> None:
        if self.room() >= self.batch:
            self._room.set()

    def _send_acks(self) -> None:
        try:
            self.broker.send_acks(self.queue_name)
        except redis.ConnectionError as err:
            raise ConnectionClosed(err) from None

    def __next__(self) -> MessageProxy | None:
        if not self.message_cache:
            self._send_acks()
            if self.room() < self.batch:
                self._room.clear()
                if self.room() < self.batch:  # an ack between the test and the clear sets it
                    self._room.wait(self.timeout / 1000)
                    return None
        return super().__next__()

    def close(self) -> None:
        try:
            self._send_acks()
        finally:
            super().close()


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
