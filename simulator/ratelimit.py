"""Per-token rate limits in fixed 10-second windows, with Intercom's headers."""

from __future__ import annotations

import time

from core.intercom_limits import RATE_WINDOW_SECONDS


class RateLimiter:
    """Counts requests per token in the current 10-second window."""

    WINDOW = RATE_WINDOW_SECONDS

    def __init__(self, per_window: int) -> None:
        self.limit = per_window
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, token: str) -> tuple[bool, list[tuple[bytes, bytes]]]:
        """Count one request: (allowed, X-RateLimit-* headers)."""
        start = int(time.time()) // self.WINDOW * self.WINDOW
        window, count = self._windows.get(token, (start, 0))
        if window != start:
            window, count = start, 0
        count += 1
        self._windows[token] = (window, count)
        allowed = count <= self.limit
        headers = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(max(0, self.limit - count)).encode()),
            (b"x-ratelimit-reset", str(window + self.WINDOW).encode()),
        ]
        return allowed, headers

    def reset(self) -> None:
        """Forget every window."""
        self._windows.clear()
