"""Fixtures for report tests: the real simulator over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from simulator.testing import running_simulator

SIM_TOKEN = "reports-sim-token-4Kq"



@pytest.fixture(scope="session")
def sim() -> Iterator[Any]:
    """The real simulator over HTTP, for the session."""
    with running_simulator(token=SIM_TOKEN) as handle:
        yield handle
