"""Inventory fixtures: the small help desk of the rollback tests."""

from tests.rollback.conftest import small_source  # noqa: F401
