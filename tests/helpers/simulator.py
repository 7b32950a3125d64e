"""The simulator as the tests run it: :func:`simulator_with` and what goes with it.

The session's ``sim`` fixture (``tests/conftest.py``) is ``simulator_with()``: token
:data:`TOKEN`, unthrottled. A test that needs other limits, tokens, faults or options opens
its own::

    with simulator_with(rate_limit=5) as small, small.client() as api:
        ...
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from intercom_api.base import RetryPolicy
from simulator.testing import SimulatorHandle, running_simulator

#: The token of the session's simulator (and the one settings of a test migration carry).
TOKEN = "e2e-token-0123456789"
#: A rate limit no test reaches: the simulator never answers 429 unless a test asks.
UNTHROTTLED = 1_000_000
#: Quick client retries so fault tests stay fast; the policy's shape is the production one.
QUICK = RetryPolicy(
    attempts=6, rate_limited_attempts=30, backoff_initial=0.02, backoff_max=0.2, jitter=0.05
)


@contextmanager
def simulator_with(
    token: str | Sequence[str] = TOKEN, *, rate_limit: int = UNTHROTTLED, **options: Any
) -> Iterator[SimulatorHandle]:
    """A simulator of its own over real HTTP, stopped on leaving: ``token`` (or one app per
    token), ``rate_limit`` per window, and any other option of ``running_simulator``
    (``workspace_rate_limit``, ``faults``, ``state_file``, ``validate``, ``max_body_bytes``,
    ``allowed_hosts``)."""
    with running_simulator(token, rate_limit=rate_limit, **options) as handle:
        yield handle


def error_code(response: httpx.Response) -> str:
    """The code of the first error of an Intercom error envelope (asserting its shape)."""
    body = response.json()
    assert body["type"] == "error.list"
    return body["errors"][0]["code"]
