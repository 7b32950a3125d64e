"""A pytest plugin: a skipped test is reported as failed.

The suite runs against real services; a test that cannot reach one must fail, not quietly
skip. Loaded by ``tests/conftest.py`` for every run.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Iterator[None]:
    """Turn a skip (from any phase) into a failure that says why it was skipped."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]  # a hookwrapper's yield gives pluggy's Result
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped ({reason}), and a test never skips: make it pass or fail"
