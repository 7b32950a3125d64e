"""Counters behind ``GET /_sim/stats``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Stats:
    """Requests by operation and status, 429s, faults injected, notifications sent."""

    requests: dict[str, dict[int, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )
    rate_limited: int = 0
    faults_injected: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    notifications_sent: int = 0
    total: int = 0
    #: 429s answered because the workspace's window (every app together) was spent
    workspace_rate_limited: int = 0

    def count(self, key: str, status: int) -> None:
        """Record one answer."""
        self.total += 1
        self.requests[key][status] += 1
        if status == 429:
            self.rate_limited += 1

    def to_dict(self) -> dict[str, Any]:
        """JSON shape: ``{"requests": {"GET /me": {"200": n}}, ...}``."""
        return {
            "requests_total": self.total,
            "requests": {
                key: {str(status): n for status, n in sorted(by_status.items())}
                for key, by_status in sorted(self.requests.items())
            },
            "rate_limited": self.rate_limited,
            "faults_injected": {
                name: self.faults_injected.get(name, 0)
                for name in (
                    "rate_429",
                    "rate_5xx",
                    "rate_timeout",
                    "rate_lost_response",
                    "storm_429",
                )
            },
            "notifications_sent": self.notifications_sent,
        }
