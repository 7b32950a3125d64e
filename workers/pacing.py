"""One rate limit shared by every worker process, through Redis (Dramatiq's limiter).

Intercom counts requests per app in 10-second windows and tells the limit in
``X-RateLimit-Limit``. :class:`SharedPacer` keeps all workers together just under it with
Dramatiq's sliding ``WindowRateLimiter`` (any 10 s then holds at most ``limit`` calls, so
no fixed Intercom window can overflow), and still obeys 429s and headers locally.

While Redis cannot be reached (restarting, say), each process paces by Intercom's headers
alone and asks Redis again a second later: a call never fails because the shared budget is
away (429s are retried anyway), and a restarted Redis just starts a fresh window.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping

import redis
from dramatiq.rate_limits import WindowRateLimiter
from dramatiq.rate_limits.backends import RedisBackend

from core.logs import get_logger
from intercom_api.pacing import LocalPacer, RateWindow

log = get_logger(__name__)

WINDOW_SECONDS = 10
#: Share of Intercom's limit the fleet aims for: headroom for clock skew and lookups.
HEADROOM = 0.97
#: Calls of budget a process takes from Redis at once (one round trip, not one per call).
LEASE = 8
#: The most calls of budget a process takes at once (limits above 200 × LEASE per window).
MAX_LEASE = 64
#: Leased budget not used within this long is dropped, so the shared count stays honest.
LEASE_SECONDS = 1.0
#: After Redis failed, pace by the headers alone this long before asking Redis again.
REDIS_RETRY_SECONDS = 1.0


class LeasingWindowLimiter(WindowRateLimiter):
    """Dramatiq's sliding-window limiter, able to take several calls of budget at once."""

    def take(self, amount: int) -> bool:
        """Take ``amount`` calls of budget if the window has room for all of them."""
        keys = self._get_keys()
        return bool(
            self.backend.incr_and_sum(
                keys[0], self._get_keys, amount, maximum=self.limit, ttl=self.window_millis
            )
        )


class SharedPacer:
    """A Pacer (see intercom_api.pacing) whose budget is shared by all workers via Redis.

    ``learn=False`` keeps ``limit`` whatever the answers' headers say: the workspace's
    budget, which no header reports (``X-RateLimit-*`` are per app).
    """

    def __init__(
        self, client: redis.Redis, key: str, *, limit: int | None = None, learn: bool = True
    ) -> None:
        self._learn = learn
        self._backend = RedisBackend(client=client)
        self._key = key
        self._lock = threading.Lock()
        self._fetching = threading.Lock()
        self._limiter: LeasingWindowLimiter | None = None
        self._limit = 0
        self._leased = 0
        self._leased_at = 0.0
        self._local = LocalPacer(low_water=0.0)
        #: Paces this process by the headers alone (spreading the window's last tenth)
        #: while Redis is away.
        self._alone = LocalPacer()
        self._redis_down_until = 0.0
        self._stated = 0
        if limit:
            self._set_limit(limit)

    @property
    def limit(self) -> int | None:
        """The window's limit as Intercom states it (or as given), None until known."""
        return self._stated or None

    def _set_limit(self, limit: int) -> None:
        self._stated = limit
        budget = max(1, int(limit * HEADROOM))
        if budget != self._limit:
            self._limit = budget
            self._limiter = LeasingWindowLimiter(
                self._backend, self._key, limit=budget, window=WINDOW_SECONDS
            )

    def acquire(self) -> None:
        """Block until the shared window has room for one more call."""
        self._local.acquire()  # honours a 429's reset for this process
        limiter = self._limiter
        if limiter is None:  # limit not known yet: the first answers will tell it
            return
        delay = 0.01
        while True:
            with self._lock:
                if self._use_lease():
                    return
                alone = time.monotonic() < self._redis_down_until
            if not alone:
                # One thread at a time asks Redis, under a lock of its own: the others'
                # leased calls (and observe) never wait for a Redis round trip.
                with self._fetching:
                    with self._lock:
                        if self._use_lease():  # another thread fetched a lease meanwhile
                            return
                    try:
                        # near the limit a whole lease may not fit: take one call's worth
                        for amount in (self._lease_size(limiter), 1):
                            if limiter.take(amount):
                                with self._lock:
                                    self._leased = amount - 1
                                    self._leased_at = time.monotonic()
                                    self._redis_back()
                                return
                    except (redis.ConnectionError, redis.TimeoutError) as err:
                        alone = True
                        with self._lock:
                            self._redis_away(err)
            if alone:
                self._alone.acquire()
                return
            time.sleep(delay)
            delay = min(delay * 2, 0.2)

    def _use_lease(self) -> bool:
        """Take one call from this process's lease, if a fresh one is left (under the lock)."""
        if self._leased and time.monotonic() - self._leased_at > LEASE_SECONDS:
            self._leased = 0  # stale: let the window forget it
        if self._leased:
            self._leased -= 1
            return True
        return False

    @staticmethod
    def _lease_size(limiter: LeasingWindowLimiter) -> int:
        """Calls taken from Redis at once: LEASE, or a 200th of a window's budget when that
        is more (up to MAX_LEASE), so a high limit costs fewer round trips."""
        return max(LEASE, min(MAX_LEASE, limiter.limit // 200))

    def _redis_away(self, err: Exception) -> None:
        """Redis failed: pace alone for a while (called under the lock)."""
        if not self._redis_down_until:
            log.warning("pacer.redis_unreachable", error=type(err).__name__, pacing="headers")
        self._redis_down_until = time.monotonic() + REDIS_RETRY_SECONDS

    def _redis_back(self) -> None:
        if self._redis_down_until:
            log.info("pacer.redis_back")
            self._redis_down_until = 0.0

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn the limit from the headers; let the local pacer see 429s."""
        if not self._learn:
            return
        window = RateWindow.of(headers)
        if window.limit and window.limit > 0 and window.limit != self._stated:
            with self._lock:
                self._set_limit(window.limit)
        self._local.observe_window(status, window)
        self._alone.observe_window(status, window)
