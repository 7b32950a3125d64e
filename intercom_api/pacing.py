"""Pacing: keep a client (or a fleet of workers) under Intercom's rate-limit window.

Intercom splits its per-minute limit into 10-second windows and reports the window on every
answer (docs/intercom-client.md, "Intercom's limits"): ``X-RateLimit-Limit``,
``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix seconds). A :class:`Pacer` is
asked before every request (:meth:`Pacer.acquire`) and told about every answer
(:meth:`Pacer.observe`).

:class:`LocalPacer` is the process-local default, shared by the threads of one process. A
pacer shared by all workers (through Redis) only has to implement the same two methods.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import NamedTuple, Protocol, runtime_checkable

from core.intercom_limits import RATE_WINDOW_SECONDS

#: Intercom's window; a reset further away than this (clock skew) is not believed.
WINDOW_SECONDS = float(RATE_WINDOW_SECONDS)


@runtime_checkable
class Pacer(Protocol):
    """Decides when the next request may be sent."""

    def acquire(self) -> None:
        """Block until one more request may be sent."""

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Learn from an answer's status and ``X-RateLimit-*`` headers."""


class NullPacer:
    """A pacer that never waits (benchmarks, or when something else paces)."""

    def acquire(self) -> None:
        """Return at once."""

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Ignore the answer."""


def _int(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(float(value)) if value is not None else None
    except (ValueError, OverflowError):  # not a number, or "inf"
        return None


class RateWindow(NamedTuple):
    """An answer's ``X-RateLimit-*`` headers as numbers (None where absent or unreadable)."""

    limit: int | None
    remaining: int | None
    reset: int | None

    @classmethod
    def of(cls, headers: Mapping[str, str]) -> RateWindow:
        """The window an answer's headers state."""
        return cls(
            _int(headers, "x-ratelimit-limit"),
            _int(headers, "x-ratelimit-remaining"),
            _int(headers, "x-ratelimit-reset"),
        )


class LocalPacer:
    """Thread-safe pacer for one process, driven by the ``X-RateLimit-*`` headers.

    While plenty of the window remains, requests go at once. When ``remaining`` falls to
    ``low_water`` (a fraction of the limit), the rest of the window's requests are spread
    evenly until ``reset``; at zero, or after a 429, everyone waits for the reset plus a
    little jitter so that waiting clients do not all return in the same millisecond.
    """

    def __init__(
        self,
        *,
        low_water: float = 0.1,
        jitter: float = 0.25,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._low_water = low_water
        self._jitter = jitter
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._limit: int | None = None
        self._remaining: int | None = None
        self._reset_at = 0.0
        self._blocked_until = 0.0
        self._next_slot = 0.0

    def _until_reset(self, now: float) -> float:
        return min(max(self._reset_at - now, 0.0), WINDOW_SECONDS)

    def acquire(self) -> None:
        """Block until one more request fits in the window."""
        with self._lock:
            now = self._clock()
            start = max(now, self._blocked_until, self._next_slot)
            if self._remaining is not None and now < self._reset_at:
                if self._remaining <= 0:
                    start = max(start, now + self._until_reset(now) + self._jitter_s())
                    self._blocked_until = start  # everyone after us waits for the reset too
                elif self._remaining <= self._low_threshold():
                    spacing = self._until_reset(now) / (self._remaining + 1)
                    start = max(start, self._next_slot + spacing, now)
                    self._next_slot = start
                if self._remaining is not None:
                    self._remaining -= 1  # reserve a slot before the answer tells us
            wait = start - now
        if wait > 0:
            self._sleep(wait)

    def observe(self, status: int, headers: Mapping[str, str]) -> None:
        """Update the window from an answer; on 429 block everyone until the reset."""
        self.observe_window(status, RateWindow.of(headers))

    def observe_window(self, status: int, window: RateWindow) -> None:
        """:meth:`observe` with the headers already read (several pacers see one answer)."""
        limit, remaining, reset = window
        with self._lock:
            now = self._clock()
            if limit is not None:
                self._limit = limit
            if reset is not None:
                if reset > self._reset_at + 0.5:  # a new window: forget the old spacing
                    self._next_slot = 0.0
                self._reset_at = float(reset)
            if remaining is not None:
                self._remaining = remaining
            if status == 429:
                wait = self._until_reset(now) if reset is not None else 1.0
                self._blocked_until = max(self._blocked_until, now + wait + self._jitter_s())
                self._remaining = None

    def _low_threshold(self) -> int:
        return max(1, int((self._limit or 0) * self._low_water))

    def _jitter_s(self) -> float:
        return random.uniform(0.0, self._jitter) if self._jitter else 0.0
