"""The one factory of the Dramatiq broker (Redis, namespaced by the migration's name), and
how a unit's message is sent to the ``write_unit`` actor."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AgeLimit, Callbacks, Pipelines, Retries, ShutdownNotifications

from core.errors import ServiceUnavailable
from core.settings import Settings, redact_url

QUEUE = "units"
#: A worker that dies (kill -9) has its messages handed to another after this long.
HEARTBEAT_TIMEOUT_MS = 15_000


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


def make_broker(settings: Settings) -> RedisBroker:
    """The Redis broker for this migration, with the middleware the actors rely on."""
    broker = RedisBroker(
        client=redis_client(settings),
        namespace=namespace(settings.migration),
        heartbeat_timeout=HEARTBEAT_TIMEOUT_MS,
        middleware=[AgeLimit(), ShutdownNotifications(), Callbacks(), Pipelines(), Retries()],
    )
    return broker


def unit_sender(broker: Any, migration: str) -> Callable[[str], None]:
    """A function that sends one unit's message (migration, key) on this broker."""
    broker.declare_queue(QUEUE)

    def send(key: str) -> None:
        broker.enqueue(
            dramatiq.Message(
                queue_name=QUEUE,
                actor_name="write_unit",
                args=(migration, key),
                kwargs={},
                options={},
            )
        )

    return send
