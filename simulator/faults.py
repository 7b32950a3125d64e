"""Injected faults: 429s, 5xx, latency, timeouts and lost responses, drawn at random by rate.

A *lost response* applies the write, then the client gets a 502 (or, in ``drop`` mode, a
connection closed mid-answer) instead of the answer: exactly the in-doubt case the
migration must resolve. A *timeout* applies the request, then waits ``timeout_ms`` before
answering, longer than a client waits. A *429 storm* (``storm_seconds``) refuses every call
with 429 for that many seconds from the moment the settings are posted (``X-RateLimit-Reset``
says when it ends). Faults never touch ``/_sim/*``; ``only`` narrows them (latency included)
to some operations, e.g. lost responses on ``POST /tags`` alone.
"""

from __future__ import annotations

import random
import time
from dataclasses import asdict, dataclass, fields
from typing import Any, Literal

RateField = Literal["rate_429", "rate_5xx", "rate_timeout", "rate_lost_response"]
RATE_FIELDS: tuple[RateField, ...] = ("rate_429", "rate_5xx", "rate_timeout", "rate_lost_response")
LostMode = Literal["mixed", "502", "drop"]


class FaultSpecError(ValueError):
    """A ``--faults`` spec or ``/_sim/faults`` body that cannot be used."""


@dataclass(frozen=True)
class FaultConfig:
    """Fault rates (0..1 per request), latency and timeout length, and the RNG seed."""

    rate_429: float = 0.0
    rate_5xx: float = 0.0
    rate_timeout: float = 0.0
    rate_lost_response: float = 0.0
    latency_ms: int = 0
    timeout_ms: int = 30000
    lost_response_mode: LostMode = "mixed"
    seed: int | None = None
    storm_seconds: float = 0.0
    #: Operations (``"POST /tags"``: route templates, as in the stats) the latency and the
    #: rates apply to; empty: every Intercom operation.
    only: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in RATE_FIELDS:
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise FaultSpecError(f"{name} must be between 0 and 1, got {value}")
        if self.latency_ms < 0 or self.timeout_ms < 0 or self.storm_seconds < 0:
            raise FaultSpecError("latency_ms, timeout_ms and storm_seconds must not be negative")
        if self.lost_response_mode not in ("mixed", "502", "drop"):
            raise FaultSpecError("lost_response_mode must be mixed, 502 or drop")

    def covers(self, operation: str) -> bool:
        """Whether latency and faults apply to this operation (its route key)."""
        return not self.only or operation in self.only

    @property
    def active(self) -> bool:
        """Whether any fault or latency can happen."""
        return (
            self.latency_ms > 0
            or self.storm_seconds > 0
            or any(getattr(self, n) > 0 for n in RATE_FIELDS)
        )

    def to_dict(self) -> dict[str, Any]:
        """The config as JSON-ready values."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultConfig:
        """Build from JSON (unknown keys and bad types raise :class:`FaultSpecError`)."""
        known = {f.name: f for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for key, value in data.items():
            if key not in known:
                raise FaultSpecError(f"unknown fault setting {key!r}")
            try:
                if key in (*RATE_FIELDS, "storm_seconds"):
                    kwargs[key] = float(value)
                elif key in ("latency_ms", "timeout_ms"):
                    kwargs[key] = int(value)
                elif key == "seed":
                    kwargs[key] = None if value is None else int(value)
                elif key == "only":
                    kwargs[key] = _operations(value)
                else:
                    kwargs[key] = str(value)
            except (TypeError, ValueError) as exc:
                raise FaultSpecError(f"bad value for {key}: {value!r}") from exc
        return cls(**kwargs)

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """Parse ``'rate_429=0.02,rate_5xx=0.02,latency_ms=0'`` (empty -> no faults)."""
        if not spec or not spec.strip():
            return cls()
        data: dict[str, str] = {}
        for item in spec.split(","):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            if not sep:
                raise FaultSpecError(f"expected key=value in --faults, got {item!r}")
            data[key.strip()] = value.strip()
        return cls.from_dict(data)


def _operations(value: Any) -> tuple[str, ...]:
    """``only`` as a tuple: a JSON list, or one string separated by ``|`` (``--faults``)."""
    items = value.split("|") if isinstance(value, str) else list(value or ())
    return tuple(" ".join(str(i).split()) for i in items if str(i).strip())


Decision = Literal["none", RateField]


class FaultInjector:
    """Draws the fault for each request from a seeded RNG."""

    def __init__(self, config: FaultConfig) -> None:
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Switch to ``config`` (and reseed); a storm starts now."""
        self.config = config
        self.rng = random.Random(config.seed)
        self.storm_until = time.time() + config.storm_seconds if config.storm_seconds else 0.0

    def storm_left(self) -> float:
        """Seconds left of the current 429 storm (0 when there is none)."""
        return max(0.0, self.storm_until - time.time()) if self.storm_until else 0.0

    def draw(self, operation: str = "") -> Decision:
        """The fault for the next request (``operation``: its route key), or ``"none"``."""
        cfg = self.config
        if not cfg.covers(operation):
            return "none"
        for name in RATE_FIELDS:
            rate = getattr(cfg, name)
            if rate > 0 and self.rng.random() < rate:
                return name
        return "none"

    def drop_connection(self) -> bool:
        """For a lost response: close the connection (True) or answer 502 (False)."""
        mode = self.config.lost_response_mode
        if mode == "mixed":
            return self.rng.random() < 0.5
        return mode == "drop"
